'use strict';
// Issue #18 in a real Node-RED process wired like red.js, restarted on the same user dir: the JWT key is a
// `${DURST_JWT_KEY}` credential resolved from the process environment, and the Durst simulator (logging in as
// Durst requires, joining hostUri and path as plain text like the vendor page) signs callbacks with the key it
// RETURNED at registration. Asserted: callbacks signed with the returned key are delivered exactly once; after a
// restart with another key the subscriber is updated at start and callbacks verify again; when that update fails,
// the webhook is red "callback secret not registered", never green.
const assert = require('assert');
const fs = require('fs');
const { DurstSimulator, DURST_SIM_LOGIN } = require('../../dist/simulators/durst');
const { RETURNED_SECRETS_FILE } = require('../../dist/nodes/lib/durst/returned-secrets');
const { startStockNodeRed, makeUserDir } = require('../lib/stock-node-red');
const { freePort } = require('../lib/ports');
const { waitFor } = require('../lib/wait');

const SETTINGS = { durstEnsureRetryDelay: 200, durstApiRetryDelay: 50, durstApiAttempts: 1, durstApiTimeout: 3000 };
const KEYS = ['first-key-from-the-environment', 'second-key-after-the-restart', 'third-key-durst-never-gets'];

describe('durst callback secrets in a real Node-RED process across restarts (${VAR} key, returned key)', function () {
    this.timeout(120000);
    let sim;
    let userDir;
    let port;
    let red;
    let nextJob = 7000;

    before(async function () {
        sim = new DurstSimulator({ signWith: 'returned' });
        await sim.start();
        userDir = makeUserDir();
        port = await freePort();
    });

    after(async function () {
        if (red) { await red.stop(); }
        await sim.stop();
        fs.rmSync(userDir, { recursive: true, force: true });
    });

    const flows = () => [
        { id: 'tab1', type: 'tab', label: 'durst' },
        { id: 'sub1', type: 'durst-subscriber', name: 'durst', apiUrl: sim.url, apiAuth: 'login', loginMethod: 'auto',
            hostUri: `http://127.0.0.1:${port}`, externalAuthType: 'JWT_SIGNING', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS512', subscriberId: '' },
        { id: 'hook1', type: 'durst-webhook-in', z: 'tab1', name: '', subscriber: 'sub1', url: '/durst/jobs', dedupeWindow: 30, x: 100, y: 80, wires: [['out']] },
        { id: 'subs1', type: 'durst-subscription', z: 'tab1', name: '', subscriber: 'sub1', topic: 'STATUS/PRODUCTION_JOB/*', path: 'durst/jobs',
            publishInitialState: false, ensureOnDeploy: true, x: 100, y: 160, wires: [[]] },
        { id: 'out', type: 'test-recorder', z: 'tab1', x: 300, y: 80, wires: [] }
    ];
    // The key as `${VAR}`: only the process environment knows it.
    const credentials = { sub1: { apiUser: DURST_SIM_LOGIN.user, apiPassword: DURST_SIM_LOGIN.password, jwtKey: '${DURST_JWT_KEY}' } };
    const start = async (key, first = false) => {
        red = await startStockNodeRed({ ...(first ? { flows: flows(), credentials } : {}), userDir, port, settings: SETTINGS,
            env: { DURST_JWT_KEY: key }, timeoutMs: 60000 });
    };
    const jobMsgs = async (entityId) => (await red.state()).msgs.filter((m) => m.msg.payload && m.msg.payload.entityId === entityId);
    const hookStatus = async () => { const s = (await red.state()).statuses.filter((x) => x.id === 'hook1'); return s.length ? s[s.length - 1].status : {}; };
    const active = () => sim.subscribers().flatMap((s) => sim.subscriptions(s.id)).filter((s) => s.status === 'ACTIVE');

    it('a callback signed with the key Durst returned is delivered once (plain-text URL join hits the webhook)', async function () {
        await start(KEYS[0], true);
        await waitFor(() => active().length === 1, 'subscription ensured', 20000);
        assert.strictEqual(sim.subscribers()[0].jwtSigningInfo.key, KEYS[0], 'the environment\'s value was registered, not the reference');
        const entityId = nextJob++;
        const [delivery] = await sim.fireStatus('PRODUCTION_JOB', entityId, 'PRINTING', 'IMPOSED');
        assert.strictEqual(delivery.url, `http://127.0.0.1:${port}/durst/jobs`);
        assert.strictEqual(delivery.status, 200);
        await waitFor(async () => (await jobMsgs(entityId)).length === 1, 'the msg');
        assert.deepStrictEqual([(await jobMsgs(entityId))[0].msg.auth.secret, (await jobMsgs(entityId))[0].msg.auth.alg], ['returned', 'HS512']);
        const stored = fs.readFileSync(`${userDir}/${RETURNED_SECRETS_FILE}`, 'utf8');
        assert.ok(!KEYS.some((k) => stored.includes(k)), 'no key in clear');
        for (const file of ['flows.json', 'flows_cred.json']) {
            assert.ok(!KEYS.some((k) => fs.readFileSync(`${userDir}/${file}`, 'utf8').includes(k)), `no key in ${file}`);
        }
    });

    it('restarted with another ${VAR} key: Durst is updated at start and its callbacks verify', async function () {
        await red.stop();
        await start(KEYS[1]);
        await waitFor(() => sim.subscribers()[0].jwtSigningInfo.key === KEYS[1], 'the new key registered', 20000);
        assert.strictEqual(sim.subscribers().length, 1, 'the same subscriber, updated');
        const entityId = nextJob++;
        const [delivery] = await sim.fireStatus('PRODUCTION_JOB', entityId, 'PRINTED', 'PRINTING');
        assert.strictEqual(delivery.status, 200);
        await waitFor(async () => (await jobMsgs(entityId)).length === 1, 'the msg');
        assert.notStrictEqual((await hookStatus()).fill, 'red');
    });

    it('restarted with a key Durst cannot be told about: the webhook is red "callback secret not registered"', async function () {
        await red.stop();
        sim.injectFailures(1000, 503);
        await start(KEYS[2]);
        await waitFor(async () => (await hookStatus()).fill === 'red', 'red status', 20000);
        assert.match(JSON.stringify(await hookStatus()), /callback secret not registered/);
        // Durst still signs with the key it has: refused, in JSON, and nothing is emitted.
        sim.injectFailures(0);
        const entityId = nextJob++;
        const [refused] = await sim.fireStatus('PRODUCTION_JOB', entityId, 'FINISHED', 'PRINTED');
        assert.strictEqual(refused.status, 401);
        assert.strictEqual((await jobMsgs(entityId)).length, 0);
        // Durst back: the retry registers the key and the status is no longer red.
        await waitFor(() => sim.subscribers()[0].jwtSigningInfo.key === KEYS[2], 'the retry registered the key', 30000);
        await waitFor(async () => (await hookStatus()).fill !== 'red', 'no longer red', 10000);
    });
});
