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
        helper.settings({ durstApiRetryDelay: 5 });
        await helper.startServer();
        sim = new DurstSimulator(); // requires Durst's login, as the examples use it
        await sim.start();
        server = http.createServer((req, res) => RED.httpNode(req, res, () => { res.statusCode = 404; res.end(); }));
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    });

    afterEach(async function () {
        await helper.unload();
        await sim.stop();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await helper.stopServer();
        helper.settings({});
    });

    it('share one subscriber config without credentials', function () {
        const subscribers = loadExamples().filter((n) => n.type === 'durst-subscriber');
        assert.strictEqual(subscribers.length, 1);
        assert.strictEqual(subscribers[0].id, '8e2f3a4b5c6d7e8f');
        assert.strictEqual(subscribers[0].credentials, undefined);
        assert.strictEqual(subscribers[0].apiAuth, 'login', "the examples log in to Durst's API, as Durst requires");
    });

    it('register once, ensure both subscriptions, route callbacks and run the management actions', async function () {
        // Imported examples land on a tab; the debug nodes become helper nodes the test can listen to.
        const flows = [{ id: 'tab', type: 'tab', label: 'examples' }, ...loadExamples().map((n) => {
            if (n.type === 'debug') { return { id: n.id, z: 'tab', type: 'helper', name: n.name, wires: [] }; }
            if (n.type === 'durst-subscriber') { return { ...n, apiUrl: sim.url, hostUri: `http://127.0.0.1:${server.address().port}` }; }
            return { ...n, z: 'tab' };
        })];
        const capture = (red) => { RED = red; };
        await helper.load([capture, subscriberNode, subscriptionNode, webhookNode, switchNode, injectNode, commentNode], flows,
            { '8e2f3a4b5c6d7e8f': { apiUser: DURST_SIM_LOGIN.user, apiPassword: DURST_SIM_LOGIN.password } });
        await waitFor(() => sim.subscribers().length === 1 && sim.subscriptions(17).length === 2, 'subscriptions');
        assert.deepStrictEqual(sim.subscriptions(17).map((s) => [s.topic, s.path, s.status]).sort(),
            [['STATUS/PRODUCTION_JOB/*', 'durst/status', 'ACTIVE'], ['WORKFLOW/motif-checkin/*', 'durst/workflow', 'ACTIVE']]);

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
        assert.strictEqual((await next).payload.length, 2);

        next = answer();
        helper.getNode(byName('deactivate')).receive({});
        assert.strictEqual((await next).payload.status, 'INACTIVE');
        assert.strictEqual(sim.subscriptions(17).find((s) => s.topic === 'WORKFLOW/motif-checkin/*').status, 'INACTIVE');
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
