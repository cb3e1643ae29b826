'use strict';
// Counting the process's open sockets, servers, timers and look-ups, so a suite can prove it left none behind.
const assert = require('assert');
const { waitFor } = require('./wait');

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'GetAddrInfoReqWrap', 'TTYWrap'];

function activeResources() {
    const counts = {};
    for (const type of process.getActiveResourcesInfo()) { counts[type] = (counts[type] || 0) + 1; }
    return counts;
}

/** Waits (bounded, 5 s) until nothing watched is open beyond the `before` counts, else fails. */
async function assertNoNewResources(before) {
    let extra = [];
    const none = () => {
        const now = activeResources();
        extra = WATCHED.filter((t) => (now[t] || 0) > (before[t] || 0)).map((t) => `${t}: ${before[t] || 0} -> ${now[t]}`);
        return extra.length === 0;
    };
    await waitFor(none, 'the suite to close what it opened', 5000, { intervalMs: 100 })
        .catch(() => assert.fail('resources left open by the suite: ' + extra.join(', ')));
}

/**
 * Mocha hooks of a suite on the test helper's server: the resources open before it starts, and after it stops (and
 * `afterStop`, the suite's own checks) none beyond them.
 */
function helperServerLeavesNothing(helper, afterStop = async () => {}) {
    let counts;
    before(async function () {
        await null; // mocha's hook timer is counted on both sides
        counts = activeResources();
        await helper.startServer();
    });
    after(async function () {
        await helper.stopServer();
        await afterStop();
        await assertNoNewResources(counts);
    });
}

module.exports = { activeResources, assertNoNewResources, helperServerLeavesNothing };
