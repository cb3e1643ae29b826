'use strict';
// Waiting helpers of the tests: waitFor polls for a condition; sleep only where a duration is the behaviour under test
// (a window in which nothing may happen, a backoff, a throttle), with a comment saying so.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `predicate` (sync or async) every `intervalMs` until it returns a truthy value, and resolves that value; after
 * `timeoutMs` throws "timed out waiting for <what>", followed by `detail()` when given (e.g. the last log lines).
 */
async function waitFor(predicate, what, timeoutMs = 5000, { intervalMs = 10, detail } = {}) {
    const start = Date.now();
    for (;;) {
        const value = await predicate();
        if (value) { return value; }
        if (Date.now() - start > timeoutMs) { throw new Error('timed out waiting for ' + what + (detail ? '\n' + detail() : '')); }
        await sleep(intervalMs);
    }
}

module.exports = { sleep, waitFor };
