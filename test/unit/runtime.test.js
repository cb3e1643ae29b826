'use strict';
// test/lib/runtime.js decides whether a CI leg ran on the Node.js and Node-RED it was meant to.
const assert = require('assert');
const { versionMatches, checkExpected, checkPartsMatch, nodeRedPackage, describeRuntime } = require('../lib/runtime');

describe('test runtime report (which Node.js and Node-RED the tests run on)', function () {
    it('matches a version against a major or major.minor prefix, with or without "v" and pre-release suffixes', function () {
        assert.ok(versionMatches('v24.21.0', '24'));
        assert.ok(versionMatches('5.0.7', '5.0'));
        assert.ok(versionMatches('4.1.15-git', '4.1'));
        assert.ok(versionMatches('v20.20.2', 'v20'));
        assert.ok(!versionMatches('4.1.15', '5.0'));
        assert.ok(!versionMatches('5.10.0', '5.1'));
        assert.ok(!versionMatches('v2.0.0', '20'));
    });

    it('fails only when an expected version is set and differs', function () {
        assert.doesNotThrow(() => checkExpected({ nodeVersion: 'v20.1.0', nodeRedVersion: '4.1.8' }, {}));
        assert.doesNotThrow(() => checkExpected({ nodeVersion: 'v24.21.0', nodeRedVersion: '5.0.7' },
            { PRINT_EVENTS_EXPECT_NODE: '24', PRINT_EVENTS_EXPECT_NODE_RED: '5.0' }));
        assert.throws(() => checkExpected({ nodeVersion: 'v20.1.0', nodeRedVersion: '5.0.7' },
            { PRINT_EVENTS_EXPECT_NODE: '24', PRINT_EVENTS_EXPECT_NODE_RED: '5.0' }), /Node\.js v20\.1\.0 \(expected 24\.x\)/);
        assert.throws(() => checkExpected({ nodeVersion: 'v24.21.0', nodeRedVersion: '4.1.8' },
            { PRINT_EVENTS_EXPECT_NODE_RED: '5.0' }), /Node-RED 4\.1\.8 \(expected 5\.0\.x\)/);
    });

    it('finds the @node-red/* parts the tests load directly to be the same release as node-red', function () {
        assert.doesNotThrow(() => checkPartsMatch());
        assert.throws(() => checkPartsMatch('0.0.1'), /mixed Node-RED install: node-red 0\.0\.1 but @node-red\/runtime/);
    });

    it('reports the Node-RED that require("node-red") resolves to, and this process\'s Node.js', function () {
        const nr = nodeRedPackage();
        assert.strictEqual(nr.version, require(require.resolve('node-red/package.json')).version);
        assert.match(nr.version, /^\d+\.\d+\.\d+/);
        const line = describeRuntime();
        assert.ok(line.includes(`Node.js ${process.version}`) && line.includes(`Node-RED ${nr.version}`), line);
    });
});
