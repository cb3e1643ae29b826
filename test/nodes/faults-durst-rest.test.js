'use strict';
// Fault cases of the Durst REST side (durst-subscriber + durst-subscription with ensureOnDeploy)
// against the Durst simulator: one table row per case (docs/faults.md lists them).
// Every row checks what users care about: the node status tells the truth, exactly one
// subscriber and one ACTIVE subscription exist when things recover (no duplicates), the runtime
// keeps serving msgs, and no secret appears in a log line or msg.
const assert = require('assert');
const { EventEmitter } = require('events');
const helper = require('node-red-node-test-helper');
const { setFlows } = require('../lib/set-flows');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const subscriptionNode = require('../../dist/nodes/durst-subscription/durst-subscription.js');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { helperServerLeavesNothing } = require('../lib/resources');
const { sleep, waitFor: waitUntil } = require('../lib/wait');

helper.init(require.resolve('node-red'));

const JWT_KEY = 'faults-rest-jwt-key-4242';
const API_USER = 'api-user';
const API_PASSWORD = 'faults-rest-api-password-77';
const TOPIC = 'STATUS/PRODUCTION_JOB/*';
const PATH = 'hooks/jobs';

const waitFor = (check, what, timeoutMs = 8000) => waitUntil(check, what, timeoutMs, { intervalMs: 20 });

function flow(apiUrl, { apiAuth = 'login' } = {}) {
    return [
        { id: 'sub', type: 'durst-subscriber', name: '', apiUrl, apiAuth, hostUri: 'http://127.0.0.1:1880/',
            externalAuthType: 'JWT_SIGNING', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', xAuthUser: '', subscriberId: '' },
        { id: 'subscription', type: 'durst-subscription', name: '', subscriber: 'sub', topic: TOPIC, path: PATH,
            publishInitialState: false, ensureOnDeploy: true, wires: [['out']] },
        { id: 'out', type: 'helper' }
    ];
}

const CREDENTIALS = { sub: { jwtKey: JWT_KEY, apiUser: API_USER, apiPassword: API_PASSWORD } };

function statusesOf(node) {
    return node.status.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0]);
}
function lastStatus(node) {
    const all = statusesOf(node);
    return all[all.length - 1] || {};
}
function errorsOf(node) {
    return node.error.getCalls().filter((c) => c.thisValue === node).map((c) => String(c.args[0] && c.args[0].message || c.args[0]));
}

function activeSubscriptions(sim) {
    const subscribers = sim.subscribers();
    return subscribers.flatMap((s) => sim.subscriptions(s.id)).filter((s) => s.status === 'ACTIVE' && s.topic === TOPIC);
}

/**
 * Sends msg.action through the subscription node; resolves with the msg out or the error given to done().
 * `out` is an EventEmitter fed by one permanent listener on the helper node (Node-RED keeps input
 * callbacks in its own list, so once/removeListener on the node itself do not work).
 */
function act(node, out, msg, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
        const guard = setTimeout(() => { cleanup(); reject(new Error(`no output and no error for ${JSON.stringify(msg)} within ${timeoutMs} ms`)); }, timeoutMs);
        const onOut = (m) => { cleanup(); resolve({ msg: m }); };
        const onComplete = (m, err) => { if (err) { cleanup(); resolve({ error: err, msg: m }); } };
        // The helper spies Node.error: done(err) reports there with the msg.
        const before = node.error.callCount;
        const timer = setInterval(() => {
            const calls = node.error.getCalls().slice(before).filter((c) => c.thisValue === node);
            if (calls.length > 0) { onComplete(calls[0].args[1], calls[0].args[0]); }
        }, 10);
        function cleanup() { clearTimeout(guard); clearInterval(timer); out.removeListener('msg', onOut); }
        out.once('msg', onOut);
        node.receive(msg);
    });
}

/** Once the API answers again: actions work, the ensure retry turns green, and nothing was duplicated. */
async function assertRecoversWithOneSubscription({ sim, node, out }) {
    const listed = await act(node, out, { action: 'list' });
    assert.ifError(listed.error);
    assert.strictEqual(listed.msg.statusCode, 200);
    await waitFor(() => lastStatus(node).fill === 'green', 'the ensure retry succeeds', 10000);
    assert.strictEqual(sim.subscribers().length, 1);
    assert.strictEqual(activeSubscriptions(sim).length, 1);
}

