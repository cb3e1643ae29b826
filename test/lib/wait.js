'use strict';
// Polling helpers of the node tests: they wait for a condition, never for a fixed time.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `predicate` (sync or async) every `intervalMs` until it returns a truthy value; after `timeoutMs`
 * throws "timed out waiting for <what>", followed by `detail()` when given (e.g. the last log lines).
 */
async function waitFor(predicate, what, timeoutMs = 5000, { intervalMs = 10, detail } = {}) {
    const start = Date.now();
    while (!(await predicate())) {
        if (Date.now() - start > timeoutMs) { throw new Error('timed out waiting for ' + what + (detail ? '\n' + detail() : '')); }
        await sleep(intervalMs);
    }
}

module.exports = { sleep, waitFor };
