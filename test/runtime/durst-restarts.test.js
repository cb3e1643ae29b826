'use strict';
// Durst subscriber and subscriptions across restarts, edits and deletes, in a real Node-RED process against
// the Durst simulator. Each fired status must reach the flow exactly once: the flow POSTs every callback it
// emits to a collector server here, and the simulator records every callback it sends.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { STATE_FILE_NAME } = require('../../dist/nodes/lib/durst/state-store');
const { freePort } = require('../lib/stock-node-red');
const { ENSURED, RestartableNodeRed, LOGIN_CREDENTIALS, durstBaseFlow, startDurstRuntime, stopDurstRuntime } = require('../lib/durst-runtime');
const { sleep, waitFor } = require('../lib/wait');

function durstFlows({ apiUrl, hostUri, collectorUrl, topic = 'STATUS/PRODUCTION_JOB/*', path: subPath = 'durst/a', subscriberId = '', withSubscription = true }) {
    const flows = [
        ...durstBaseFlow({ apiUrl, hostUri, collectorUrl, subscriberId }),
        { id: 'hook1', type: 'durst-webhook-in', z: 'tab1', name: '', subscriber: 'sub1', url: '/' + subPath, dedupeWindow: 30,
            x: 120, y: 80, wires: [['post1']] }
    ];
    if (withSubscription) {
        flows.push({ id: 'subs1', type: 'durst-subscription', z: 'tab1', name: '', subscriber: 'sub1', topic, path: subPath,
            publishInitialState: false, ensureOnDeploy: true, x: 120, y: 160, wires: [[]] });
    }
    return flows;
}

