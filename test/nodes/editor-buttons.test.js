'use strict';
// The editor buttons ("Test connection" of printfactory-config, "Register / check" of durst-subscriber)
// driven through the test helper's admin app against the real simulators on loopback:
//  - credentials given as `${VAR}` (stored or typed) reach the vendor resolved, as the runtime resolves them;
//  - a stored secret never goes to a URL other than the deployed one (a second listener proves nothing arrived);
//  - "Test connection" reports the organisation's live connection instead of opening a second one;
//  - no error answer contains a secret.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const pfConfigNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const pfNotificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const subscriptionNode = require('../../dist/nodes/durst-subscription/durst-subscription.js');
const webhookNode = require('../../dist/nodes/durst-webhook-in/durst-webhook-in.js');
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { startBystander } = require('../lib/bystander');
const { resolveEnvReference } = require('../../dist/nodes/lib/editor-secrets');
// Only to compare with: the function Node-RED 4.1 applies to every credential of a node it creates.
const fromNodeRed = (id) => require(require.resolve(id, { paths: [require('path').dirname(require.resolve('node-red'))] }));
const { sleep, waitFor } = require('../lib/wait');
const { failureOf } = require('../lib/admin-answer');
const { startDurstRig, stopDurstRig } = require('../lib/durst-helper');
const { mapEnvVarProperties } = fromNodeRed('@node-red/runtime/lib/flows/util');
const { util: redUtil } = fromNodeRed('@node-red/util');

helper.init(require.resolve('node-red'));

const MIS_KEY = 'editor-button-mis-key-31d7';
const API_TOKEN = 'editor-button-api-token-8a2f';
const API_PASSWORD = 'editor-button-api-password-c4e1';
const JWT_KEY = 'editor-button-jwt-key-0123456789abcdef';
const XAUTH_PASSWORD = 'editor-button-xauth-password-5b90';
const SECRETS = [MIS_KEY, API_TOKEN, API_PASSWORD, JWT_KEY, XAUTH_PASSWORD];
const PLACEHOLDER = '__PWRD__';
const FAST = { pingInterval: 1, handshakeTimeout: 1, reconnectMin: 0.05, reconnectMax: 0.2, stableAfter: 60, authRetry: 1 };
const ENV = {
    PE_TEST_MISKEY: MIS_KEY,
    PE_TEST_DURST_TOKEN: API_TOKEN,
    PE_TEST_DURST_PASSWORD: API_PASSWORD,
    PE_TEST_DURST_JWT: JWT_KEY,
    PE_TEST_DURST_XAUTH: XAUTH_PASSWORD
};

/** An answer must never repeat a secret, whatever it says. */
function assertNoSecret(res) {
    const text = JSON.stringify(res.body) + (res.text || '');
    for (const secret of SECRETS) { assert.ok(!text.includes(secret), `the answer contains a secret: ${text}`); }
}

/** Posts `form` (urlencoded text) to `path` as an HTML form and as text/plain: each refused with 415 JSON, no secret in it. */
async function assertRefusesNonJson(path, form) {
    for (const type of ['form', 'text/plain']) {
        const res = await helper.request().post(path).type(type).send(form);
        assert.strictEqual(res.status, 415, type + ' -> ' + res.text);
        assert.deepStrictEqual([res.body.ok, res.body.code, typeof res.body.error], [false, 'notJson', 'string']);
        assertNoSecret(res);
    }
}

function setEnv() { Object.assign(process.env, ENV); }
function clearEnv() { for (const name of [...Object.keys(ENV), 'PE_TEST_PF_URL']) { delete process.env[name]; } }

