'use strict';
// Counting the process's open sockets, servers, timers and look-ups, so a suite can prove it left none behind.
const assert = require('assert');

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'GetAddrInfoReqWrap', 'TTYWrap'];

function activeResources() {
    const counts = {};
    for (const type of process.getActiveResourcesInfo()) { counts[type] = (counts[type] || 0) + 1; }
    return counts;
}

/** Waits (bounded, 5 s) until nothing watched is open beyond the `before` counts, else fails. */
async function assertNoNewResources(before) {
    let extra = [];
    for (let i = 0; i < 50; i++) {
        const now = activeResources();
        extra = WATCHED.filter((t) => (now[t] || 0) > (before[t] || 0)).map((t) => `${t}: ${before[t] || 0} -> ${now[t]}`);
        if (extra.length === 0) { return; }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail('resources left open by the suite: ' + extra.join(', '));
}

module.exports = { activeResources, assertNoNewResources };
