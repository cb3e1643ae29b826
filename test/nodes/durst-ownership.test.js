'use strict';
// What the Durst nodes remember in the user dir, and which subscriptions they switch off: the store on its own,
// then durst-subscriber + durst-subscription through the test helper (with a real user dir) against the
// Durst simulator on loopback.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { setFlows } = require('../lib/set-flows');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const subscriptionNode = require('../../dist/nodes/durst-subscription/durst-subscription.js');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { DurstStateStore, STATE_FILE_NAME, subscriberKey, stateStoreFor } = require('../../dist/nodes/lib/durst/state-store');
const { ensureSubscription } = require('../../dist/nodes/lib/durst/ensure');
const { DurstRestClient } = require('../../dist/nodes/lib/durst/rest-client');
const { sleep, waitFor: waitUntil } = require('../lib/wait');
const { startDurstRig, stopDurstRig } = require('../lib/durst-helper');

helper.init(require.resolve('node-red'));

const waitFor = (predicate, what, timeoutMs = 5000) => waitUntil(predicate, what, timeoutMs, { detail: () => helper.log().getCalls().map((c) => c.args[0].msg).filter((m) => typeof m === 'string').slice(-15).join('\n') });

describe('durst state store', function () {
    let dir;
    beforeEach(function () { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-store-')); });
    afterEach(function () { fs.rmSync(dir, { recursive: true, force: true }); });

    it('remembers a subscriber id per config node, API URL and host URI; a different pin in the flow wins', function () {
        const store = new DurstStateStore(path.join(dir, STATE_FILE_NAME));
        const key = subscriberKey('cfg', 'http://durst:8080/', 'https://nr.example/');
        assert.strictEqual(key, subscriberKey('cfg', 'http://durst:8080', 'https://nr.example'), 'trailing slashes do not matter');
        store.rememberSubscriber(key, 17, undefined, { apiUrl: 'http://durst:8080', hostUri: 'https://nr.example', configNode: 'cfg' });
        assert.strictEqual(store.subscriberId(key, undefined), 17);
        assert.strictEqual(store.subscriberId(key, 5), undefined, 'a pin typed in the flow wins');
        assert.strictEqual(store.subscriberId(subscriberKey('cfg', 'http://durst:8080', 'https://other.example'), undefined), undefined);
        // A pinned id that was lost in Durst and re-registered: the new id is used while the pin is unchanged.
        store.rememberSubscriber(key, 18, 5, { apiUrl: 'http://durst:8080', hostUri: 'https://nr.example', configNode: 'cfg' });
        assert.strictEqual(store.subscriberId(key, 5), 18);
        assert.strictEqual(new DurstStateStore(path.join(dir, STATE_FILE_NAME)).subscriberId(key, 5), 18, 'read back from the file');
    });

    it('an unreadable file is reported and treated as empty, then rewritten', function () {
        const file = path.join(dir, STATE_FILE_NAME);
        fs.writeFileSync(file, '{ not json');
        const warnings = [];
        const store = new DurstStateStore(file, (text) => warnings.push(text));
        assert.strictEqual(store.ownedSubscription('n1'), undefined);
        assert.match(warnings[0], /unreadable/);
        store.replaceSubscription('n1', { apiUrl: 'http://d', subscriberId: 17, subscriptionId: 4, topic: 'STATUS/*', path: 'a' });
        assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).subscriptions.n1.subscriptionId, 4);
    });

    it('queues what a node replaced or gave up, but not what another node still owns', function () {
        const store = new DurstStateStore(path.join(dir, STATE_FILE_NAME));
        const at = (subscriptionId, p) => ({ apiUrl: 'http://d', subscriberId: 17, subscriptionId, topic: 'STATUS/*', path: p });
        store.replaceSubscription('n1', at(4, 'a'));
        store.replaceSubscription('n2', at(4, 'a'));
        assert.deepStrictEqual(store.replaceSubscription('n1', at(5, 'b')), { apiUrl: 'http://d', subscriberId: 17, subscriptionId: 4 });
        assert.deepStrictEqual(store.pendingSwitchOff('http://d'), [], '#4 is still n2\'s');
        store.retireSubscription('n2');
        assert.deepStrictEqual(store.pendingSwitchOff('http://d').map((r) => r.subscriptionId), [4]);
        assert.deepStrictEqual(store.pendingSwitchOff('http://other'), []);
    });

    it('without a user dir the state lives in memory, one store per runtime', function () {
        const a = stateStoreFor({});
        const b = stateStoreFor({});
        a.replaceSubscription('n1', { apiUrl: 'http://d', subscriberId: 17, subscriptionId: 4, topic: 'STATUS/*', path: 'a' });
        assert.strictEqual(b.ownedSubscription('n1'), undefined);
        assert.strictEqual(a.file, undefined);
        assert.strictEqual(stateStoreFor({ userDir: dir }).file, path.join(dir, STATE_FILE_NAME));
    });
});