describe('resolveEnvReference', function () {
    afterEach(clearEnv);

    it('gives what the runtime gives a node for the same credential text', function () {
        setEnv();
        const RED = { util: redUtil, settings: {} };
        const values = ['${PE_TEST_MISKEY}', '$(PE_TEST_MISKEY)', 'x${PE_TEST_MISKEY}', '${PE_TEST_MISKEY}x', '${PE_TEST_MISKEY}${PE_TEST_MISKEY}',
            '${ PE_TEST_MISKEY}', '${PE_TEST_UNSET}', '$PE_TEST_MISKEY', '{PE_TEST_MISKEY}', 'PE_TEST_MISKEY', '', '${}'];
        for (const value of values) {
            const runtime = { credential: value };
            mapEnvVarProperties(runtime, 'credential', undefined, {});
            assert.strictEqual(resolveEnvReference(RED, value).value, runtime.credential, value);
        }
        assert.strictEqual(resolveEnvReference(RED, '${PE_TEST_MISKEY}').value, MIS_KEY);
        assert.strictEqual(resolveEnvReference(RED, '${PE_TEST_UNSET}').unresolved, 'PE_TEST_UNSET');
    });
});

describe('editor buttons with stored and ${VAR} secrets', function () {
    this.timeout(15000);
    let bystander;

    beforeEach(async function () {
        setEnv();
        bystander = await startBystander();
    });

    afterEach(async function () {
        clearEnv();
        await bystander.stop();
    });

    describe('printfactory-config "Test connection"', function () {
        let sim;
        let seen;
        const post = (body) => helper.request().post('/print-events/printfactory/test').send(body);
        const TAB = { id: 'tab', type: 'tab', label: 'test' };
        const config = (extra = {}) => ({ id: 'cfg', type: 'printfactory-config', name: 'account', url: sim.url, ...FAST, ...extra });

        beforeEach(function (done) { helper.startServer(done); });
        beforeEach(async function () {
            sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [MIS_KEY] });
            await sim.start();
            seen = { accepted: [], rejected: [] };
            sim.on('connection', (misKey) => seen.accepted.push(misKey));
            sim.on('rejected', (reason) => seen.rejected.push(reason));
        });

        afterEach(async function () {
            await helper.unload();
            await sim.stop();
            await new Promise((resolve) => helper.stopServer(resolve));
        });

        it('resolves a stored ${VAR} MisKey as the runtime does and sends the value', async function () {
            await helper.load([pfConfigNode], [config()], { cfg: { misKey: '${PE_TEST_MISKEY}' } });
            assert.strictEqual(helper.getNode('cfg').credentials.misKey, MIS_KEY, 'the runtime resolves the reference');
            const res = await post({ id: 'cfg', url: sim.url, misKey: PLACEHOLDER });
            assert.deepStrictEqual(res.body, { ok: true, result: 'accepted' });
            assert.deepStrictEqual(seen.accepted, [MIS_KEY], 'the simulator accepted the resolved MisKey');
        });

        it('resolves a MisKey typed as ${VAR} or $(VAR), and leaves embedded references as text, like the runtime', async function () {
            await helper.load([pfConfigNode], [config({ id: 'embedded' })], { embedded: { misKey: 'x${PE_TEST_MISKEY}' } });
            assert.strictEqual(helper.getNode('embedded').credentials.misKey, 'x${PE_TEST_MISKEY}', 'the runtime substitutes whole values only');
            let res = await post({ url: sim.url, misKey: '${PE_TEST_MISKEY}' });
            assert.deepStrictEqual(res.body, { ok: true, result: 'accepted' });
            await waitFor(() => sim.connectionCount === 0, 'the test socket to close');
            res = await post({ url: sim.url, misKey: '$(PE_TEST_MISKEY)' });
            assert.deepStrictEqual(res.body, { ok: true, result: 'accepted' });
            assert.deepStrictEqual(seen.accepted, [MIS_KEY, MIS_KEY]);
            await waitFor(() => sim.connectionCount === 0, 'the test socket to close');
            res = await post({ url: sim.url, misKey: 'x${PE_TEST_MISKEY}' });
            assert.deepStrictEqual(failureOf(res), { status: 400, ok: false, code: 'problem', error: 'string',
                vars: { cause: 'rejected', statusCode: 403, detail: '' }, statusCode: 403 });
        });

        it('resolves a typed ${VAR} in the deployed node\'s context: a flow environment variable', async function () {
            const tab = { id: 'tab', type: 'tab', label: 'test', env: [{ name: 'PE_TEST_FLOW_KEY', value: MIS_KEY, type: 'str' }] };
            await helper.load([pfConfigNode], [tab, config({ z: 'tab' })], { cfg: { misKey: '${PE_TEST_FLOW_KEY}' } });
            assert.strictEqual(helper.getNode('cfg').credentials.misKey, MIS_KEY, 'the runtime reads the flow variable');
            let res = await post({ id: 'cfg', url: sim.url, misKey: PLACEHOLDER });
            assert.deepStrictEqual(res.body, { ok: true, result: 'accepted' });
            await waitFor(() => sim.connectionCount === 0, 'the test socket to close');
            res = await post({ id: 'cfg', url: sim.url, misKey: '${PE_TEST_FLOW_KEY}' });
            assert.deepStrictEqual(res.body, { ok: true, result: 'accepted' });
            assert.deepStrictEqual(seen.accepted, [MIS_KEY, MIS_KEY]);
            // Without a deployed node there is no flow to ask: only the process environment counts.
            res = await post({ url: sim.url, misKey: '${PE_TEST_FLOW_KEY}' });
            assert.deepStrictEqual([res.status, res.body.code], [400, 'envUnset']);
        });

        it('refuses a reference to an unset variable instead of sending its text', async function () {
            await helper.load([pfConfigNode], [config()], { cfg: { misKey: '${PE_TEST_UNSET}' } });
            for (const body of [{ url: sim.url, misKey: '${PE_TEST_UNSET}' }, { id: 'cfg', url: sim.url, misKey: PLACEHOLDER }]) {
                const res = await post(body);
                assert.strictEqual(res.status, 400);
                assert.strictEqual(res.body.ok, false);
                assert.strictEqual(res.body.code, 'envUnset');
                assert.match(res.body.error, /PE_TEST_UNSET/);
            }
            assert.deepStrictEqual(seen, { accepted: [], rejected: [] }, 'nothing reached the simulator');
        });

        it('uses the stored MisKey only with the deployed URL: another URL gets 400 and nothing reaches it', async function () {
            await helper.load([pfConfigNode, pfNotificationNode], [TAB, config(),
                { id: 'pf', type: 'printfactory-notification', z: 'tab', account: 'cfg', events: [], wires: [[]] }],
            { cfg: { misKey: MIS_KEY } });
            await waitFor(() => sim.connectionCount === 1, 'the live connection');
            const elsewhere = `ws://127.0.0.1:${bystander.port}/`;
            for (const body of [
                { id: 'cfg', url: elsewhere, misKey: PLACEHOLDER },
                { id: 'cfg', url: `ws://localhost:${sim.port}`, misKey: PLACEHOLDER }, // same server, another name: still another URL
                { id: 'pf', url: sim.url, misKey: PLACEHOLDER }, // not a printfactory-config
                { id: 'never-deployed', url: sim.url, misKey: PLACEHOLDER }
            ]) {
                const res = await post(body);
                assert.strictEqual(res.status, 400, JSON.stringify(body));
                assert.deepStrictEqual([res.body.ok, res.body.code], [false, 'reenterSecret'], JSON.stringify(body));
                assertNoSecret(res);
            }
            // An emptied field is "no MisKey" there, not the stored one.
            const empty = await post({ id: 'cfg', url: elsewhere, misKey: '' });
            assert.strictEqual(empty.status, 400);
            assert.match(empty.body.error, /no MisKey/);
            assert.strictEqual(empty.body.code, 'misKeyRequired');
            // a duration: no connection may reach the other URL within 200 ms.
            await sleep(200);
            assert.strictEqual(bystander.connections, 0, 'a connection reached the other URL');
            assert.ok(!bystander.received.includes(MIS_KEY));
            assert.deepStrictEqual(seen.accepted, [MIS_KEY], 'only the live connection reached the simulator');
            // The deployed URL written slightly differently is the same endpoint.
            const same = await post({ id: 'cfg', url: sim.url + '/', misKey: PLACEHOLDER });
            assert.deepStrictEqual(same.body, { ok: true, result: 'liveConnected' });
        });

        it('answers malformed requests with 400 JSON, never an exception', async function () {
            await helper.load([pfConfigNode], [config()], { cfg: { misKey: MIS_KEY } });
            for (const body of [{ id: 'cfg', url: 5, misKey: PLACEHOLDER }, { id: 'cfg', url: sim.url, misKey: 5 }, { id: ['cfg'], url: sim.url, misKey: PLACEHOLDER },
                [], { url: 'http://127.0.0.1:9', misKey: MIS_KEY }]) {
                const res = await post(body);
                assert.strictEqual(res.status, 400, JSON.stringify(body) + ' -> ' + res.text);
                assert.deepStrictEqual([res.body.ok, typeof res.body.error], [false, 'string'], JSON.stringify(body));
                assertNoSecret(res);
            }
            assert.deepStrictEqual(seen, { accepted: [], rejected: [] });
        });

        it('refuses a body that is not JSON (a cross-site HTML form can send urlencoded without a preflight) with 415 JSON', async function () {
            await helper.load([pfConfigNode], [config()], { cfg: { misKey: MIS_KEY } });
            await assertRefusesNonJson('/print-events/printfactory/test', `url=${encodeURIComponent(sim.url)}&misKey=${encodeURIComponent('${PE_TEST_MISKEY}')}`);
            assert.deepStrictEqual(seen, { accepted: [], rejected: [] });
        });

        /** A plain HTTP server that answers every WebSocket upgrade with `status` (a wrong path, a busy organisation). */
        async function answering(status, seenHeaders = []) {
            const server = require('http').createServer((_req, res) => { res.statusCode = 426; res.end(); });
            server.on('upgrade', (req, socket) => {
                seenHeaders.push(req.headers);
                socket.end(`HTTP/1.1 ${status} Whatever\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
            });
            await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
            return { url: `ws://127.0.0.1:${server.address().port}/notifications`, close: () => new Promise((resolve) => server.close(resolve)) };
        }

        it('names what happened: 404 (no notification server), 409 (another connection), 403 (rejected), each as a code', async function () {
            await helper.load([pfConfigNode], [config()], { cfg: { misKey: MIS_KEY } });
            for (const [status, code] of [[404, 'notFound'], [409, 'refused409'], [403, 'rejected'], [429, 'rateLimited'], [503, 'unavailable'], [200, 'notWebSocket'], [418, 'httpStatus']]) {
                const server = await answering(status);
                try {
                    const res = await post({ url: server.url, misKey: MIS_KEY });
                    assert.deepStrictEqual(failureOf(res), { status: code === 'rejected' ? 400 : 502, ok: false, code: 'problem', error: 'string',
                        vars: { cause: code, statusCode: status, detail: '' }, statusCode: status });
                    assertNoSecret(res);
                } finally { await server.close(); }
            }
            const dns = await post({ url: 'ws://no-such-host.invalid:27489', misKey: MIS_KEY });
            assert.deepStrictEqual(failureOf(dns), { status: 502, ok: false, code: 'problem', error: 'string', vars: { cause: 'hostNotFound', statusCode: '', detail: '' } });
        });

        it('sends the MisKey trimmed', async function () {
            await helper.load([pfConfigNode], [config()], { cfg: { misKey: MIS_KEY } });
            const res = await post({ url: sim.url, misKey: `  ${MIS_KEY}\t` });
            assert.deepStrictEqual(res.body, { ok: true, result: 'accepted' });
            assert.deepStrictEqual(seen.accepted, [MIS_KEY]);
        });

        it('with the MisKey held by this runtime, another URL is tried without the MisKey and the answer says so (never "fine" untested)', async function () {
            await helper.load([pfConfigNode, pfNotificationNode], [TAB, config(),
                { id: 'pf', type: 'printfactory-notification', z: 'tab', account: 'cfg', events: [], wires: [[]] }], { cfg: { misKey: MIS_KEY } });
            await waitFor(() => sim.connectionCount === 1, 'the live connection');
            // Nothing listens there (issue #21: this was "Not tested: already holds the connection").
            const nothing = await post({ url: 'ws://127.0.0.1:9', misKey: MIS_KEY });
            assert.deepStrictEqual(failureOf(nothing), { status: 502, ok: false, code: 'probeFailed', error: 'string',
                vars: { cause: 'connectionRefused', statusCode: '', detail: '', holderUrl: sim.url } });
            // A wrong path on a web server.
            const headers = [];
            const wrong = await answering(404, headers);
            try {
                const res = await post({ url: wrong.url, misKey: ` ${MIS_KEY}` });
                assert.deepStrictEqual(failureOf(res), { status: 502, ok: false, code: 'probeFailed', error: 'string',
                    vars: { cause: 'notFound', statusCode: 404, detail: '', holderUrl: sim.url }, statusCode: 404 });
            } finally { await wrong.close(); }
            assert.strictEqual(headers.length, 1);
            assert.strictEqual(headers[0].miskey, undefined, 'the MisKey was not sent to the other URL');
            // Another notification server: it asks for the MisKey it did not get.
            const other = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [MIS_KEY] });
            await other.start();
            const otherSeen = [];
            other.on('rejected', (reason) => otherSeen.push(reason));
            try {
                const res = await post({ url: other.url, misKey: MIS_KEY });
                assert.deepStrictEqual(res.body, { ok: true, result: 'probeAnswered', vars: { statusCode: 401, holderUrl: sim.url } });
                assert.deepStrictEqual(otherSeen, ['auth'], 'one handshake without MisKey (401)');
                assert.strictEqual(other.peakConnections, 0);
            } finally { await other.stop(); }
            assert.deepStrictEqual(seen, { accepted: [MIS_KEY], rejected: [] }, 'the live connection alone reached the simulator');
        });

        it('with the MisKey held at this URL but failing, the answer is the live connection\'s cause', async function () {
            const intruder = new (require('ws'))(sim.url, { headers: { MisKey: MIS_KEY } });
            await new Promise((resolve, reject) => { intruder.once('open', resolve); intruder.once('error', reject); });
            try {
                await helper.load([pfConfigNode, pfNotificationNode], [TAB, config(),
                    { id: 'pf', type: 'printfactory-notification', z: 'tab', account: 'cfg', events: [], wires: [[]] }], { cfg: { misKey: MIS_KEY } });
                await waitFor(() => seen.rejected.includes('duplicate'), 'the node refused with 409');
                let res;
                await waitFor(async () => { res = await post({ id: 'cfg', url: sim.url, misKey: PLACEHOLDER }); return res.body.code === 'liveFailing'; }, 'liveFailing');
                assert.deepStrictEqual(failureOf(res), { status: 502, ok: false, code: 'liveFailing', error: 'string',
                    vars: { cause: 'refused409', statusCode: 409, detail: '' }, statusCode: 409 });
            } finally { intruder.terminate(); }
        });

        it('reports the live connection of an organisation instead of opening a second handshake', async function () {
            process.env.PE_TEST_PF_URL = sim.url;
            await helper.load([pfConfigNode, pfNotificationNode], [TAB, config({ url: '${PE_TEST_PF_URL}' }),
                { id: 'pf', type: 'printfactory-notification', z: 'tab', account: 'cfg', events: [], wires: [[]] }],
            { cfg: { misKey: '${PE_TEST_MISKEY}' } });
            await waitFor(() => sim.connectionCount === 1, 'the live connection');
            for (const body of [
                { id: 'cfg', url: sim.url, misKey: PLACEHOLDER },
                { id: 'cfg', url: '${PE_TEST_PF_URL}', misKey: PLACEHOLDER },
                { url: sim.url, misKey: '${PE_TEST_MISKEY}' },
                { url: sim.url, misKey: MIS_KEY }
            ]) {
                const res = await post(body);
                assert.deepStrictEqual(res.body, { ok: true, result: 'liveConnected' }, JSON.stringify(body));
            }
            // a duration: no second handshake within 200 ms.
            await sleep(200);
            assert.deepStrictEqual(seen, { accepted: [MIS_KEY], rejected: [] }, 'no second handshake');
            assert.strictEqual(sim.connectionCount, 1);
            assert.strictEqual(sim.peakConnections, 1);
        });
    });

    describe('durst-subscriber "Register / check"', function () {
        let RED;
        let rig;
        let sim;
        let hostUri;
        const modules = [(red) => { RED = red; }, subscriberNode, subscriptionNode, webhookNode];
        // `mode: 'apply'`: what the dialog sends once the user confirmed the plan (the check step has tests of its own).
        const register = (body) => helper.request().post('/print-events/durst/subscriber/register')
            .send(body && typeof body === 'object' && !Array.isArray(body) ? { mode: 'apply', ...body } : body);

        async function startSim(options) {
            if (sim) { await sim.stop(); }
            sim = new DurstSimulator({ apiAuth: { type: 'none' }, ...options });
            await sim.start();
        }

        beforeEach(async function () {
            RED = undefined;
            // No simulator yet: each test starts the one it needs (startSim).
            rig = await startDurstRig(helper, { getRED: () => RED, simOptions: false, settings: { durstApiRetryDelay: 5, durstApiTimeout: 2000, durstEnsureRetryDelay: 20 } });
            ({ sim, hostUri } = rig);
        });

        afterEach(() => stopDurstRig(helper, { ...rig, sim }));

        function subscriber(extra = {}) {
            return { id: 'sub', type: 'durst-subscriber', name: 'sim', apiUrl: sim.url, apiAuth: 'none', hostUri,
                externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra };
        }
        /** What the editor posts for `sub`: every password field shows the placeholder of its stored value. */
        function form(sub, credentials) {
            const { id, apiUrl, apiAuth, hostUri: host, externalAuthType, xAuthUser, jwtHeaderName, jwtMethod, subscriberId } = sub;
            return { id, apiUrl, apiAuth, hostUri: host, externalAuthType, xAuthUser, jwtHeaderName, jwtMethod, subscriberId, credentials };
        }
        function hookFlow(sub, ensureOnDeploy) {
            return [sub,
                { id: 'hook', type: 'durst-webhook-in', name: '', subscriber: 'sub', url: '/durst/status', wires: [['out']] },
                { id: 'mgr', type: 'durst-subscription', name: '', subscriber: 'sub', topic: 'STATUS/PRODUCTION_JOB/*', path: 'durst/status',
                    publishInitialState: false, ensureOnDeploy, wires: [['answers']] },
                { id: 'out', type: 'helper' },
                { id: 'answers', type: 'helper' }];
        }
        async function fireAndReceive() {
            const received = new Promise((resolve) => helper.getNode('out').once('input', resolve));
            const [delivery] = await sim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTING', 'IMPOSED');
            assert.strictEqual(delivery.status, 200, `the webhook refused the callback: ${delivery.status} ${delivery.error || ''}`);
            return received;
        }

        it('bearer token and JWT key from ${VAR}: Durst sees the values, and its callbacks verify', async function () {
            await startSim({ apiAuth: { type: 'bearer', token: API_TOKEN } });
            const sub = subscriber({ apiAuth: 'bearer', externalAuthType: 'JWT_SIGNING' });
            await helper.load(modules, hookFlow(sub, false), { sub: { apiToken: '${PE_TEST_DURST_TOKEN}', jwtKey: '${PE_TEST_DURST_JWT}' } });
            const res = await register(form(sub, { apiToken: PLACEHOLDER, jwtKey: PLACEHOLDER }));
            assert.deepStrictEqual(res.body, { ok: true, subscriberId: 17, action: 'created' });
            assert.deepStrictEqual(sim.requests.map((r) => r.authorization), ['Bearer ' + API_TOKEN]);
            assert.strictEqual(sim.subscribers()[0].jwtSigningInfo.key, JWT_KEY);
            // The subscription node's own registration finds the button's subscriber unchanged: no PUT of another key.
            const created = await new Promise((resolve) => {
                helper.getNode('answers').once('input', resolve);
                helper.getNode('mgr').receive({ action: 'create', topic: 'STATUS/PRODUCTION_JOB/*', payload: { publishInitialState: false } });
            });
            assert.strictEqual(created.statusCode, 201);
            const msg = await fireAndReceive();
            assert.strictEqual(msg.auth.type, 'JWT_SIGNING');
            assert.strictEqual(msg.auth.digestVerified, true);
        });

        it('checking a subscriber the deployed node registered with ${VAR} secrets leaves the key alone', async function () {
            await startSim();
            const sub = subscriber({ externalAuthType: 'JWT_SIGNING' });
            await helper.load(modules, hookFlow(sub, true), { sub: { jwtKey: '${PE_TEST_DURST_JWT}' } });
            await waitFor(() => sim.subscribers().length === 1 && sim.subscriptions(17).length === 1, 'the registration on deploy');
            const res = await register(form({ ...sub, subscriberId: '17' }, { jwtKey: PLACEHOLDER }));
            assert.deepStrictEqual(res.body, { ok: true, subscriberId: 17, action: 'unchanged' });
            assert.strictEqual(sim.requests.filter((r) => r.method === 'PUT').length, 0);
            assert.strictEqual(sim.subscribers()[0].jwtSigningInfo.key, JWT_KEY);
            await fireAndReceive();
        });

        it('basic auth password and X-Auth password from ${VAR}, stored and typed', async function () {
            await startSim({ apiAuth: { type: 'basic', user: 'api', password: API_PASSWORD } });
            const sub = subscriber({ apiAuth: 'basic', externalAuthType: 'XAUTH', xAuthUser: 'durst' });
            await helper.load(modules, hookFlow(sub, false),
                { sub: { apiUser: 'api', apiPassword: '${PE_TEST_DURST_PASSWORD}', xAuthPassword: '${PE_TEST_DURST_XAUTH}' } });
            let res = await register(form(sub, { apiUser: 'api', apiPassword: PLACEHOLDER, xAuthPassword: PLACEHOLDER }));
            assert.deepStrictEqual(res.body, { ok: true, subscriberId: 17, action: 'created' });
            const basic = 'Basic ' + Buffer.from(`api:${API_PASSWORD}`).toString('base64');
            assert.deepStrictEqual(sim.requests.map((r) => r.authorization), [basic]);
            assert.strictEqual(sim.subscribers()[0].xAuthInfo.password, XAUTH_PASSWORD);
            // Typed freshly in the dialog as a reference: resolved the same way, and PUT as a new secret.
            process.env.PE_TEST_DURST_XAUTH_NEW = 'rotated-' + XAUTH_PASSWORD;
            try {
                res = await register(form({ ...sub, subscriberId: '17' },
                    { apiUser: 'api', apiPassword: '${PE_TEST_DURST_PASSWORD}', xAuthPassword: '${PE_TEST_DURST_XAUTH_NEW}' }));
                assert.deepStrictEqual(res.body, { ok: true, subscriberId: 17, action: 'updated' });
                assert.strictEqual(sim.subscribers()[0].xAuthInfo.password, 'rotated-' + XAUTH_PASSWORD);
            } finally {
                delete process.env.PE_TEST_DURST_XAUTH_NEW;
            }
            assert.ok(sim.requests.every((r) => r.authorization === basic), 'every call authenticated with the resolved password');
        });

        it('uses stored secrets only with the deployed API URL: another URL gets 400 and nothing reaches it', async function () {
            await startSim({ apiAuth: { type: 'bearer', token: API_TOKEN } });
            const sub = subscriber({ apiAuth: 'bearer', externalAuthType: 'JWT_SIGNING' });
            await helper.load(modules, hookFlow(sub, false), { sub: { apiToken: '${PE_TEST_DURST_TOKEN}', jwtKey: JWT_KEY } });
            const elsewhere = `http://127.0.0.1:${bystander.port}`;
            for (const body of [
                form({ ...sub, apiUrl: elsewhere }, { apiToken: PLACEHOLDER, jwtKey: PLACEHOLDER }),
                form({ ...sub, apiUrl: elsewhere }, { apiToken: 'typed-token', jwtKey: PLACEHOLDER }),
                form({ ...sub, id: 'hook' }, { apiToken: PLACEHOLDER, jwtKey: PLACEHOLDER }) // not a durst-subscriber
            ]) {
                const res = await register(body);
                assert.strictEqual(res.status, 400, JSON.stringify(body));
                assert.deepStrictEqual([res.body.ok, res.body.code], [false, 'reenterSecret']);
                assertNoSecret(res);
            }
            // a duration: no request may reach the other URL within 200 ms.
            await sleep(200);
            assert.strictEqual(bystander.connections, 0, 'a request reached the other URL');
            assert.strictEqual(sim.requests.length, 0);
        });

        it('answers malformed forms with 400 JSON, never an exception', async function () {
            await startSim();
            const sub = subscriber({ externalAuthType: 'JWT_SIGNING' });
            await helper.load(modules, hookFlow(sub, false), { sub: { jwtKey: JWT_KEY } });
            for (const body of [
                { ...form(sub, { jwtKey: PLACEHOLDER }), jwtHeaderName: 5 },
                { ...form(sub, { jwtKey: PLACEHOLDER }), hostUri: { url: 'x' } },
                { ...form(sub, 'not an object'), id: ['sub'] },
                [],
                { apiUrl: 42 }
            ]) {
                const res = await register(body);
                assert.strictEqual(res.status, 400, JSON.stringify(body) + ' -> ' + res.text);
                assert.strictEqual(res.body.ok, false, JSON.stringify(body));
                assert.strictEqual(typeof res.body.error, 'string');
                assertNoSecret(res);
            }
            assert.strictEqual(sim.requests.length, 0);
        });

        it('refuses a body that is not JSON (a cross-site HTML form can send urlencoded without a preflight) with 415 JSON', async function () {
            await startSim();
            const sub = subscriber({ externalAuthType: 'JWT_SIGNING' });
            await helper.load(modules, hookFlow(sub, false), { sub: { jwtKey: JWT_KEY } });
            // Without adminAuth such a form could make the runtime send a resolved ${VAR} (here in hostUri) anywhere.
            await assertRefusesNonJson('/print-events/durst/subscriber/register', `apiUrl=${encodeURIComponent(sim.url)}&hostUri=${encodeURIComponent('${PE_TEST_DURST_JWT}')}`);
            assert.strictEqual(sim.requests.length, 0);
        });

        it('refuses a reference to an unset variable, and errors from Durst never carry a secret', async function () {
            await startSim({ apiAuth: { type: 'bearer', token: 'not-the-configured-one' } });
            const sub = subscriber({ apiAuth: 'bearer', externalAuthType: 'JWT_SIGNING' });
            await helper.load(modules, hookFlow(sub, false), { sub: { apiToken: '${PE_TEST_DURST_TOKEN}', jwtKey: '${PE_TEST_UNSET}' } });
            let res = await register(form(sub, { apiToken: PLACEHOLDER, jwtKey: PLACEHOLDER }));
            assert.strictEqual(res.status, 400);
            assert.deepStrictEqual([res.body.ok, res.body.code], [false, 'envUnset']);
            assert.match(res.body.error, /PE_TEST_UNSET/);
            res = await register(form({ ...sub, hostUri: '${PE_TEST_UNSET}' }, { apiToken: PLACEHOLDER, jwtKey: '${PE_TEST_DURST_JWT}' }));
            assert.deepStrictEqual([res.status, res.body.code], [400, 'envUnset']);
            assert.strictEqual(sim.requests.length, 0, 'nothing was sent');
            // Durst refuses the (resolved) token: the answer says so without repeating it.
            res = await register(form(sub, { apiToken: PLACEHOLDER, jwtKey: '${PE_TEST_DURST_JWT}' }));
            assert.strictEqual(res.status, 400);
            assert.strictEqual(res.body.ok, false);
            assert.strictEqual(res.body.statusCode, 401);
            assert.deepStrictEqual(sim.requests.map((r) => r.authorization), ['Bearer ' + API_TOKEN]);
            assertNoSecret(res);
        });
    });
});
