'use strict';
// helper.setFlows() that waits up to 10 s for the flows to start. The test helper gives 'flows:started' 300 ms and
// listens for it only after the runtime's setFlows has resolved, so on a loaded CI machine a slow start (or one that
// ends before its listener is there) failed a deploy that had worked ("timeout waiting event").
const FLOWS_STARTED_TIMEOUT_MS = 10000;

async function setFlows(helper, flow, type, credentials) {
    const events = helper._events; // the runtime's event bus, the one the helper itself listens on
    let onStarted;
    let timer;
    const started = new Promise((resolve, reject) => {
        onStarted = () => { clearTimeout(timer); events.off('flows:started', onStarted); resolve(); };
        timer = setTimeout(() => {
            events.off('flows:started', onStarted);
            reject(new Error(`the flows did not start within ${FLOWS_STARTED_TIMEOUT_MS} ms of a deploy`));
        }, FLOWS_STARTED_TIMEOUT_MS);
        events.on('flows:started', onStarted);
    });
    try {
        await helper.setFlows(flow, type, credentials);
    } catch (err) {
        if (!/timeout waiting event/.test(err && err.message)) {
            clearTimeout(timer);
            events.off('flows:started', onStarted);
            throw err;
        }
    }
    await started;
}

module.exports = { setFlows };
