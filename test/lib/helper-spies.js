'use strict';
// What a node in node-red-node-test-helper received and showed: msgs at a helper node, statuses of a node.

/** Collects the msgs arriving at helper node `id` (an array that fills as they come). */
function collect(helper, id) {
    const msgs = [];
    helper.getNode(id).on('input', (msg) => msgs.push(msg));
    return msgs;
}

/** Every status node `id` has shown so far (the helper spies on the shared Node prototype). */
function statuses(helper, id) {
    const node = helper.getNode(id);
    return node.status.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0]);
}

module.exports = { collect, statuses };