describe('durst ensure (lib, against the simulator)', function () {
    let sim;
    const clients = [];
    const client = () => { const c = new DurstRestClient({ apiUrl: sim.url, attempts: 1 }); clients.push(c); return c; };
    const req = { subscriberId: 17, topic: 'STATUS/PRODUCTION_JOB/*', path: 'durst/a', publishInitialState: false };

    beforeEach(async function () {
        sim = new DurstSimulator({ apiAuth: { type: 'none' } });
        await sim.start();
        await client().createSubscriber({ externalAuthType: 'NONE', hostUri: 'http://127.0.0.1:9' });
    });

    afterEach(async function () {
        for (const c of clients.splice(0)) { c.close(); }
        await sim.stop();
    });

    it('keeps the lowest-id ACTIVE match and switches the other matches off; other topics and paths stay', async function () {
        const c = client();
        for (const body of [{ path: 'durst/a/' }, { path: 'durst/a' }, { path: 'other' }, { path: 'durst/a', topic: 'STATUS/*' }, { path: '/durst/a' }]) {
            await c.createSubscription(17, { topic: req.topic, status: 'ACTIVE', publishInitialState: false, ...body });
        }
        const result = await ensureSubscription(c, req);
        assert.strictEqual(result.action, 'kept');
        assert.strictEqual(result.record.id, 4);
        assert.deepStrictEqual(result.duplicatesOff, [5, 8]);
        assert.deepStrictEqual(sim.subscriptions(17).map((s) => [s.id, s.status]), [[4, 'ACTIVE'], [5, 'INACTIVE'], [6, 'ACTIVE'], [7, 'ACTIVE'], [8, 'INACTIVE']]);
    });

    it('two ensures racing (both list before either creates) end with one ACTIVE subscription, the lowest id', async function () {
        sim.setLatency(100);
        const results = await Promise.all([ensureSubscription(client(), req), ensureSubscription(client(), req)]);
        const subs = sim.subscriptions(17);
        assert.strictEqual(subs.length, 2, 'both created one: the race happened');
        assert.deepStrictEqual(subs.filter((s) => s.status === 'ACTIVE').map((s) => s.id), [4]);
        assert.deepStrictEqual(results.map((r) => r.record.id), [4, 4]);
    });

    it('reactivates the lowest INACTIVE match instead of creating', async function () {
        const c = client();
        await c.createSubscription(17, { topic: req.topic, path: 'durst/a', status: 'INACTIVE', publishInitialState: false });
        await c.createSubscription(17, { topic: req.topic, path: 'durst/a', status: 'INACTIVE', publishInitialState: false });
        const result = await ensureSubscription(c, req);
        assert.strictEqual(result.action, 'reactivated');
        assert.deepStrictEqual(sim.subscriptions(17).map((s) => s.status), ['ACTIVE', 'INACTIVE']);
    });
});

