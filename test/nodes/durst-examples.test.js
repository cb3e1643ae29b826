'use strict';
// The two Durst example flows run as shipped (debug nodes swapped for helper nodes) against the simulator:
// registration, ensured subscriptions, callbacks routed by status, and the management injects.
const fs = require('fs');
const path = require('path');
const http = require('http');
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const subscriptionNode = require('../../dist/nodes/durst-subscription/durst-subscription.js');
const webhookNode = require('../../dist/nodes/durst-webhook-in/durst-webhook-in.js');
const switchNode = require('@node-red/nodes/core/function/10-switch.js');
const injectNode = require('@node-red/nodes/core/common/20-inject.js');
const commentNode = require('@node-red/nodes/core/common/90-comment.js');
const { DurstSimulator, DURST_SIM_LOGIN } = require('../../dist/simulators/durst');
const { waitFor: waitUntil } = require('../lib/wait');

helper.init(require.resolve('node-red'));
const waitFor = (predicate, what, timeoutMs = 3000) => waitUntil(predicate, what, timeoutMs);

function loadExamples() {
    const flows = [];
    const ids = new Set();
    for (const file of ['03-durst-production-job-status.json', '04-durst-subscription-management.json']) {
        for (const n of JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', file), 'utf8'))) {
            if (ids.has(n.id)) { continue; }
            ids.add(n.id);
            flows.push(n);
        }
    }
    return flows;
}

describe('durst example flows', function () {
    this.timeout(10000);
    let sim;
    let RED;
    let server;

    beforeEach(async function () {
        server = http.createServer((req, res) => RED.httpNode(req, res, () => { res.statusCode = 404; res.end(); }));
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
        // The examples leave hostUri empty: the subscriber takes this runtime's own port (uiPort) and httpNodeRoot.
        helper.settings({ durstApiRetryDelay: 5, uiPort: server.address().port, httpNodeRoot: '/' });
        await helper.startServer();
        sim = new DurstSimulator(); // with its default login, as print-events-simulators serves the examples
        await sim.start();
    });

    afterEach(async function () {
        await helper.unload();
        await sim.stop();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await helper.stopServer();
        helper.settings({});
    });

    it('each carry a subscriber config of their own, with the simulator\'s published login as their only credentials', function () {
        const subscribers = loadExamples().filter((n) => n.type === 'durst-subscriber');
        assert.strictEqual(subscribers.length, 2);
        assert.notStrictEqual(subscribers[0].id, subscribers[1].id);
        assert.ok(subscribers.every((s) => s.apiAuth === 'login' &&
            JSON.stringify(s.credentials) === JSON.stringify({ apiUser: DURST_SIM_LOGIN.user, apiPassword: DURST_SIM_LOGIN.password })));
    });

    it('register once each with this runtime\'s address, ensure their subscriptions, route callbacks and run the management actions', async function () {
        // Imported examples land on a tab; the debug nodes become helper nodes the test can listen to.
        const flows = [{ id: 'tab', type: 'tab', label: 'examples' }, ...loadExamples().map((n) => {
            if (n.type === 'debug') { return { id: n.id, z: 'tab', type: 'helper', name: n.name, wires: [] }; }
            if (n.type === 'durst-subscriber') { return { ...n, apiUrl: sim.url }; }
            return { ...n, z: 'tab' };
        })];
        // The examples' credentials (the simulator's login) as Node-RED stores them: apart from the flow.
        const credentials = {};
        for (const n of flows.filter((x) => x.credentials)) { credentials[n.id] = n.credentials; delete n.credentials; }
        const capture = (red) => { RED = red; };
        await helper.load([capture, subscriberNode, subscriptionNode, webhookNode, switchNode, injectNode, commentNode], flows, credentials);
        const active = () => sim.subscribers().flatMap((s) => sim.subscriptions(s.id).map((sub) => [s.hostUri, sub.topic, sub.path, sub.status]));
        await waitFor(() => sim.subscribers().length === 2 && active().length === 2, 'subscriptions');
        const base = `http://127.0.0.1:${server.address().port}`;
        assert.deepStrictEqual(active().sort(),
            // Registered with one trailing "/", so Durst's plain concatenation with the path gives the webhook URL.
            [[base + '/', 'STATUS/PRODUCTION_JOB/*', 'durst/status', 'ACTIVE'], [base + '/', 'WORKFLOW/motif-checkin/*', 'durst/workflow', 'ACTIVE']]);
        const workflowSubscriber = sim.subscribers().find((s) => sim.subscriptions(s.id).some((sub) => sub.path === 'durst/workflow')).id;

        const byName = (name) => flows.find((n) => n.name === name).id;
        const printing = new Promise((resolve) => helper.getNode(byName('printing')).once('input', resolve));
        await sim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTING');
        assert.strictEqual((await printing).topic, 'STATUS/PRODUCTION_JOB/2068');

        const workflow = new Promise((resolve) => helper.getNode(byName('workflow progress')).once('input', resolve));
        await sim.fireWorkflow('motif-checkin', 12842);
        assert.strictEqual((await workflow).event, 'workflow');

        const answers = helper.getNode(byName('API answer'));
        const answer = () => new Promise((resolve) => answers.once('input', resolve));
        let next = answer();
        helper.getNode(byName('list')).receive({});
        assert.strictEqual((await next).payload.length, 1);

        next = answer();
        helper.getNode(byName('deactivate')).receive({});
        assert.strictEqual((await next).payload.status, 'INACTIVE');
        assert.strictEqual(sim.subscriptions(workflowSubscriber).find((s) => s.topic === 'WORKFLOW/motif-checkin/*').status, 'INACTIVE');
        assert.deepStrictEqual(await sim.fireWorkflow('motif-checkin', 12843), [], 'no callback while inactive');

        next = answer();
        helper.getNode(byName('activate')).receive({});
        assert.strictEqual((await next).payload.status, 'ACTIVE');

        const other = new Promise((resolve) => helper.getNode(byName('other status changes')).once('input', resolve));
        next = answer();
        helper.getNode(byName('test job 2068')).receive({});
        assert.strictEqual((await next).statusCode, 200);
        assert.strictEqual((await other).payload.entityId, 2068);

        const errors = helper.getNode(byName('error + statusCode'));
        const caught = new Promise((resolve) => errors.once('input', resolve));
        sim.injectFailures(3, 503);
        helper.getNode(byName('list')).receive({});
        assert.strictEqual((await caught).statusCode, 503);
    });
});
