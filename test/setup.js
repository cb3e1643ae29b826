'use strict';
// Root hooks shared by every test file.
// An unhandled promise rejection would stop a real Node-RED runtime, so one
// that happens anywhere during the suite fails the test that was running.
const runtime = require('./lib/runtime');

// Say which Node.js and Node-RED this run uses (and fail at once if .ci/run expected others).
console.log(runtime.describeRuntime());
runtime.checkExpected({ nodeRedVersion: runtime.nodeRedPackage().version });
runtime.checkPartsMatch();

const unhandled = [];
function onUnhandled(reason) { unhandled.push(reason); }

exports.mochaHooks = {
    beforeAll() { process.on('unhandledRejection', onUnhandled); },
    afterEach() {
        if (unhandled.length > 0) {
            const reasons = unhandled.splice(0).map((r) => (r && r.stack) || String(r));
            throw new Error('unhandled promise rejection during test:\n' + reasons.join('\n'));
        }
    },
    afterAll() { process.removeListener('unhandledRejection', onUnhandled); }
};