function assertNoSecrets(extraMsgs = []) {
    for (const secret of [JWT_KEY, API_PASSWORD]) {
        for (const call of helper.log().getCalls()) {
            assert.ok(!JSON.stringify(call.args).includes(secret), `secret in a log line: ${JSON.stringify(call.args).slice(0, 200)}`);
        }
        for (const m of extraMsgs) { assert.ok(!JSON.stringify(m).includes(secret), 'secret in a msg'); }
    }
}

const CASES = [
    {
        name: '5xx twice, then success: retried, ends ACTIVE with one subscription',
        outcome: 'green "active"; 1 subscriber, 1 ACTIVE subscription',
        settings: { durstApiAttempts: 4, durstApiRetryDelay: 20 },
        before: (sim) => sim.injectFailures(2, 503),
        async check({ sim, node }) {
            await waitFor(() => lastStatus(node).fill === 'green', 'green status');
            assert.strictEqual(sim.subscribers().length, 1);
            assert.strictEqual(activeSubscriptions(sim).length, 1);
        }
    },
    {
        name: '5xx on every attempt: red status carrying the HTTP status, then recovers',
        outcome: 'red "error 503" after the bounded retries; nothing half-created; the ensure is retried later and ends green with exactly 1 subscription',
        settings: { durstApiAttempts: 3, durstApiRetryDelay: 20, durstEnsureRetryDelay: 200 },
        before: (sim) => sim.injectFailures(1000, 503),
        async check({ sim, node, out }) {
            await waitFor(() => lastStatus(node).fill === 'red', 'red status');
            assert.match(JSON.stringify(lastStatus(node)), /error/);
            assert.ok(errorsOf(node).some((e) => /503|server error/.test(e)), 'the error names the 503');
            assert.strictEqual(sim.subscribers().length, 0);
            sim.injectFailures(0);
            await assertRecoversWithOneSubscription({ sim, node, out });
        }
    },
    {
        name: 'timeout: an API slower than durstApiTimeout fails clearly, then recovers',
        outcome: 'red status; msg action ends in done(err) (Catch node); works again when the API is fast',
        settings: { durstApiTimeout: 200, durstApiAttempts: 1 },
        before: (sim) => sim.setLatency(1000),
        async check({ sim, node, out }) {
            await waitFor(() => lastStatus(node).fill === 'red', 'red status', 5000);
            assert.ok(errorsOf(node).some((e) => /timeout|ECONNABORTED|exceeded/i.test(e)), `error says timeout: ${errorsOf(node)}`);
            const failed = await act(node, out, { action: 'list' });
            assert.ok(failed.error, 'done(err) for a timed-out call');
            sim.setLatency(0);
            await waitFor(() => sim.answersHeld === 0, 'the slow answers still under way', 5000);
            const listed = await act(node, out, { action: 'list' });
            assert.ifError(listed.error);
            assert.strictEqual(listed.msg.statusCode, 200);
            // A create that timed out on our side may still have succeeded at the server (the API has no
            // idempotency key and no subscriber list to reconcile against): such orphans carry no
            // subscription, so no callback is ever delivered twice.
            const withSubscriptions = sim.subscribers().filter((s) => sim.subscriptions(s.id).length > 0);
            assert.ok(withSubscriptions.length <= 1, 'at most one subscriber receives callbacks');
        }
    },
    {
        name: '401 from the API: red status, clear error, no retry loop, no secret logged',
        outcome: 'red "error 401", error says unauthorized; msg.statusCode 401 on actions',
        simOptions: { apiAuth: { type: 'basic', user: API_USER, password: 'the-real-password' } },
        apiAuth: 'basic',
        settings: { durstApiAttempts: 3, durstApiRetryDelay: 20 },
        async check({ sim, node, out }) {
            await waitFor(() => lastStatus(node).fill === 'red', 'red status');
            assert.ok(errorsOf(node).some((e) => /401|unauthori/i.test(e)), `error says 401: ${errorsOf(node)}`);
            const calls = sim.apiCalls;
            // a duration: no retry call within 300 ms of the 401.
            await sleep(300);
            assert.strictEqual(sim.apiCalls, calls, 'no calls after the 401 (no retry loop)');
            const failed = await act(node, out, { action: 'list' });
            assert.ok(failed.error);
            assert.strictEqual(failed.msg.statusCode, 401);
        }
    },
    {
        name: '404 on a subscriber deleted at the server: redeploy re-registers once, no duplicates',
        outcome: 'warning "no longer exists; registering a new one"; exactly 1 subscriber and 1 ACTIVE subscription',
        async check({ sim, node }) {
            await waitFor(() => lastStatus(node).fill === 'green', 'green status');
            const [first] = sim.subscribers();
            assert.ok(sim.deleteSubscriber(first.id));
            for (let i = 0; i < 3; i++) {
                await setFlows(helper, flow(sim.url), 'full', CREDENTIALS);
                const fresh = helper.getNode('subscription');
                await waitFor(() => lastStatus(fresh).fill === 'green', 'green status after redeploy');
            }
            assert.strictEqual(sim.subscribers().length, 1, 'one subscriber after re-registering');
            assert.notStrictEqual(sim.subscribers()[0].id, first.id);
            assert.strictEqual(activeSubscriptions(sim).length, 1, 'one ACTIVE subscription');
            const warned = helper.log().getCalls().some((c) => /no longer exists/.test(JSON.stringify(c.args)));
            assert.ok(warned, 'the re-registration is logged as a warning');
        }
    },
    {
        name: 'network down during deploy (connection refused): red status, recovers by itself',
        outcome: 'red status with the connection error; runtime up; the deploy-time ensure is retried with growing delays and ends green with 1 subscriber and 1 ACTIVE subscription; actions work',
        settings: { durstApiAttempts: 2, durstApiRetryDelay: 20, durstApiTimeout: 1000, durstEnsureRetryDelay: 200 },
        networkDown: true,
        async check({ sim, node, out }) {
            await waitFor(() => lastStatus(node).fill === 'red', 'red status');
            assert.ok(errorsOf(node).some((e) => /ECONNREFUSED|connect/i.test(e)), `error says refused: ${errorsOf(node)}`);
            await sim.start();
            await assertRecoversWithOneSubscription({ sim, node, out });
        }
    }
];

