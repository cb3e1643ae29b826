'use strict';
// Test-only node types, loaded by the test helper and (copied into the user dir's nodes/) by a real
// Node-RED process, so a fault suite observes both layouts the same way:
// - test-recorder: keeps every msg it receives (with the receiving node's id) in a process-wide list;
// - test-broken-subscriber: a config node whose verificationSettings() throws, to drive the webhook's
//   "unexpected error" path (500 + node.error) with real nodes.
const RECORDS = Symbol.for('print-events.test.recorded-msgs');

function recorded() {
    if (!globalThis[RECORDS]) { globalThis[RECORDS] = []; }
    return globalThis[RECORDS];
}

module.exports = function (RED) {
    function TestRecorder(config) {
        RED.nodes.createNode(this, config);
        this.on('input', (msg, _send, done) => {
            // A JSON copy: what the flow saw at this point, unaffected by later changes.
            recorded().push({ node: this.id, msg: JSON.parse(JSON.stringify(msg)) });
            done();
        });
    }
    RED.nodes.registerType('test-recorder', TestRecorder);

    function TestBrokenSubscriber(config) {
        RED.nodes.createNode(this, config);
        this.verificationSettings = () => { throw new Error('settings store unavailable'); };
    }
    RED.nodes.registerType('test-broken-subscriber', TestBrokenSubscriber);
};
module.exports.recorded = recorded;
