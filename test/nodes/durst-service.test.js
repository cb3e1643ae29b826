'use strict';
// The Durst service through the nodes (test helper, real user dir) against the simulator with its login on:
// refused logins, tokens that expire, a Durst restart, unconfirmed subscriber creates, UUID ids, Catch nodes,
// and switch-offs that run with no ensuring node left (or are reported once when nobody can run them).
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { setFlows } = require('../lib/set-flows');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const subscriptionNode = require('../../dist/nodes/durst-subscription/durst-subscription.js');
const { STATE_FILE_NAME, DurstStateStore } = require('../../dist/nodes/lib/durst/state-store');
const { sleep, waitFor: waitUntil } = require('../lib/wait');
const { startDurstRig, stopDurstRig } = require('../lib/durst-helper');

helper.init(require.resolve('node-red'));
const catchNode = require(require.resolve('@node-red/nodes/core/common/25-catch.js', { paths: [path.dirname(require.resolve('node-red'))] }));

const USER = 'svc-user';
const PASSWORD = 'svc-login-password-58';
const logText = () => helper.log().getCalls().map((c) => { const m = c.args[0].msg; return m instanceof Error ? m.message : JSON.stringify(m); }).join('\n');
const waitFor = (predicate, what, timeoutMs = 5000) => waitUntil(predicate, what, timeoutMs, { detail: () => logText().slice(-3000) });