describe('durst-subscription ownership (test helper, real user dir)', function () {
    this.timeout(15000);
    let rig;
    let sim;
    let userDir;
    const modules = [subscriberNode, subscriptionNode];

    beforeEach(async function () {
        rig = await startDurstRig(helper, { userDir: 'owner', settings: { durstApiRetryDelay: 5, durstApiAttempts: 1, durstApiTimeout: 2000, durstEnsureRetryDelay: 20 } });
        ({ sim, userDir } = rig);
    });

    afterEach(() => stopDurstRig(helper, { ...rig, sim })); // the sim of the test: one restarts it on its port

    const subscriber = (extra = {}) => ({ id: 'sub', type: 'durst-subscriber', name: 'sim', apiUrl: sim.url, apiAuth: 'none',
        hostUri: 'http://127.0.0.1:9/', externalAuthType: 'XAUTH', xAuthUser: 'durst', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra });
    const subscription = (id, extra = {}) => ({ id, type: 'durst-subscription', name: '', subscriber: 'sub', topic: 'STATUS/PRODUCTION_JOB/*',
        path: 'durst/a', publishInitialState: false, ensureOnDeploy: true, wires: [[]], ...extra });
    // A fresh object each time: loading credentials consumes the one passed in.
    const creds = () => ({ sub: { xAuthPassword: 'owner-test-xauth-secret' } });
    const all = () => sim.subscribers().flatMap((s) => sim.subscriptions(s.id));
    const activeIds = () => all().filter((s) => s.status === 'ACTIVE').map((s) => s.id);
    // node.status is one spy for all nodes: pick this node's calls.
    const statusText = (id) => {
        const node = helper.getNode(id);
        const calls = node ? node.status.getCalls().filter((c) => c.thisValue === node) : [];
        return calls.length > 0 ? calls[calls.length - 1].args[0].text : '';
    };

    it('persists the ids without any secret in the file', async function () {
        await helper.load(modules, [subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusText('s1')), 'ensured');
        const text = fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8');
        const state = JSON.parse(text);
        assert.strictEqual(Object.values(state.subscribers)[0].id, sim.subscribers()[0].id);
        assert.strictEqual(state.subscriptions.s1.subscriptionId, all()[0].id);
        assert.ok(!text.includes('owner-test-xauth-secret'), 'no secret in the state file');
    });

    it('a deploy that deletes the subscription and its subscriber together still switches the subscription off', async function () {
        await helper.load(modules, [subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusText('s1')), 'ensured');
        sim.setLatency(100);
        await setFlows(helper, [], 'full');
        assert.deepStrictEqual(activeIds(), [], 'switched off before the deploy finished\n' + helper.log().getCalls().map((c) => c.args[0].msg).filter((m) => typeof m === 'string').slice(-25).join('\n'));
        assert.ok(helper.log().getCalls().some((c) => /switched off Durst subscription #\d+ .*deleted/.test(c.args[0].msg)), 'logged');
    });

    it('two nodes ensuring the same topic and path share one subscription; deleting one keeps it ACTIVE', async function () {
        await helper.load(modules, [subscriber(), subscription('s1'), subscription('s2')], creds());
        await waitFor(() => /active/.test(statusText('s1')) && /active/.test(statusText('s2')), 'both ensured');
        // Both may have created one at the same moment; they agree on the lowest id.
        assert.strictEqual(activeIds().length, 1);
        const state = JSON.parse(fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8'));
        assert.deepStrictEqual([state.subscriptions.s1.subscriptionId, state.subscriptions.s2.subscriptionId], [activeIds()[0], activeIds()[0]]);
        await setFlows(helper, [subscriber(), subscription('s2')], 'nodes');
        // a duration: no switch-off within 100 ms of the delete.
        await sleep(100);
        assert.strictEqual(activeIds().length, 1, 'still used by s2');
        await setFlows(helper, [subscriber()], 'nodes');
        await waitFor(() => activeIds().length === 0, 'switched off with the last owner');
    });

    it('a delete while Durst fails is queued and done by the subscriber\'s service as soon as Durst answers, with no ensure node left', async function () {
        await helper.load(modules, [subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusText('s1')), 'ensured');
        const [first] = activeIds();
        sim.injectFailures(5, 503);
        await setFlows(helper, [subscriber()], 'nodes');
        assert.deepStrictEqual(activeIds(), [first], 'not switched off while Durst fails');
        assert.ok(helper.log().getCalls().some((c) => /not switched off yet/.test(c.args[0].msg)), 'the failure is logged');
        sim.injectFailures(0);
        // The subscriber config node's service keeps at it by itself: no ensure node is needed for it to run.
        await waitFor(() => activeIds().length === 0, 'the queued switch-off, done by the service with no ensure node left');
        // The subscription goes before the service logs it: wait for the line, do not race it.
        await waitFor(() => helper.log().getCalls().some((c) => new RegExp(`switched off Durst subscription #${first} `).test(c.args[0].msg)),
            'the switch-off logged');
        await setFlows(helper, [subscriber(), subscription('s3', { path: 'durst/other' })], 'nodes');
        await waitFor(() => /active/.test(statusText('s3')), 'the next ensure');
        assert.strictEqual(activeIds().length, 1);
        assert.notStrictEqual(activeIds()[0], first);
    });

    it('a hostUri change registers a new subscriber and switches off the subscription at the old one', async function () {
        await helper.load(modules, [subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusText('s1')), 'ensured');
        await setFlows(helper, [subscriber({ hostUri: 'http://127.0.0.1:10/' }), subscription('s1')], 'nodes', creds());
        await waitFor(() => sim.subscribers().length === 2 && activeIds().length === 1 && all().length === 2, 'moved to the new subscriber');
        const [, newer] = sim.subscribers();
        assert.deepStrictEqual(sim.subscriptions(newer.id).map((s) => s.status), ['ACTIVE']);
    });

    it('a subscription created by msg.action is never switched off by ensure or delete', async function () {
        const flow = [subscriber(), subscription('s1'), subscription('m1', { ensureOnDeploy: false, path: 'manual' })];
        await helper.load(modules, flow, creds());
        await waitFor(() => /active/.test(statusText('s1')), 'ensured');
        helper.getNode('m1').receive({ action: 'create' });
        await waitFor(() => activeIds().length === 2, 'the manual subscription');
        await setFlows(helper, [subscriber(), subscription('m1', { ensureOnDeploy: false, path: 'manual' })], 'nodes');
        await waitFor(() => activeIds().length === 1, 'the ensured one switched off');
        assert.strictEqual(all().find((s) => s.status === 'ACTIVE').path, 'manual');
    });

    it('unticking "ensure on deploy" hands the subscription over: a later delete leaves it ACTIVE', async function () {
        await helper.load(modules, [subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusText('s1')), 'ensured');
        await setFlows(helper, [subscriber(), subscription('s1', { ensureOnDeploy: false })], 'nodes');
        const state = JSON.parse(fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8'));
        assert.deepStrictEqual(state.subscriptions, {});
        await setFlows(helper, [subscriber()], 'nodes');
        // a duration: no switch-off within 100 ms of the delete.
        await sleep(100);
        assert.strictEqual(activeIds().length, 1);
        assert.ok(!helper.log().getCalls().some((c) => /switched off/.test(c.args[0].msg)));
    });

    it('a path edit deployed while the first ensure is still in flight ends with one ACTIVE subscription, on the new path', async function () {
        sim.setLatency(150);
        await helper.load(modules, [subscriber(), subscription('s1')], creds());
        // The subscriber is being registered or the subscription created right now.
        await waitFor(() => sim.requests.length >= 1, 'the first API call');
        await setFlows(helper, [subscriber(), subscription('s1', { path: 'durst/b' })], 'nodes');
        await waitFor(() => /active/.test(statusText('s1')), 'the edited node ensured', 10000);
        assert.strictEqual(sim.subscribers().length, 1);
        const on = all().filter((s) => s.status === 'ACTIVE');
        assert.deepStrictEqual(on.map((s) => s.path), ['durst/b'], JSON.stringify(all()));
        const state = JSON.parse(fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8'));
        assert.strictEqual(state.subscriptions.s1.subscriptionId, on[0].id);
    });

    it('"Register / check" remembers the id it registered, so the deployed node without a pin uses it', async function () {
        await helper.load(modules, [subscriber()], creds());
        const form = { mode: 'apply', id: 'sub', apiUrl: sim.url, apiAuth: 'none', hostUri: 'http://127.0.0.1:9/', externalAuthType: 'XAUTH', xAuthUser: 'durst',
            subscriberId: '', credentials: { xAuthPassword: '__PWRD__' } };
        const answer = await helper.request().post('/print-events/durst/subscriber/register').send(form).expect(200);
        assert.strictEqual(answer.body.action, 'created');
        // Deployed without pressing deploy on the new id: the remembered one is used, nothing is registered again.
        await setFlows(helper, [subscriber({ name: 'redeployed' }), subscription('s1')], 'full', creds());
        await waitFor(() => /active/.test(statusText('s1')), 'ensured');
        assert.deepStrictEqual(sim.subscribers().map((s) => s.id), [answer.body.subscriberId]);
        assert.ok(!fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8').includes('owner-test-xauth-secret'));
    });

    it('a Durst that lost its data (ids counted from the start again): registered again, every ensured node ends ACTIVE', async function () {
        await helper.load(modules, [subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusText('s1')), 's1 ensured');
        await setFlows(helper, [subscriber(), subscription('s1'), subscription('s2', { path: 'durst/b' })], 'nodes', creds());
        await waitFor(() => /active/.test(statusText('s2')), 's2 ensured');
        const port = Number(new URL(sim.url).port);
        await sim.stop();
        sim = new DurstSimulator({ port, apiAuth: { type: 'none' } });
        await sim.start();
        // As after a restart of Node-RED: every node starts again and finds its remembered ids gone.
        await setFlows(helper, [subscriber({ name: 'again' }), subscription('s1'), subscription('s2', { path: 'durst/b' })], 'full', creds());
        await waitFor(() => all().filter((s) => s.status === 'ACTIVE').length === 2 && /active/.test(statusText('s1')) && /active/.test(statusText('s2')), 'both ensured again');
        // a duration: no second subscriber or subscription within 100 ms.
        await sleep(100);
        assert.strictEqual(sim.subscribers().length, 1);
        assert.deepStrictEqual(all().map((s) => [s.path, s.status]).sort(), [['durst/a', 'ACTIVE'], ['durst/b', 'ACTIVE']]);
        const state = JSON.parse(fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8'));
        assert.deepStrictEqual([state.subscriptions.s1.path, state.subscriptions.s2.path], ['durst/a', 'durst/b']);
        assert.deepStrictEqual(state.switchOff, []);
    });
});