describe('faults: Durst REST (durst-subscriber + durst-subscription)', function () {
    this.timeout(20000);
    helperServerLeavesNothing(helper, () => helper.settings({}));

    for (const c of CASES) {
        it(`${c.name} (${c.outcome})`, async function () {
            // Durst's own login (x-auth-token) unless the case says otherwise.
            const simOptions = { port: 0, host: '127.0.0.1', apiAuth: { type: 'login', user: API_USER, password: API_PASSWORD }, ...(c.simOptions || {}) };
            let sim = new DurstSimulator(simOptions);
            await sim.start();
            let apiUrl = sim.url;
            if (c.networkDown) {
                // Free port, nothing listening: the deploy meets "connection refused". The simulator
                // comes back on the same port later.
                const port = sim.port;
                await sim.stop();
                sim = new DurstSimulator({ ...simOptions, port });
                apiUrl = `http://127.0.0.1:${port}`;
            }
            helper.settings({ durstApiAttempts: 2, durstApiRetryDelay: 20, ...(c.settings || {}) });
            try {
                if (c.before) { c.before(sim); }
                await helper.load([subscriberNode, subscriptionNode], flow(apiUrl, { apiAuth: c.apiAuth }), CREDENTIALS);
                const node = helper.getNode('subscription');
                const out = new EventEmitter();
                const msgs = [];
                helper.getNode('out').on('input', (m) => { msgs.push(m); out.emit('msg', m); });
                await c.check({ sim, node, out });
                // The runtime is still up and the node still answers input.
                assert.ok(helper.getNode('subscription'), 'node still deployed');
                assertNoSecrets(msgs);
            } finally {
                await helper.unload();
                sim.setLatency?.(0);
                await sim.stop();
            }
        });
    }
});

