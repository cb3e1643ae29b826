'use strict';
// durst-subscriber, durst-subscription and durst-webhook-in driven through the test helper against the
// Durst simulator on real loopback sockets. RED.httpNode is served on 127.0.0.1:0 and used as hostUri,
// so the simulator's callbacks travel the whole way into durst-webhook-in.
const http = require('http');
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const { setFlows } = require('../lib/set-flows');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const subscriptionNode = require('../../dist/nodes/durst-subscription/durst-subscription.js');
const webhookNode = require('../../dist/nodes/durst-webhook-in/durst-webhook-in.js');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { sleep, waitFor: waitUntil } = require('../lib/wait');
const { startDurstRig, stopDurstRig } = require('../lib/durst-helper');

helper.init(require.resolve('node-red'));

const JWT_KEY = 'durst-test-jwt-key-0123456789abcdef';
const XAUTH_PASSWORD = 'durst-test-xauth-password';

function lastStatus(node) {
    const calls = node.status.getCalls().filter((c) => c.thisValue === node);
    return calls.length > 0 ? calls[calls.length - 1].args[0] : undefined;
}

const waitFor = (predicate, what, timeoutMs = 3000) => waitUntil(predicate, what, timeoutMs);

describe('durst nodes against the simulator', function () {
    this.timeout(10000);
    let RED;
    let rig;
    let sim;
    let hostUri;
    const modules = [(red) => { RED = red; }, subscriberNode, subscriptionNode, webhookNode];

    beforeEach(async function () {
        RED = undefined;
        rig = await startDurstRig(helper, { getRED: () => RED,
            settings: { durstApiRetryDelay: 5, durstApiTimeout: 2000, durstEnsureRetryDelay: 20, apiMaxLength: '4kb', durstWebhookTimeout: 500 } });
        ({ sim, hostUri } = rig);
    });

    afterEach(() => stopDurstRig(helper, { ...rig, sim })); // the sim of the test: some start their own

    function subscriber(extra = {}) {
        return { id: 'sub', type: 'durst-subscriber', name: 'sim', apiUrl: sim.url, apiAuth: 'none', hostUri,
            externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra };
    }

    function post(path, body, headers = { 'content-type': 'application/json' }) {
        return new Promise((resolve, reject) => {
            const req = http.request(new URL(path, hostUri), { method: 'POST', headers }, (res) => {
                let text = '';
                res.on('data', (c) => { text += c; });
                res.on('end', () => resolve({ status: res.statusCode, text }));
            });
            req.on('error', reject);
            req.end(body);
        });
    }

    /** Sends msg into the node; resolves with the output msg or the error that reached the catch node. */
    function call(nodeId, msg) {
        return new Promise((resolve) => {
            const out = helper.getNode('out');
            const caught = helper.getNode('caught');
            const onOut = (m) => { cleanup(); resolve({ msg: m }); };
            const onCaught = (m) => { cleanup(); resolve({ error: m.error, msg: m }); };
            function cleanup() { out.removeListener('input', onOut); caught.removeListener('input', onCaught); }
            out.on('input', onOut);
            caught.on('input', onCaught);
            helper.getNode(nodeId).receive(msg);
        });
    }

    function managerFlow(sub, subscription = {}) {
        return [
            sub,
            { id: 'mgr', type: 'durst-subscription', name: '', subscriber: 'sub', topic: 'STATUS/PRODUCTION_JOB/*', path: 'durst/status',
                publishInitialState: false, ensureOnDeploy: false, wires: [['out']], ...subscription },
            { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
            { id: 'out', type: 'helper' },
            { id: 'caught', type: 'helper' }
        ];
    }

    describe('registration', function () {
        it('registers once and never duplicates the subscriber or the subscription across redeploys', async function () {
            const flow = managerFlow(subscriber(), { ensureOnDeploy: true });
            await helper.load(modules, flow);
            await waitFor(() => sim.subscribers().length === 1 && sim.subscriptions(sim.subscribers()[0].id).length === 1, 'registration');
            for (let i = 0; i < 3; i++) {
                const changed = managerFlow(subscriber({ name: 'sim ' + i }), { ensureOnDeploy: true, name: 'deploy ' + i });
                await setFlows(helper, changed, 'full');
                // a duration: no duplicate create may happen within 100 ms of a deploy.
                await sleep(100);
            }
            assert.strictEqual(sim.subscribers().length, 1);
            const [only] = sim.subscribers();
            assert.strictEqual(only.hostUri, hostUri);
            const subs = sim.subscriptions(only.id);
            assert.strictEqual(subs.length, 1);
            assert.strictEqual(subs[0].status, 'ACTIVE');
            assert.strictEqual(sim.requests.filter((r) => r.method === 'POST').length, 2, 'one subscriber create + one subscription create');
        });

        it('does not PUT on redeploy just because Durst echoes secrets transformed', async function () {
            const sub = subscriber({ externalAuthType: 'JWT_SIGNING' });
            const creds = { sub: { jwtKey: JWT_KEY } };
            await helper.load(modules, managerFlow(sub, { ensureOnDeploy: true }), creds);
            await waitFor(() => sim.subscriptions(17).length === 1, 'subscription');
            const echoed = await new Promise((resolve) => http.get(`${sim.url}/api/v1/subscribers/17`, (res) => {
                let t = ''; res.on('data', (c) => { t += c; }); res.on('end', () => resolve(JSON.parse(t)));
            }));
            assert.notStrictEqual(echoed.jwtSigningInfo.key, JWT_KEY, 'the simulator echoes a transformed key');
            assert.strictEqual(echoed.jwtSigningInfo.key.length, 24);
            await setFlows(helper, managerFlow({ ...sub, name: 'renamed' }, { ensureOnDeploy: true }), 'full', creds);
            // a duration: no PUT may follow the redeploy within 150 ms.
            await sleep(150);
            await setFlows(helper, managerFlow({ ...sub, name: 'renamed again' }, { ensureOnDeploy: true }), 'full', creds);
            // a duration: no PUT may follow the redeploy within 150 ms.
            await sleep(150);
            assert.strictEqual(sim.requests.filter((r) => r.method === 'PUT').length, 0);
            assert.strictEqual(sim.subscribers()[0].jwtSigningInfo.key, JWT_KEY, 'the real key is kept');
        });

        it('PUTs when a non-secret field changed, and when the secret changed since it was sent', async function () {
            const sub = subscriber({ externalAuthType: 'XAUTH', xAuthUser: 'durst' });
            await helper.load(modules, managerFlow(sub, { ensureOnDeploy: true }), { sub: { xAuthPassword: XAUTH_PASSWORD } });
            await waitFor(() => sim.subscriptions(17).length === 1, 'subscription');
            await setFlows(helper, managerFlow({ ...sub, xAuthUser: 'durst2' }, { ensureOnDeploy: true }), 'full', { sub: { xAuthPassword: XAUTH_PASSWORD } });
            await waitFor(() => sim.subscribers()[0].xAuthInfo.user === 'durst2', 'user updated');
            await setFlows(helper, managerFlow({ ...sub, xAuthUser: 'durst2', name: 'x' }, { ensureOnDeploy: true }), 'full', { sub: { xAuthPassword: 'new-password' } });
            await waitFor(() => sim.subscribers()[0].xAuthInfo.password === 'new-password', 'password updated');
            assert.strictEqual(sim.subscribers().length, 1);
            assert.strictEqual(sim.requests.filter((r) => r.method === 'PUT' && r.path === '/api/v1/subscribers/17').length, 2);
        });

        it('re-registers with a warning when the configured subscriber id no longer exists (404)', async function () {
            await helper.load(modules, managerFlow(subscriber({ subscriberId: '999' }), { ensureOnDeploy: true }));
            await waitFor(() => sim.subscribers().length === 1 && sim.subscriptions(sim.subscribers()[0].id).length === 1, 'registration');
            const warned = helper.log().getCalls().some((c) => c.args[0].level === helper.log().WARN && /999 no longer exists/.test(c.args[0].msg));
            assert.ok(warned, 'a warning names the missing id');
            // The new id is remembered: another deploy does not create again.
            await setFlows(helper, managerFlow(subscriber({ subscriberId: '999', name: 'x' }), { ensureOnDeploy: true }), 'full');
            // a duration: no second create within 150 ms.
            await sleep(150);
            assert.strictEqual(sim.subscribers().length, 1);
            assert.strictEqual(sim.requests.filter((r) => r.path === '/api/v1/subscribers/create').length, 1);
        });

        it('the admin endpoint registers, checks, and uses stored credentials for placeholders', async function () {
            await helper.load(modules, managerFlow(subscriber({ externalAuthType: 'JWT_SIGNING' })), { sub: { jwtKey: JWT_KEY } });
            const form = { mode: 'apply', id: 'sub', apiUrl: sim.url, apiAuth: 'none', hostUri, externalAuthType: 'JWT_SIGNING', jwtHeaderName: 'x-jwt-token',
                jwtMethod: 'HS256', subscriberId: '', credentials: { jwtKey: '__PWRD__' } };
            const first = await helper.request().post('/print-events/durst/subscriber/register').send(form).expect(200);
            assert.deepStrictEqual(first.body, { ok: true, subscriberId: 17, action: 'created' });
            assert.strictEqual(sim.subscribers()[0].jwtSigningInfo.key, JWT_KEY, 'stored credential used for the placeholder');
            const again = await helper.request().post('/print-events/durst/subscriber/register').send({ ...form, subscriberId: '17' }).expect(200);
            assert.deepStrictEqual(again.body, { ok: true, subscriberId: 17, action: 'unchanged' });
            const newKey = await helper.request().post('/print-events/durst/subscriber/register')
                .send({ ...form, subscriberId: '17', credentials: { jwtKey: 'typed-new-key' } }).expect(200);
            assert.strictEqual(newKey.body.action, 'updated');
            assert.strictEqual(sim.subscribers()[0].jwtSigningInfo.key, 'typed-new-key');
            const down = await helper.request().post('/print-events/durst/subscriber/register')
                .send({ ...form, apiUrl: 'http://127.0.0.1:1', credentials: { jwtKey: 'typed' } }).expect(502);
            assert.match(down.body.error, /ECONNREFUSED/);
            // Stored secrets never go to an API URL the node was not deployed with.
            const elsewhere = await helper.request().post('/print-events/durst/subscriber/register')
                .send({ ...form, apiUrl: 'http://127.0.0.1:1' }).expect(400);
            assert.match(elsewhere.body.error, /enter the secrets again/);
            assert.strictEqual(sim.subscribers().length, 1);
            // An empty Host URI means this Node-RED on this machine (uiPort 1880 when the settings name none).
            const local = await helper.request().post('/print-events/durst/subscriber/register').send({ ...form, hostUri: '' }).expect(200);
            assert.strictEqual(sim.subscribers().find((s) => s.id === local.body.subscriberId).hostUri, 'http://127.0.0.1:1880/');
        });
    });

    describe('subscription actions', function () {
        it('create, list, get, update, deactivate, activate and test', async function () {
            await helper.load(modules, managerFlow(subscriber()));
            const created = await call('mgr', { action: 'create', topic: 'STATUS/PRODUCTION_JOB/2068', payload: { publishInitialState: false } });
            assert.strictEqual(created.msg.statusCode, 201);
            const id = created.msg.payload.id;
            assert.strictEqual(created.msg.payload.topic, 'STATUS/PRODUCTION_JOB/2068');
            assert.strictEqual(created.msg.payload.path, 'durst/status');

            const list = await call('mgr', { action: 'list' });
            assert.strictEqual(list.msg.statusCode, 200);
            assert.deepStrictEqual(list.msg.payload.map((s) => s.id), [id]);

            const got = await call('mgr', { action: 'get', subscriptionId: id });
            assert.strictEqual(got.msg.payload.id, id);

            const updated = await call('mgr', { action: 'update', subscriptionId: id, topic: 'STATUS/MOTIF/*', payload: { path: 'durst/motif' } });
            assert.strictEqual(updated.msg.statusCode, 201);
            assert.strictEqual(sim.subscriptions(17)[0].topic, 'STATUS/MOTIF/*');
            assert.strictEqual(sim.subscriptions(17)[0].path, 'durst/motif');

            const off = await call('mgr', { action: 'deactivate', subscriptionId: id });
            assert.strictEqual(off.msg.payload.status, 'INACTIVE');
            assert.strictEqual(sim.subscriptions(17)[0].status, 'INACTIVE');
            assert.strictEqual(sim.subscriptions(17)[0].topic, 'STATUS/MOTIF/*', 'deactivate keeps topic and path');
            const lastPut = sim.requests.filter((r) => r.method === 'PUT').pop();
            assert.strictEqual(lastPut.path, `/api/v1/subscribers/17/subscriptions/${id}`);

            const on = await call('mgr', { action: 'activate', subscriptionId: id });
            assert.strictEqual(on.msg.payload.status, 'ACTIVE');

            await call('mgr', { action: 'update', subscriptionId: id, topic: 'STATUS/PRODUCTION_JOB/*', payload: { path: 'nowhere' } });
            const tested = await call('mgr', { action: 'test', productionJobId: 2068 });
            assert.strictEqual(tested.msg.statusCode, 200);
            assert.ok(sim.requests.some((r) => r.path === '/api/v1/subscribers/testresponse/2068'));
            await waitFor(() => sim.deliveries.length === 1, 'test callback');
            assert.strictEqual(sim.deliveries[0].topic, 'STATUS/PRODUCTION_JOB/2068');
        });

        it('falls back to POST .../subscriptions when .../subscriptions/create is missing, and remembers it', async function () {
            await sim.stop();
            sim = new DurstSimulator({ subscriptionCreatePaths: ['plain'], apiAuth: { type: 'none' } });
            await sim.start();
            await helper.load(modules, managerFlow(subscriber()));
            const first = await call('mgr', { action: 'create', topic: 'STATUS/*' });
            assert.strictEqual(first.msg.statusCode, 201);
            const second = await call('mgr', { action: 'create', topic: 'STATUS/MOTIF/*' });
            assert.strictEqual(second.msg.statusCode, 201);
            const posts = sim.requests.filter((r) => r.method === 'POST').map((r) => r.path);
            assert.deepStrictEqual(posts, ['/api/v1/subscribers/create', '/api/v1/subscribers/17/subscriptions/create',
                '/api/v1/subscribers/17/subscriptions', '/api/v1/subscribers/17/subscriptions']);
            assert.strictEqual(sim.subscriptions(17).length, 2);
        });

        it('a create for a subscriber that vanished fails with 404 after trying both paths', async function () {
            await helper.load(modules, managerFlow(subscriber()));
            await call('mgr', { action: 'list' });
            sim.deleteSubscriber(17);
            const failed = await call('mgr', { action: 'create', topic: 'STATUS/*' });
            assert.strictEqual(failed.msg.statusCode, 404);
            const posts = sim.requests.filter((r) => r.method === 'POST').map((r) => r.path);
            assert.deepStrictEqual(posts.slice(-2), ['/api/v1/subscribers/17/subscriptions/create', '/api/v1/subscribers/17/subscriptions']);
        });

        it('validates the topic before any API call', async function () {
            await helper.load(modules, managerFlow(subscriber()));
            const before = sim.apiCalls;
            for (const topic of ['STATUS/PRINTER/*', 'STATUS/PRODUCTION_JOB/{jobid}', 'WORKFLOW/unknown-flow/*']) {
                const result = await call('mgr', { action: 'create', topic });
                assert.ok(result.error, 'error reaches the catch node');
                assert.match(result.error.message, /Unknown Durst topic|placeholder/);
            }
            const noId = await call('mgr', { action: 'get' });
            assert.match(noId.error.message, /msg.subscriptionId/);
            const noJob = await call('mgr', { action: 'test', productionJobId: 'abc' });
            assert.match(noJob.error.message, /productionJobId/);
            const unknown = await call('mgr', { action: 'explode' });
            assert.match(unknown.error.message, /unknown msg.action/);
            assert.strictEqual(sim.apiCalls, before, 'no API call was made');
        });

        it('marks an invalid configured topic red without calling the API', async function () {
            await helper.load(modules, managerFlow(subscriber(), { topic: 'STATUS/NOPE/*', ensureOnDeploy: true }));
            // a duration: no API call may be made within 100 ms.
            await sleep(100);
            const status = lastStatus(helper.getNode('mgr'));
            assert.strictEqual(status.fill, 'red');
            assert.strictEqual(status.text, 'durst-subscription.status.invalidTopic');
            assert.strictEqual(sim.apiCalls, 0);
        });

        it('retries 5xx with backoff and then succeeds; gives up after the bounded attempts', async function () {
            await helper.load(modules, managerFlow(subscriber()));
            await call('mgr', { action: 'list' });
            sim.injectFailures(2, 503);
            const calls = sim.apiCalls;
            const ok = await call('mgr', { action: 'list' });
            assert.strictEqual(ok.msg.statusCode, 200);
            assert.strictEqual(sim.apiCalls - calls, 3);
            sim.injectFailures(10, 500);
            const failed = await call('mgr', { action: 'list' });
            assert.strictEqual(failed.msg.statusCode, 500);
            assert.match(failed.error.message, /answered 500/);
            sim.injectFailures(0);
        });

        it('a 401 from the API reaches a Catch node with msg.statusCode', async function () {
            await sim.stop();
            sim = new DurstSimulator({ apiAuth: { type: 'basic', user: 'api', password: 'right' } });
            await sim.start();
            await helper.load(modules, managerFlow(subscriber({ apiAuth: 'basic' })), { sub: { apiUser: 'api', apiPassword: 'wrong' } });
            const result = await call('mgr', { action: 'list' });
            assert.strictEqual(result.msg.statusCode, 401);
            assert.match(result.error.message, /401 \(unauthorized/);
            assert.strictEqual(sim.apiCalls, 1, '401 is not retried');
            assert.strictEqual(sim.subscribers().length, 0);
        });

        it('ensureOnDeploy keeps retrying while Durst fails at deploy time, then ends with one ACTIVE subscription', async function () {
            sim.injectFailures(7, 503);
            await helper.load(modules, managerFlow(subscriber(), { ensureOnDeploy: true }));
            await waitFor(() => sim.subscribers().length === 1 && sim.subscriptions(17).length === 1, 'subscription after retries');
            await waitFor(() => lastStatus(helper.getNode('mgr')).fill === 'green', 'green status');
            const mgr = helper.getNode('mgr');
            assert.ok(mgr.error.getCalls().some((c) => c.thisValue === mgr && /will retry/.test(c.args[0])));
            assert.strictEqual(sim.subscribers().length, 1);
        });

        it('a redeploy stops the old node\'s retries and in-flight calls', async function () {
            sim.injectFailures(1000, 503);
            await helper.load(modules, managerFlow(subscriber(), { ensureOnDeploy: true }));
            await waitFor(() => sim.apiCalls >= 4, 'a few failing attempts');
            sim.setLatency(300);
            await setFlows(helper, managerFlow(subscriber(), { ensureOnDeploy: false, name: 'idle now' }), 'full');
            // a duration: calls already under way settle for 50 ms before counting.
            await sleep(50);
            const settled = sim.apiCalls;
            // a duration: no API call may follow within the 400 ms window.
            await sleep(400);
            assert.strictEqual(sim.apiCalls, settled, 'no API call after the redeploy');
            sim.setLatency(0);
            sim.injectFailures(0);
        });

        it('re-registers on the next call after the subscriber vanished in Durst', async function () {
            await helper.load(modules, managerFlow(subscriber()));
            await call('mgr', { action: 'list' });
            sim.deleteSubscriber(17);
            const failed = await call('mgr', { action: 'list' });
            assert.strictEqual(failed.msg.statusCode, 404);
            const again = await call('mgr', { action: 'list' });
            assert.strictEqual(again.msg.statusCode, 200);
            assert.deepStrictEqual(sim.subscribers().map((s) => s.id), [18]);
        });

        it('ensureOnDeploy reactivates an INACTIVE subscription instead of creating another', async function () {
            await helper.load(modules, managerFlow(subscriber(), { ensureOnDeploy: true }));
            await waitFor(() => sim.subscriptions(17).length === 1, 'subscription');
            const id = sim.subscriptions(17)[0].id;
            await call('mgr', { action: 'deactivate', subscriptionId: id });
            assert.strictEqual(sim.subscriptions(17)[0].status, 'INACTIVE');
            await setFlows(helper, managerFlow(subscriber(), { ensureOnDeploy: true, name: 'again' }), 'full');
            await waitFor(() => sim.subscriptions(17)[0].status === 'ACTIVE', 'reactivation');
            assert.strictEqual(sim.subscriptions(17).length, 1);
        });
    });

    describe('webhook-in', function () {
        function hookFlow(sub, extra = []) {
            return [sub,
                { id: 'hook', type: 'durst-webhook-in', name: '', subscriber: 'sub', url: '/durst/status', wires: [['out']] },
                { id: 'mgr', type: 'durst-subscription', name: '', subscriber: 'sub', topic: 'STATUS/PRODUCTION_JOB/*', path: 'durst/status',
                    publishInitialState: false, ensureOnDeploy: true, wires: [[]] },
                { id: 'out', type: 'helper' }, ...extra];
        }

        async function fireAndReceive(sub, creds, simOptions) {
            if (simOptions) {
                await sim.stop();
                sim = new DurstSimulator({ apiAuth: { type: 'none' }, ...simOptions });
                await sim.start();
                sub.apiUrl = sim.url;
            }
            await helper.load(modules, hookFlow(sub), creds);
            await waitFor(() => sim.subscriptions(17).length === 1, 'subscription');
            const received = new Promise((resolve) => helper.getNode('out').once('input', resolve));
            const [delivery] = await sim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTING', 'IMPOSED');
            assert.strictEqual(delivery.status, 200, delivery.error);
            return received;
        }

        it('end to end with NONE: subscription created, simulator fires, webhook emits the msg', async function () {
            const msg = await fireAndReceive(subscriber(), {});
            assert.strictEqual(msg.topic, 'STATUS/PRODUCTION_JOB/2068');
            assert.strictEqual(msg.event, 'status');
            assert.strictEqual(msg.payload.newStatus, 'PRINTING');
            assert.strictEqual(msg.payload.oldStatus, 'IMPOSED');
            assert.deepStrictEqual(msg.auth, { type: 'NONE' });
        });

        it('end to end with XAUTH headers', async function () {
            const msg = await fireAndReceive(subscriber({ externalAuthType: 'XAUTH', xAuthUser: 'durst' }), { sub: { xAuthPassword: XAUTH_PASSWORD } });
            assert.deepStrictEqual(msg.auth, { type: 'XAUTH', via: 'x-auth-headers', user: 'durst', secret: 'configured', secretForm: 'text', charset: 'utf-8' });
            assert.ok(!JSON.stringify(msg).includes(XAUTH_PASSWORD));
        });

        it('end to end with XAUTH as HTTP Basic', async function () {
            const msg = await fireAndReceive(subscriber({ externalAuthType: 'XAUTH', xAuthUser: 'durst' }), { sub: { xAuthPassword: XAUTH_PASSWORD } },
                { xAuthStyle: 'basic' });
            assert.strictEqual(msg.auth.via, 'basic');
        });

        it('end to end with JWT_SIGNING, body digest checked', async function () {
            const msg = await fireAndReceive(subscriber({ externalAuthType: 'JWT_SIGNING', jwtMethod: 'HS384' }), { sub: { jwtKey: JWT_KEY } });
            assert.strictEqual(msg.auth.type, 'JWT_SIGNING');
            assert.strictEqual(msg.auth.alg, 'HS384');
            assert.strictEqual(msg.auth.digestVerified, true);
            assert.strictEqual(msg.auth.claims.sub, 'STATUS/PRODUCTION_JOB/2068');
            assert.ok(!JSON.stringify(msg).includes(JWT_KEY));
        });

        it('works behind a body parser that already read the body (stock Node-RED: editor and HTTP nodes both on "/")', async function () {
            // Node-RED's admin app parses every JSON request first when both roots are '/', which is the default.
            const jsonParser = require('body-parser').json();
            await helper.unload();
            helper.settings({ httpNodeMiddleware: jsonParser });
            const msg = await fireAndReceive(subscriber({ externalAuthType: 'JWT_SIGNING', jwtMethod: 'HS256' }), { sub: { jwtKey: JWT_KEY } });
            assert.strictEqual(msg.auth.digestVerified, true);
            assert.strictEqual(msg.payload.entityId, 2068);
            assert.strictEqual(msg.topic, 'STATUS/PRODUCTION_JOB/2068');
            // A body changed after signing still fails the digest check on this path.
            const signed = sim.deliveries[sim.deliveries.length - 1];
            const tampered = await post('/durst/status', JSON.stringify({ ...signed.body, newStatus: 'CANCELLED' }),
                { 'content-type': 'application/json', 'x-jwt-token': signed.headers['x-jwt-token'] });
            assert.strictEqual(tampered.status, 401);
        });

        it('keeps its body limit when a parser ahead of it with a larger limit already read the body', async function () {
            await helper.unload();
            helper.settings({ apiMaxLength: '1kb', httpNodeMiddleware: require('body-parser').json({ limit: '1mb' }) });
            await helper.load(modules, hookFlow(subscriber()));
            const small = await post('/durst/status', JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 1, newStatus: 'CREATED' }));
            assert.strictEqual(small.status, 200);
            const big = await post('/durst/status', JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 1, note: 'x'.repeat(4096) }));
            assert.strictEqual(big.status, 413);
        });

        it('publishInitialState delivers the current state of a concrete-id subscription', async function () {
            await helper.load(modules, hookFlow(subscriber()));
            await waitFor(() => sim.subscriptions(17).length === 1, 'subscription');
            const received = new Promise((resolve) => helper.getNode('out').once('input', resolve));
            helper.getNode('mgr').receive({ action: 'create', topic: 'STATUS/MOTIF/11094', payload: { publishInitialState: true } });
            const msg = await received;
            assert.strictEqual(msg.topic, 'STATUS/MOTIF/11094');
            assert.strictEqual(msg.payload.newStatus, 'CREATED');
        });

        it('workflow callbacks are emitted with a WORKFLOW topic', async function () {
            await helper.load(modules, hookFlow(subscriber()));
            await waitFor(() => sim.subscriptions(17).length === 1, 'subscription');
            helper.getNode('mgr').receive({ action: 'create', topic: 'WORKFLOW/motif-checkin/*' });
            await waitFor(() => sim.subscriptions(17).length === 2, 'second subscription');
            const received = new Promise((resolve) => helper.getNode('out').once('input', resolve));
            await sim.fireWorkflow('motif-checkin', 12842, { progress: 100 });
            const msg = await received;
            assert.strictEqual(msg.topic, 'WORKFLOW/motif-checkin/12842');
            assert.strictEqual(msg.event, 'workflow');
        });

        it('rejects a wrongly signed callback with 401 and emits nothing; counts it in the status', async function () {
            await helper.load(modules, hookFlow(subscriber({ externalAuthType: 'JWT_SIGNING' })), { sub: { jwtKey: JWT_KEY } });
            let emitted = 0;
            helper.getNode('out').on('input', () => { emitted++; });
            const res = await post('/durst/status', JSON.stringify({ entityType: 'MOTIF', entityId: 1, newStatus: 'X' }),
                { 'content-type': 'application/json', 'x-jwt-token': 'forged' });
            assert.strictEqual(res.status, 401);
            // a duration: nothing may be emitted within 50 ms.
            await sleep(50);
            assert.strictEqual(emitted, 0);
            const status = lastStatus(helper.getNode('hook'));
            assert.strictEqual(status.text, 'durst-webhook-in.status.listeningRejected');
        });

        it('answers 400 for malformed JSON, 413 for an oversized body, 415 for a wrong content type', async function () {
            await helper.load(modules, hookFlow(subscriber()));
            let emitted = 0;
            helper.getNode('out').on('input', () => { emitted++; });
            assert.strictEqual((await post('/durst/status', '{"entityType": "MOTIF",')).status, 400);
            assert.strictEqual((await post('/durst/status', JSON.stringify({ pad: 'x'.repeat(8192) }))).status, 413);
            assert.strictEqual((await post('/durst/status', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
            assert.strictEqual((await post('/durst/status', '{"entityType":"MOTIF","entityId":3,"newStatus":"X"}',
                { 'content-type': 'application/problem+json' })).status, 200);
            // a duration: exactly one msg, no second within 50 ms.
            await sleep(50);
            assert.strictEqual(emitted, 1);
        });

        it('forgets a request whose client disconnects mid-body and keeps serving', async function () {
            await helper.load(modules, hookFlow(subscriber()));
            let emitted = 0;
            helper.getNode('out').on('input', () => { emitted++; });
            const hook = helper.getNode('hook');
            const statusCalls = () => hook.status.getCalls().filter((c) => c.thisValue === hook).length;
            const before = statusCalls();
            await new Promise((resolve) => {
                const req = http.request(new URL('/durst/status', hostUri), { method: 'POST',
                    headers: { 'content-type': 'application/json', 'content-length': '100' } });
                req.on('error', () => resolve());
                req.write('{"entityType":');
                setTimeout(() => { req.destroy(); resolve(); }, 50);
            });
            // a duration: the abandoned request is not counted within 700 ms.
            await sleep(700);
            assert.strictEqual(statusCalls(), before, 'an abandoned request is not counted as rejected');
            assert.strictEqual((await post('/durst/status', '{"entityType":"MOTIF","entityId":1,"newStatus":"X"}')).status, 200);
            // a duration: exactly one msg, no second within 20 ms.
            await sleep(20);
            assert.strictEqual(emitted, 1);
        });

        it('leaves no stale route after a redeploy and passes unknown paths on', async function () {
            await helper.load(modules, hookFlow(subscriber()));
            assert.strictEqual((await post('/durst/status', '{}')).status, 200);
            const moved = hookFlow(subscriber());
            moved[1] = { ...moved[1], url: 'durst/moved/' };
            await setFlows(helper, moved, 'full');
            assert.strictEqual((await post('/durst/status', '{}')).status, 404, 'old path falls through to next()');
            assert.strictEqual((await post('/durst/moved', '{}')).status, 200);
            assert.strictEqual((await post('/elsewhere', '{}')).status, 404);
            await setFlows(helper, moved, 'nodes');
            assert.strictEqual((await post('/durst/moved', '{}')).status, 200, 'survives a modified-nodes deploy');
        });

        it('runs httpNodeMiddleware before the webhook', async function () {
            await helper.unload();
            helper.settings({ httpNodeMiddleware: (req, res, next) => {
                if (req.headers['x-gateway'] !== 'ok') { res.statusCode = 403; res.end('gateway says no'); return; }
                next();
            } });
            await helper.load(modules, hookFlow(subscriber()));
            assert.strictEqual((await post('/durst/status', '{}')).status, 403);
            assert.strictEqual((await post('/durst/status', '{}', { 'content-type': 'application/json', 'x-gateway': 'ok' })).status, 200);
        });

        it('applies httpNodeCors to the webhook path, preflight included', async function () {
            await helper.unload();
            helper.settings({ httpNodeCors: { origin: 'https://ui.example', methods: 'POST' } });
            await helper.load(modules, hookFlow(subscriber()));
            const preflight = await new Promise((resolve, reject) => {
                const req = http.request(new URL('/durst/status', hostUri), { method: 'OPTIONS',
                    headers: { origin: 'https://ui.example', 'access-control-request-method': 'POST' } }, (res) => { res.resume(); resolve(res); });
                req.on('error', reject);
                req.end();
            });
            assert.strictEqual(preflight.statusCode, 204);
            assert.strictEqual(preflight.headers['access-control-allow-origin'], 'https://ui.example');
            const res = await new Promise((resolve, reject) => {
                const req = http.request(new URL('/durst/status', hostUri), { method: 'POST',
                    headers: { 'content-type': 'application/json', origin: 'https://ui.example' } }, (r) => { r.resume(); resolve(r); });
                req.on('error', reject);
                req.end('{}');
            });
            assert.strictEqual(res.statusCode, 200);
            assert.strictEqual(res.headers['access-control-allow-origin'], 'https://ui.example');
        });

        it('installs no route and warns when httpNodeRoot is false', async function () {
            await helper.unload();
            helper.settings({ httpNodeRoot: false });
            await helper.load(modules, hookFlow(subscriber()));
            const hook = helper.getNode('hook');
            assert.strictEqual(lastStatus(hook).text, 'durst-webhook-in.status.httpDisabled');
            assert.ok(hook.warn.getCalls().some((c) => c.thisValue === hook && /httpNodeRoot/.test(c.args[0])));
            assert.strictEqual((await post('/durst/status', '{}')).status, 404);
        });

        it('refuses a duplicate path with a clear error and a red status on the second node', async function () {
            const flow = hookFlow(subscriber(), [{ id: 'hook2', type: 'durst-webhook-in', name: '', subscriber: 'sub', url: 'durst/status/', wires: [['out']] }]);
            await helper.load(modules, flow);
            const second = helper.getNode('hook2');
            const status = lastStatus(second);
            assert.strictEqual(status.fill, 'red');
            assert.strictEqual(status.text, 'durst-webhook-in.status.duplicate');
            assert.ok(second.error.getCalls().some((c) => c.thisValue === second && /already listens on \/durst\/status/.test(c.args[0])));
            assert.strictEqual((await post('/durst/status', '{}')).status, 200, 'the first node keeps the path');
        });
    });
});