describe('durst service: login, unconfirmed creates, Catch, switch-offs (test helper)', function () {
    this.timeout(20000);
    let rig;
    let sim;
    let userDir;
    const modules = [subscriberNode, subscriptionNode, catchNode];

    beforeEach(async function () {
        rig = await startDurstRig(helper, { userDir: 'service', simOptions: { apiAuth: { type: 'login', user: USER, password: PASSWORD } },
            settings: { durstApiRetryDelay: 5, durstApiAttempts: 2, durstApiTimeout: 2000, durstEnsureRetryDelay: 50 } });
        ({ sim, userDir } = rig);
    });

    afterEach(() => stopDurstRig(helper, rig));

    const TAB = { id: 'tab', type: 'tab', label: 'durst' };
    const subscriber = (extra = {}) => ({ id: 'sub', type: 'durst-subscriber', name: 'sim', apiUrl: sim.url, apiAuth: 'login', loginMethod: 'auto',
        hostUri: 'http://127.0.0.1:9/', externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra });
    const subscription = (id, extra = {}) => ({ id, z: 'tab', x: 100, y: 100, type: 'durst-subscription', name: '', subscriber: 'sub', topic: 'STATUS/PRODUCTION_JOB/*',
        path: 'durst/' + id, publishInitialState: false, ensureOnDeploy: true, wires: [[]], ...extra });
    // A Catch node for s1, wired to a helper node the test listens to.
    // On a tab with x/y, as the editor saves them: only such nodes are flow nodes (Catch nodes see their errors).
    const caught = () => [{ id: 'catch', z: 'tab', x: 100, y: 200, type: 'catch', name: '', scope: ['s1'], uncaught: false, wires: [['out']] },
        { id: 'out', z: 'tab', x: 300, y: 200, type: 'helper' }];
    const creds = (password = PASSWORD) => ({ sub: { apiUser: USER, apiPassword: password } });
    const all = () => sim.subscribers().flatMap((s) => sim.subscriptions(s.id));
    const active = () => all().filter((s) => s.status === 'ACTIVE');
    const creates = () => sim.requests.filter((r) => r.method === 'POST' && !/\/login$/.test(r.path)).length;
    const statusOf = (id) => {
        const node = helper.getNode(id);
        const calls = node ? node.status.getCalls().filter((c) => c.thisValue === node) : [];
        return calls.length > 0 ? calls[calls.length - 1].args[0] : {};
    };

    it('logs in, sends the token on every call, and survives an expired token and a Durst restart with one new login each', async function () {
        await helper.load(modules, [TAB, subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusOf('s1').text), 'ensured');
        assert.ok(sim.requests.filter((r) => !/login$/.test(r.path)).every((r) => r.token), 'every API call carried an x-auth-token');
        assert.strictEqual(sim.logins, 1);
        sim.expireTokens();
        await setFlows(helper, [TAB, subscriber(), subscription('s1', { path: 'durst/s1-b' })], 'nodes');
        await waitFor(() => active().length === 1 && active()[0].path === 'durst/s1-b', 'the edit after the token expired');
        assert.strictEqual(sim.logins, 2, 'one new login after the 401');
        sim.restart();
        await setFlows(helper, [TAB, subscriber(), subscription('s1', { path: 'durst/s1-c' })], 'nodes');
        await waitFor(() => active().length === 1 && active()[0].path === 'durst/s1-c', 'the edit after Durst restarted');
        assert.strictEqual(sim.logins, 3);
        assert.strictEqual(sim.subscribers().length, 1);
        assert.ok(!logText().includes(PASSWORD), 'the password is never logged');
    });

    it('a refused login: red status naming the user, a Catch node gets the error with topic and path, no retry loop', async function () {
        await helper.load(modules, [TAB, subscriber(), subscription('s1'), ...caught()], creds('not-the-password'));
        const out = helper.getNode('out');
        const got = new Promise((resolve) => out.once('input', resolve));
        await waitFor(() => statusOf('s1').fill === 'red', 'red status');
        assert.deepStrictEqual([statusOf('s1').shape, statusOf('s1').text], ['ring', 'durst-subscription.status.loginRefused']);
        const msg = await got;
        assert.strictEqual(msg.topic, 'STATUS/PRODUCTION_JOB/*');
        assert.strictEqual(msg.path, 'durst/s1');
        assert.strictEqual(msg.statusCode, 401);
        assert.strictEqual(msg.code, 'EAUTH');
        assert.match(msg.error.message, /login of user "svc-user"/);
        const requests = sim.requests.length;
        await sleep(300); // a duration under test: nothing may happen in it (the retry delay is 50 ms)
        assert.strictEqual(sim.requests.length, requests, 'no retries after a refused login');
        assert.ok(!logText().includes('not-the-password') && !JSON.stringify(msg).includes('not-the-password'));
        assert.strictEqual(sim.subscribers().length, 0);
    });

    it('an HTML page instead of the API: a clear error to the status and a Catch node, nothing created, recovers when it goes', async function () {
        await helper.load(modules, [TAB, subscriber(), subscription('s1')], creds());
        await waitFor(() => active().length === 1, 'ensured');
        const before = creates();
        sim.setBehaviour('html-200');
        sim.restart(); // a new login is needed, and the SSO page answers it: the GET login and every GET
        const out = [];
        await setFlows(helper, [TAB, subscriber(), subscription('s1'), ...caught()], 'full', creds());
        helper.getNode('out').on('input', (m) => out.push(m));
        await waitFor(() => out.length > 0, 'an error at the Catch node');
        const msg = out[0];
        assert.strictEqual(msg.code, 'EHTML');
        assert.match(msg.error.message, /Durst answered an HTML page: is a proxy or login page in front of apiUrl\?/);
        await waitFor(() => /HTML/.test(JSON.stringify(statusOf('s1'))) || /error/.test(statusOf('s1').text), 'error status');
        assert.strictEqual(creates(), before, 'never read as an empty list: nothing created');
        sim.setBehaviour('html-200', false);
        await waitFor(() => /active/.test(statusOf('s1').text), 'recovered by the retry');
        assert.strictEqual(active().length, 1);
    });

    it('a subscriber create with an unknown outcome: stops, says what to check, never creates again until an id is given', async function () {
        sim.setBehaviour('create-500', 'subscriber');
        await helper.load(modules, [TAB, subscriber(), subscription('s1')], creds());
        await waitFor(() => statusOf('s1').text === 'durst-subscription.status.unconfirmed', 'unconfirmed status');
        assert.match(logText(), /Look in Durst for a subscriber with hostUri http:\/\/127\.0\.0\.1:9\//);
        assert.strictEqual(sim.subscribers().length, 1, 'Durst did create it');
        const state = JSON.parse(fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8'));
        assert.strictEqual(Object.keys(state.unconfirmed).length, 1);
        // Redeploys and restarts create nothing more.
        sim.setBehaviour('create-500', false);
        for (let i = 0; i < 2; i++) {
            await setFlows(helper, [TAB, subscriber(), subscription('s1')], 'full', creds());
            await waitFor(() => statusOf('s1').text === 'durst-subscription.status.unconfirmed', 'still unconfirmed');
        }
        assert.strictEqual(sim.subscribers().length, 1);
        assert.strictEqual(creates(), 1);
        // The user found it in Durst and enters its id: it is checked and used.
        const [found] = sim.subscribers();
        await setFlows(helper, [TAB, subscriber({ subscriberId: String(found.id) }), subscription('s1')], 'full', creds());
        await waitFor(() => /active/.test(statusOf('s1').text), 'ensured with the pinned id');
        assert.strictEqual(sim.subscribers().length, 1);
        assert.strictEqual(active().length, 1);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8')).unconfirmed, {}, 'resolved');
    });

    it('UUID ids: subscriber and subscription ids that are strings are kept, pinned and compared as they are', async function () {
        sim.setBehaviour('uuid-ids');
        await helper.load(modules, [TAB, subscriber(), subscription('s1')], creds());
        await waitFor(() => /active/.test(statusOf('s1').text), 'ensured');
        const [s] = sim.subscribers();
        assert.match(String(s.id), /^[0-9a-f-]{36}$/);
        const state = JSON.parse(fs.readFileSync(path.join(userDir, STATE_FILE_NAME), 'utf8'));
        assert.strictEqual(state.subscriptions.s1.subscriptionId, active()[0].id);
        await setFlows(helper, [TAB, subscriber({ subscriberId: s.id }), subscription('s1')], 'full', creds());
        await waitFor(() => /active/.test(statusOf('s1').text), 'ensured with the pinned UUID');
        assert.strictEqual(sim.subscribers().length, 1);
        assert.strictEqual(all().length, 1);
    });

    it('a queued switch-off is carried out by the subscriber alone at start; one nobody can run is reported once', async function () {
        // An earlier run of this user dir left two switch-offs behind: one at this API (its node was deleted while
        // Durst was down), one at an API no durst-subscriber serves any more.
        const token = sim.authHeaders();
        const made = await fetch(`${sim.url}/api/v1/subscribers/create`, { method: 'POST', headers: { 'content-type': 'application/json', ...token },
            body: JSON.stringify({ externalAuthType: 'NONE', hostUri: 'http://127.0.0.1:9/' }) }).then((r) => r.json());
        const sub = await fetch(`${sim.url}/api/v1/subscribers/${made.id}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json', ...token },
            body: JSON.stringify({ topic: 'STATUS/*', path: 'gone', status: 'ACTIVE' }) }).then((r) => r.json());
        const store = new DurstStateStore(path.join(userDir, STATE_FILE_NAME));
        store.queueSwitchOff({ apiUrl: sim.url, subscriberId: made.id, subscriptionId: sub.id });
        store.queueSwitchOff({ apiUrl: 'http://127.0.0.1:9/elsewhere', subscriberId: 3, subscriptionId: 99 });
        await helper.load(modules, [TAB, subscriber()], creds());
        await waitFor(() => active().length === 0, 'switched off with no durst-subscription deployed');
        const unrunnable = () => helper.log().getCalls().filter((c) => /#99 of subscriber 3 .* no durst-subscriber for that API is deployed/.test(c.args[0].msg)).length;
        await waitFor(() => unrunnable() === 1, 'the unrunnable switch-off reported');
        await setFlows(helper, [TAB, subscriber({ name: 'renamed' })], 'full', creds());
        // a duration: no second report within 100 ms of the redeploy.
        await sleep(100);
        assert.strictEqual(unrunnable(), 1, 'reported once, not on every deploy');
        assert.deepStrictEqual(store.pendingSwitchOff().map((r) => r.subscriptionId), [99], 'it stays queued for when its API comes back');
    });

    it('"Register / check" logs in like the runtime, takes a UUID subscriber id, and answers a refused login without the password', async function () {
        sim.setBehaviour('uuid-ids');
        await helper.load(modules, [TAB, subscriber()], creds());
        // mode 'apply': as the dialog sends it once the user confirmed the plan (test/nodes/durst-callback-secrets.test.js).
        const form = (extra = {}) => ({ mode: 'apply', apiUrl: sim.url, apiAuth: 'login', loginMethod: 'v2', hostUri: 'http://127.0.0.1:9/', externalAuthType: 'NONE',
            credentials: { apiUser: USER, apiPassword: PASSWORD }, ...extra });
        const register = (body) => helper.request().post('/print-events/durst/subscriber/register').send(body);
        const created = await register(form());
        assert.strictEqual(created.status, 200, JSON.stringify(created.body));
        assert.match(created.body.subscriberId, /^[0-9a-f-]{36}$/);
        assert.strictEqual(created.body.action, 'created');
        const checked = await register(form({ subscriberId: created.body.subscriberId }));
        assert.deepStrictEqual([checked.status, checked.body.subscriberId, checked.body.action], [200, created.body.subscriberId, 'unchanged']);
        assert.ok(sim.requests.filter((r) => r.path === '/api/v2/login').length >= 2, 'the button logged in (v2)');
        const refused = await register(form({ credentials: { apiUser: USER, apiPassword: 'typed-wrong-88' } }));
        assert.strictEqual(refused.status, 400);
        assert.strictEqual(refused.body.code, 'loginRefused');
        assert.ok(!JSON.stringify(refused.body).includes('typed-wrong-88'));
        const bad = await register(form({ subscriberId: 'not an id!' }));
        assert.strictEqual(bad.status, 400);
        assert.strictEqual(sim.subscribers().length, 1);
    });
});