describe('durst: a real Node-RED process across restarts, edits and deletes', function () {
    this.timeout(180000);
    let rig;
    let sim;
    let red;
    let nextJob = 5000;
    const flowsWith = (options) => durstFlows({ apiUrl: sim.url, hostUri: rig.hostUri, collectorUrl: rig.collector.url, ...options });

    const active = () => sim.subscribers().flatMap((s) => sim.subscriptions(s.id)).filter((s) => s.status === 'ACTIVE');

    /** Fires one status with a fresh entity id; answers how often Durst sent it and how often the flow emitted it. */
    async function fireOnce(entityType = 'PRODUCTION_JOB') {
        const id = nextJob++;
        const deliveries = await sim.fireStatus(entityType, id, 'PRINTING');
        for (const d of deliveries) { assert.strictEqual(d.status, 200, `callback to ${d.url}: ${d.status} ${d.error || ''}`); }
        if (deliveries.length > 0) {
            await waitFor(() => rig.collector.received.some((b) => b.entityId === id), `status of ${entityType} ${id} in the flow`, 20000);
        }
        // a duration: anything duplicated would arrive right behind the first; give it the time the first one took twice over.
        await sleep(200);
        return { sent: deliveries.length, emitted: rig.collector.received.filter((b) => b.entityId === id).length };
    }

    const ensuredAfter = (before) => red.waitForLines(ENSURED, before, 'an ensure to finish');

    before(async function () {
        rig = await startDurstRuntime({ flowsFor: durstFlows });
        ({ sim, red } = rig);
    });

    after(() => stopDurstRuntime(rig));

    afterEach(function () {
        if (this.currentTest.state === 'failed' && red) { console.log(red.log.slice(-4000)); }
    });

    it('restarted 3 times: one subscriber, one ACTIVE subscription, every status arrives exactly once', async function () {
        await red.start();
        await ensuredAfter(0);
        for (let restart = 0; restart <= 3; restart++) {
            if (restart > 0) {
                const before = red.count(ENSURED);
                await red.restart();
                await ensuredAfter(0 + before);
            }
            assert.strictEqual(sim.subscribers().length, 1, `subscribers after restart ${restart}`);
            const on = active();
            assert.strictEqual(on.length, 1, `ACTIVE subscriptions after restart ${restart}: ${JSON.stringify(on)}`);
            assert.strictEqual(on[0].path, 'durst/a');
            assert.deepStrictEqual(await fireOnce(), { sent: 1, emitted: 1 }, `after restart ${restart}`);
        }
        assert.strictEqual(sim.requests.filter((r) => r.method === 'POST' && !/\/login$/.test(r.path)).length, 2, 'one subscriber and one subscription created, ever');
        const state = fs.readFileSync(path.join(red.userDir, STATE_FILE_NAME), 'utf8');
        assert.match(state, /"subscriptionId": \d+/);
        assert.doesNotMatch(state, /password|jwtKey|secret/i);
    });

    it('Durst unreachable during a restart: the retry ends in the same state, nothing duplicated', async function () {
        await red.stop();
        await sim.stop();
        const failuresBefore = red.count(/not ensured: .*will retry/);
        await red.start();
        await red.waitForLines(/not ensured: .*will retry/, failuresBefore, 'a failed ensure');
        const before = red.count(ENSURED);
        await sim.start();
        await ensuredAfter(before);
        assert.strictEqual(sim.subscribers().length, 1);
        assert.strictEqual(active().length, 1);
        assert.strictEqual(sim.subscribers().flatMap((s) => sim.subscriptions(s.id)).length, 1);
        assert.deepStrictEqual(await fireOnce(), { sent: 1, emitted: 1 });
    });

    it('a path edit (modified-nodes deploy) leaves exactly one ACTIVE subscription, on the new path', async function () {
        const before = red.count(ENSURED);
        await red.deploy(flowsWith({ path: 'durst/b' }), 'nodes');
        await ensuredAfter(before);
        const on = active();
        assert.strictEqual(on.length, 1, JSON.stringify(on));
        assert.strictEqual(on[0].path, 'durst/b');
        assert.ok(red.count(/switched off Durst subscription #\d+ .*no node ensures it any more/) >= 1, 'the switch-off is logged');
        assert.deepStrictEqual(await fireOnce(), { sent: 1, emitted: 1 });
        // And it stays that way over a restart.
        const beforeRestart = red.count(ENSURED);
        await red.restart();
        await ensuredAfter(beforeRestart);
        assert.deepStrictEqual(active().map((s) => s.path), ['durst/b']);
    });

    it('a topic edit leaves exactly one ACTIVE subscription, with the new topic', async function () {
        const before = red.count(ENSURED);
        await red.deploy(flowsWith({ path: 'durst/b', topic: 'STATUS/MOTIF/*' }), 'nodes');
        await ensuredAfter(before);
        const on = active();
        assert.strictEqual(on.length, 1, JSON.stringify(on));
        assert.strictEqual(on[0].topic, 'STATUS/MOTIF/*');
        assert.deepStrictEqual(await fireOnce('PRODUCTION_JOB'), { sent: 0, emitted: 0 });
        assert.deepStrictEqual(await fireOnce('MOTIF'), { sent: 1, emitted: 1 });
    });

    it('never touches a subscription it did not ensure', async function () {
        const [subscriber] = sim.subscribers();
        const foreign = await fetch(`${sim.url}/api/v1/subscribers/${subscriber.id}/subscriptions`, {
            method: 'POST', headers: { 'content-type': 'application/json', ...sim.authHeaders() },
            body: JSON.stringify({ topic: 'WORKFLOW/*', path: 'elsewhere', status: 'ACTIVE', publishInitialState: false })
        }).then((res) => res.json());
        const before = red.count(ENSURED);
        await red.deploy(flowsWith({ path: 'durst/c', topic: 'STATUS/MOTIF/*' }), 'full');
        await ensuredAfter(before);
        assert.deepStrictEqual(active().map((s) => s.path).sort(), ['durst/c', 'elsewhere']);
        assert.strictEqual(sim.subscriptions(subscriber.id).find((s) => s.id === foreign.id).status, 'ACTIVE');
    });

    it('a delete leaves none ACTIVE that it ensured, and a restart does not bring it back', async function () {
        const before = red.count(/its durst-subscription node was deleted/);
        await red.deploy(flowsWith({ path: 'durst/c', withSubscription: false }), 'nodes');
        await red.waitForLines(/its durst-subscription node was deleted/, before, 'the switch-off of the deleted node');
        assert.deepStrictEqual(active().map((s) => s.path), ['elsewhere'], 'only the foreign subscription stays ACTIVE');
        const created = sim.requests.filter((r) => r.method === 'POST' && !/\/login$/.test(r.path)).length;
        await red.restart();
        assert.deepStrictEqual(active().map((s) => s.path), ['elsewhere']);
        assert.strictEqual(sim.requests.filter((r) => r.method === 'POST' && !/\/login$/.test(r.path)).length, created, 'nothing created after the restart');
        assert.strictEqual(sim.subscribers().length, 1);
    });
});

describe('durst: two Node-RED instances sharing one pinned subscriber id deploy at the same moment', function () {
    this.timeout(180000);
    let sim;
    let reds = [];

    before(async function () {
        sim = new DurstSimulator();
        await sim.start();
    });

    after(async function () {
        for (const red of reds) {
            await red.stop();
            red.remove();
        }
        await sim.stop();
    });

    afterEach(function () {
        if (this.currentTest.state === 'failed') { for (const red of reds) { console.log(red.log.slice(-3000)); } }
    });

    it('ends with exactly one ACTIVE subscription per topic and path: the lowest id', async function () {
        const ports = [await freePort(), await freePort()];
        // Behind a load balancer both share the public hostUri; here it points at the first instance.
        const hostUri = `http://127.0.0.1:${ports[0]}/`;
        const registered = await fetch(`${sim.url}/api/v1/subscribers/create`, {
            method: 'POST', headers: { 'content-type': 'application/json', ...sim.authHeaders() }, body: JSON.stringify({ externalAuthType: 'NONE', hostUri })
        }).then((res) => res.json());
        const flows = (withSubscription) => durstFlows({ apiUrl: sim.url, hostUri, collectorUrl: 'http://127.0.0.1:9/',
            subscriberId: String(registered.id), withSubscription });
        reds = ports.map((port) => {
            return new RestartableNodeRed({ port, flows: flows(false), credentials: LOGIN_CREDENTIALS });
        });
        await Promise.all(reds.map((red) => red.start()));
        // Every API answer is slow, so both instances list before either has created: a real race.
        sim.setLatency(1500);
        await Promise.all(reds.map((red) => red.deploy(flows(true), 'full')));
        await waitFor(() => reds.every((red) => red.count(ENSURED) >= 1), 'both instances to ensure', 20000, { intervalMs: 100 });
        const all = sim.subscriptions(registered.id);
        assert.ok(all.length >= 2, `the race happened: both instances created one (${JSON.stringify(all)})`);
        const on = all.filter((s) => s.status === 'ACTIVE');
        assert.strictEqual(on.length, 1, JSON.stringify(all));
        assert.strictEqual(on[0].id, Math.min(...all.map((s) => s.id)), 'the lowest id is kept');
        assert.strictEqual(sim.subscribers().length, 1, 'the pinned subscriber is shared, no other registered');
        // Each instance remembers the one that was kept as its own.
        for (const red of reds) {
            const state = JSON.parse(fs.readFileSync(path.join(red.userDir, STATE_FILE_NAME), 'utf8'));
            assert.strictEqual(state.subscriptions.subs1.subscriptionId, on[0].id);
        }
        sim.setLatency(0);
    });
});
