'use strict';
// The secrets Durst may sign callbacks with, end to end through the test helper (real user dir) against the Durst
// simulator, which echoes secrets changed (as the vendor pages show) and can sign with what it echoed:
// - what Durst returned at registration is kept (encrypted, never in clear) and verifies its callbacks;
// - a callback secret changed while Node-RED was stopped is registered with Durst on start; if that fails the
//   webhook shows red "callback secret not registered" until it worked;
// - "Register / check" only reads Durst (a plan) until the dialog confirms with mode 'apply'.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const helper = require('node-red-node-test-helper');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const subscriptionNode = require('../../dist/nodes/durst-subscription/durst-subscription.js');
const webhookNode = require('../../dist/nodes/durst-webhook-in/durst-webhook-in.js');
const { echoSecret } = require('../../dist/simulators/durst');
const { RETURNED_SECRETS_FILE } = require('../../dist/nodes/lib/durst/returned-secrets');
const { startDurstRig, stopDurstRig } = require('../lib/durst-helper');
const { waitFor } = require('../lib/wait');

helper.init(require.resolve('node-red'));

const KEY_1 = 'string';
const KEY_2 = 'the-key-after-the-restart';
const XAUTH_PASSWORD = 'pässwört-callback';

describe('durst callback secrets: returned ones, changed ones, Register / check', function () {
    this.timeout(20000);
    let RED;
    let rig;
    let sim;
    let httpNode;
    let userDir;
    const modules = [(red) => { RED = red; }, subscriberNode, subscriptionNode, webhookNode];

    beforeEach(async function () {
        RED = undefined;
        rig = await startDurstRig(helper, { getRED: () => RED, userDir: 'secrets',
            settings: { durstApiRetryDelay: 5, durstApiAttempts: 1, durstApiTimeout: 2000, durstEnsureRetryDelay: 50 } });
        ({ sim, httpNode, userDir } = rig);
    });

    afterEach(() => stopDurstRig(helper, rig));

    const subscriber = (extra = {}) => ({ id: 'sub', type: 'durst-subscriber', name: 'sim', apiUrl: sim.url, apiAuth: 'none',
        hostUri: httpNode.base, externalAuthType: 'JWT_SIGNING', xAuthUser: 'durst', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra });
    const subscription = () => ({ id: 's1', type: 'durst-subscription', name: '', subscriber: 'sub', topic: 'STATUS/*',
        path: 'durst/hook', publishInitialState: false, ensureOnDeploy: true, wires: [[]] });
    const hook = () => ({ id: 'hook', type: 'durst-webhook-in', name: '', subscriber: 'sub', url: '/durst/hook', dedupeWindow: 0, wires: [['out']] });
    const out = { id: 'out', type: 'helper' };
    const flow = (sub, withSubscription = true) => [sub, ...(withSubscription ? [subscription()] : []), hook(), out];
    const received = () => { const msgs = []; helper.getNode('out').on('input', (m) => msgs.push(m)); return msgs; };
    const lastStatus = (id) => {
        const node = helper.getNode(id);
        const calls = node ? node.status.getCalls().filter((c) => c.thisValue === node) : [];
        return calls.length > 0 ? calls[calls.length - 1].args[0] : {};
    };
    const active = () => sim.subscribers().flatMap((s) => sim.subscriptions(s.id)).filter((s) => s.status === 'ACTIVE');

    for (const [signWith, form] of [['returned', 'text'], ['returned-decoded', 'base64-decoded']]) {
        it(`JWT: a callback signed with the key Durst returned (${form}) is delivered; the returned key is kept encrypted`, async function () {
            sim.setSignWith(signWith);
            await helper.load(modules, flow(subscriber()), { sub: { jwtKey: KEY_1 } });
            const msgs = received();
            await waitFor(() => active().length === 1, 'subscription ensured');
            const [delivery] = await sim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTING', 'IMPOSED');
            assert.strictEqual(delivery.status, 200, JSON.stringify(delivery.error || delivery.status));
            assert.strictEqual(delivery.url, `${httpNode.base}/durst/hook`, 'Durst\'s plain concatenation hits the webhook');
            await waitFor(() => msgs.length === 1, 'the msg');
            assert.deepStrictEqual([msgs[0].auth.secret, msgs[0].auth.secretForm], ['returned', form]);
            const returned = echoSecret(KEY_1);
            const file = fs.readFileSync(path.join(userDir, RETURNED_SECRETS_FILE), 'utf8');
            assert.ok(!file.includes(returned) && !file.includes(KEY_1), 'no secret in clear in the user dir');
            for (const name of fs.readdirSync(userDir)) {
                const text = fs.readFileSync(path.join(userDir, name), 'utf8');
                assert.ok(!text.includes(returned), `the returned key in clear in ${name}`);
            }
            assert.ok(!JSON.stringify(msgs[0]).includes(returned));
            assert.ok(helper.log().getCalls().every((c) => !JSON.stringify(c.args).includes(returned)), 'the returned key in a log line');
        });
    }

    it('XAUTH: the password Durst returned authenticates callbacks too (headers and Basic)', async function () {
        sim.setSignWith('returned');
        await helper.load(modules, flow(subscriber({ externalAuthType: 'XAUTH' })), { sub: { xAuthPassword: XAUTH_PASSWORD } });
        const msgs = received();
        await waitFor(() => active().length === 1, 'subscription ensured');
        const [delivery] = await sim.fireStatus('MOTIF', 11094, 'CHECKED_IN', 'CREATED');
        assert.strictEqual(delivery.status, 200);
        await waitFor(() => msgs.length === 1, 'the msg');
        assert.deepStrictEqual([msgs[0].auth.type, msgs[0].auth.secret], ['XAUTH', 'returned']);
    });

    /**
     * Deployed with KEY_1, then "restarted" with KEY_2 and no subscription node (only the subscriber can notice):
     * asserts one PUT registered the new key and a callback signed with it verifies. Resolves the PUT count and its start.
     */
    async function restartWithNewKey() {
        await helper.load(modules, flow(subscriber()), { sub: { jwtKey: KEY_1 } });
        await waitFor(() => active().length === 1, 'subscription ensured');
        await helper.unload();
        const puts = () => sim.requests.filter((r) => r.method === 'PUT' && /\/subscribers\/[^/]+$/.test(r.path)).length;
        const before = puts();
        await helper.load(modules, flow(subscriber(), false), { sub: { jwtKey: KEY_2 } });
        const msgs = received();
        await waitFor(() => sim.subscribers()[0].jwtSigningInfo.key === KEY_2, 'the new key registered with Durst');
        assert.strictEqual(puts(), before + 1, 'one PUT');
        const [delivery] = await sim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTED', 'PRINTING');
        assert.strictEqual(delivery.status, 200);
        await waitFor(() => msgs.length === 1, 'the msg');
        assert.notStrictEqual(lastStatus('hook').fill, 'red');
        return { puts, before };
    }

    it('a key changed while Node-RED was stopped is registered on start; callbacks with the new key verify, the old is refused', async function () {
        await restartWithNewKey();
    });

    it('a key changed while stopped reaches a Durst that cannot show one subscriber (405 on GET): one PUT, callbacks verify', async function () {
        sim.setBehaviour('single-get-405', 'subscriber');
        const { puts, before } = await restartWithNewKey();
        // The same key again after another restart: nothing to PUT, even though Durst still cannot show it.
        await helper.unload();
        await helper.load(modules, flow(subscriber(), false), { sub: { jwtKey: KEY_2 } });
        await waitFor(() => lastStatus('hook').fill === 'green', 'webhook green');
        assert.strictEqual(puts(), before + 1, 'no second PUT for an unchanged key');
    });

    it('when that update fails the webhook shows red "callback secret not registered", and green once a retry worked', async function () {
        await helper.load(modules, flow(subscriber()), { sub: { jwtKey: KEY_1 } });
        await waitFor(() => active().length === 1, 'subscription ensured');
        await helper.unload();
        sim.injectFailures(3, 503);
        await helper.load(modules, flow(subscriber(), false), { sub: { jwtKey: KEY_2 } });
        await waitFor(() => lastStatus('hook').fill === 'red', 'red status');
        assert.strictEqual(lastStatus('hook').text, 'durst-webhook-in.status.secretNotRegistered');
        // Durst still signs with the old key: refused, and the status stays red.
        const [refused] = await sim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTED', 'PRINTING');
        assert.strictEqual(refused.status, 401);
        await waitFor(() => sim.subscribers()[0].jwtSigningInfo.key === KEY_2, 'the retry registered the new key', 10000);
        await waitFor(() => lastStatus('hook').fill !== 'red', 'no longer red');
    });

    describe('Register / check', function () {
        const form = (extra = {}) => ({ id: 'sub', apiUrl: sim.url, apiAuth: 'none', hostUri: httpNode.base, externalAuthType: 'JWT_SIGNING',
            xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', credentials: { jwtKey: '__PWRD__' }, ...extra });
        const post = (body) => helper.request().post('/print-events/durst/subscriber/register').send(body);
        const changing = () => sim.requests.filter((r) => r.method !== 'GET').length;

        it('without mode: answers what would change and changes nothing in Durst', async function () {
            await helper.load(modules, flow(subscriber()), { sub: { jwtKey: KEY_1 } });
            await waitFor(() => active().length === 1, 'subscription ensured');
            const id = sim.subscribers()[0].id;
            const writes = changing();
            const moved = await post(form({ hostUri: 'http://other.example:1880' })).expect(200);
            assert.deepStrictEqual(moved.body.plan, { action: 'update', subscriberId: id,
                changes: [{ field: 'hostUri', registered: `${httpNode.base}/`, configured: 'http://other.example:1880/' }] });
            const typed = await post(form({ credentials: { jwtKey: 'typed-new-key' } })).expect(200);
            assert.deepStrictEqual(typed.body.plan.changes, [{ field: 'secret' }]);
            assert.ok(!JSON.stringify(typed.body).includes('typed-new-key'));
            const same = await post(form()).expect(200);
            assert.deepStrictEqual(same.body.plan, { action: 'unchanged', subscriberId: id, changes: [] });
            assert.strictEqual(changing(), writes, 'no POST or PUT reached Durst');
            assert.strictEqual(sim.subscribers()[0].hostUri, `${httpNode.base}/`);
            // Confirmed: now it changes Durst.
            const applied = await post({ ...form({ hostUri: 'http://other.example:1880' }), mode: 'apply' }).expect(200);
            assert.deepStrictEqual(applied.body, { ok: true, subscriberId: id, action: 'updated' });
            assert.strictEqual(sim.subscribers()[0].hostUri, 'http://other.example:1880/');
        });

        it('a new registration is only planned ("create") until confirmed; a Host URI without a scheme is refused', async function () {
            await helper.load(modules, [subscriber()], { sub: { jwtKey: KEY_1 } });
            const plan = await post(form({ id: 'never-deployed', credentials: { jwtKey: KEY_1 } })).expect(200);
            assert.deepStrictEqual(plan.body.plan, { action: 'create', changes: [] });
            assert.strictEqual(sim.subscribers().length, 0);
            for (const hostUri of ['node-red.local', 'localhost:1880', 'ftp://node-red.example/']) {
                const refused = await post({ ...form({ hostUri }), mode: 'apply' }).expect(400);
                assert.strictEqual(refused.body.code, 'hostUri', hostUri);
                assert.match(refused.body.error, /http:\/\/ or https:\/\//);
            }
            assert.strictEqual(sim.requests.length, 0, 'nothing reached Durst');
        });
    });
});
