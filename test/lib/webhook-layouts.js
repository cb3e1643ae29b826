'use strict';
// The two runtimes a webhook test can run in, with one interface, so a suite runs unchanged in both:
// - the test helper's runtime, RED.httpNode served on a loopback server of its own;
// - a real Node-RED process wired like red.js (editor and HTTP nodes both on '/').
// start({ flows, credentials, settings }) resolves to { port, msgs(), statuses(id), logLines(), alive(), stop() };
// msgs() are { node, msg } as seen by test-recorder nodes (test/lib/fault-nodes.js).
const http = require('http');
const path = require('path');
const helper = require('node-red-node-test-helper');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const webhookNode = require('../../dist/nodes/durst-webhook-in/durst-webhook-in.js');
const faultNodes = require('./fault-nodes');
// Node-RED's own Catch node, so a flow can show what node.error(err, msg) hands to it.
const catchNode = require(require.resolve('@node-red/nodes/core/common/25-catch.js', { paths: [path.dirname(require.resolve('node-red'))] }));
const { startStockNodeRed } = require('./stock-node-red');

helper.init(require.resolve('node-red'));

const WEBHOOK_LAYOUTS = [
    {
        name: 'test helper (RED.httpNode served on its own)',
        async start({ flows, credentials = {}, settings = {} }) {
            faultNodes.recorded().length = 0;
            helper.settings(settings);
            await helper.startServer();
            let RED;
            // The helper gives node modules an httpNode app of its own; capture it to serve it on a real socket.
            const captureRed = (red) => { RED = red; };
            await helper.load([captureRed, subscriberNode, webhookNode, faultNodes, catchNode], flows, credentials);
            const server = http.createServer((req, res) => RED.httpNode(req, res, () => { res.statusCode = 404; res.end(); }));
            await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
            const statusCalls = (id) => { const node = helper.getNode(id); return node.status.getCalls().filter((c) => c.thisValue === node); };
            return {
                port: server.address().port,
                msgs: async () => faultNodes.recorded(),
                statuses: async (id) => statusCalls(id).map((c) => c.args[0]),
                logLines: async () => helper.log().getCalls().map((c) => JSON.stringify(c.args)),
                alive: async () => true,
                async stop() {
                    await helper.unload();
                    server.closeAllConnections();
                    await new Promise((resolve) => server.close(resolve));
                    await helper.stopServer();
                    helper.settings({});
                    faultNodes.recorded().length = 0;
                }
            };
        }
    },
    {
        name: 'real Node-RED process wired like red.js (editor and HTTP nodes both on "/")',
        async start({ flows, credentials = {}, settings = {} }) {
            const nodeRed = await startStockNodeRed({ flows, credentials, settings });
            return {
                port: nodeRed.port,
                msgs: async () => (await nodeRed.state()).msgs,
                statuses: async (id) => (await nodeRed.state()).statuses.filter((s) => s.id === id).map((s) => s.status),
                logLines: async () => (await nodeRed.state()).logs.map((l) => JSON.stringify(l)),
                alive: async () => nodeRed.alive(),
                stop: () => nodeRed.stop()
            };
        }
    }
];

module.exports = { WEBHOOK_LAYOUTS };
