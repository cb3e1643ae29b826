'use strict';
// Fault and bad-input cases of durst-webhook-in, one table row per case (docs/faults.md lists them).
// Each row asserts what users care about: the HTTP answer, how many msgs came out (none for a
// rejected request, exactly one for a valid one), no secret in any msg or log line, and that
// the node's status counts the rejections. After the table: the runtime still answers, and the
// suite left no socket or timer open.
const http = require('http');
const crypto = require('crypto');
const assert = require('assert');
const jwt = require('jsonwebtoken');
const helper = require('node-red-node-test-helper');
const subscriberNode = require('../dist/nodes/durst-subscriber/durst-subscriber.js');
const webhookNode = require('../dist/nodes/durst-webhook-in/durst-webhook-in.js');
const { activeResources, assertNoNewResources } = require('./lib/resources');

helper.init(require.resolve('node-red'));

const JWT_KEY = 'faults-jwt-signing-key-0123456789';
const XAUTH_USER = 'durst';
const XAUTH_PASSWORD = 'faults-xauth-password-9876';
const BODY_LIMIT = 16 * 1024;
const BODY_TIMEOUT_MS = 400;

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

let nextEntityId = 100000;
/** A valid Durst status callback with a unique entityId, so every msg can be traced to its request. */
function statusBody(extra = {}) {
    const entityId = nextEntityId++;
    return { entityId, text: JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId, created: new Date().toISOString(), newStatus: 'PRINTING', ...extra }) };
}

function token(body, { key = JWT_KEY, algorithm = 'HS256', claims = {}, expiresIn = 300 } = {}) {
    const payload = { sub: 'STATUS/PRODUCTION_JOB/*', bodySha256: sha256(body), ...claims };
    return jwt.sign(payload, key, expiresIn === null ? { algorithm } : { algorithm, expiresIn });
}

const { privateKey: RSA_PRIVATE, publicKey: RSA_PUBLIC } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PUBLIC_PEM = RSA_PUBLIC.export({ type: 'spki', format: 'pem' });

const JSON_TYPE = { 'content-type': 'application/json' };

// Every case: which hook, what is sent, and the defined outcome.
const CASES = [
    { name: 'valid JWT_SIGNING callback (control)', path: '/hooks/jwt', status: 200, msgs: 1,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token': token(b) } }) },
    { name: 'JWT signed with the wrong key', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token': token(b, { key: 'not-the-configured-key' }) } }) },
    { name: 'tampered body (token signed for another body)', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token': token(b) }, body: b.replace('PRINTING', 'PRINTED') }) },
    { name: 'alg: none token', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token':
            `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'STATUS/PRODUCTION_JOB/*', bodySha256: sha256(b), exp: Math.floor(Date.now() / 1000) + 300 })}.` } }) },
    { name: 'HS/RS confusion: RS256 token from an attacker key pair', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token': token(b, { key: RSA_PRIVATE, algorithm: 'RS256' }) } }) },
    { name: 'HS/RS confusion: HS256 token keyed with a public key PEM', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token': token(b, { key: RSA_PUBLIC_PEM }) } }) },
    { name: 'other HMAC size than configured (HS512 for HS256)', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token': token(b, { algorithm: 'HS512' }) } }) },
    { name: 'expired token', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token':
            token(b, { claims: { exp: Math.floor(Date.now() / 1000) - 120 }, expiresIn: null }) } }) },
    { name: 'token not valid yet (nbf in the future)', path: '/hooks/jwt', status: 401, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE, 'x-jwt-token':
            token(b, { claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }) } }) },
    { name: 'missing JWT header', path: '/hooks/jwt', status: 401, msgs: 0,
        request: () => ({ headers: { ...JSON_TYPE } }) },
    { name: 'garbage in the JWT header', path: '/hooks/jwt', status: 401, msgs: 0,
        request: () => ({ headers: { ...JSON_TYPE, 'x-jwt-token': 'not.a.jwt' } }) },
    { name: 'valid XAUTH headers (control)', path: '/hooks/xauth', status: 200, msgs: 1,
        request: () => ({ headers: { ...JSON_TYPE, 'x-auth-user': XAUTH_USER, 'x-auth-password': XAUTH_PASSWORD } }) },
    { name: 'valid XAUTH as HTTP Basic (control)', path: '/hooks/xauth', status: 200, msgs: 1,
        request: () => ({ headers: { ...JSON_TYPE, authorization: 'Basic ' + Buffer.from(`${XAUTH_USER}:${XAUTH_PASSWORD}`).toString('base64') } }) },
    { name: 'wrong X-Auth password (same length)', path: '/hooks/xauth', status: 401, msgs: 0,
        request: () => ({ headers: { ...JSON_TYPE, 'x-auth-user': XAUTH_USER, 'x-auth-password': XAUTH_PASSWORD.replace(/.$/, 'X') } }) },
    { name: 'wrong X-Auth password (prefix of the real one)', path: '/hooks/xauth', status: 401, msgs: 0,
        request: () => ({ headers: { ...JSON_TYPE, 'x-auth-user': XAUTH_USER, 'x-auth-password': XAUTH_PASSWORD.slice(0, 5) } }) },
    { name: 'wrong X-Auth user', path: '/hooks/xauth', status: 401, msgs: 0,
        request: () => ({ headers: { ...JSON_TYPE, 'x-auth-user': 'intruder', 'x-auth-password': XAUTH_PASSWORD } }) },
    { name: 'missing X-Auth credentials', path: '/hooks/xauth', status: 401, msgs: 0,
        request: () => ({ headers: { ...JSON_TYPE } }) },
    { name: 'malformed JSON', path: '/hooks/none', status: 400, msgs: 0,
        request: (b) => ({ headers: { ...JSON_TYPE }, body: b.slice(0, -3) }) },
    // Valid JSON of no known shape is delivered as event "unknown": a new vendor callback is never lost.
    { name: 'JSON that is not an object (a number)', path: '/hooks/none', status: 200, msgs: null,
        request: () => ({ headers: { ...JSON_TYPE }, body: '42' }) },
    { name: 'wrong content-type (text/plain)', path: '/hooks/none', status: 415, msgs: 0,
        request: () => ({ headers: { 'content-type': 'text/plain' } }) },
    { name: 'body over the limit (apiMaxLength)', path: '/hooks/none', status: 413, msgs: 0,
        request: () => ({ headers: { ...JSON_TYPE }, body: JSON.stringify({ entityType: 'MOTIF', entityId: 1, padding: 'x'.repeat(BODY_LIMIT * 4) }) }) },
    { name: 'valid NONE callback (control)', path: '/hooks/none', status: 200, msgs: 1,
        request: () => ({ headers: { ...JSON_TYPE } }) }
];

function post(port, path, headers, body, agent) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { text += c; });
            res.on('end', () => resolve({ status: res.statusCode, text }));
        });
        req.on('error', reject);
        req.end(body);
    });
}


const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('faults: durst-webhook-in', function () {
    this.timeout(30000);
    let resourcesBefore;
    let server;
    let port;
    let hooks;
    const msgs = [];
    const secrets = [JWT_KEY, XAUTH_PASSWORD];

    before(async function () {
        // After one await, so mocha's own hook timer is counted on both sides.
        await null;
        resourcesBefore = activeResources();
        helper.settings({ apiMaxLength: `${BODY_LIMIT}b`, durstWebhookTimeout: BODY_TIMEOUT_MS });
        await helper.startServer();
        let RED;
        // The helper gives node modules an httpNode app of its own; capture it to serve it on a real socket.
        const captureRed = (red) => { RED = red; };
        const flow = [
            { id: 'sub.jwt', type: 'durst-subscriber', name: 'jwt', apiUrl: '', apiAuth: 'none', hostUri: 'http://127.0.0.1:1/',
                externalAuthType: 'JWT_SIGNING', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', xAuthUser: '', subscriberId: '' },
            { id: 'sub.xauth', type: 'durst-subscriber', name: 'xauth', apiUrl: '', apiAuth: 'none', hostUri: 'http://127.0.0.1:1/',
                externalAuthType: 'XAUTH', xAuthUser: XAUTH_USER, jwtHeaderName: '', jwtMethod: 'HS256', subscriberId: '' },
            { id: 'sub.none', type: 'durst-subscriber', name: 'none', apiUrl: '', apiAuth: 'none', hostUri: 'http://127.0.0.1:1/',
                externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: '', jwtMethod: 'HS256', subscriberId: '' },
            { id: 'hook.jwt', type: 'durst-webhook-in', name: '', subscriber: 'sub.jwt', url: '/hooks/jwt', wires: [['out']] },
            { id: 'hook.xauth', type: 'durst-webhook-in', name: '', subscriber: 'sub.xauth', url: '/hooks/xauth', wires: [['out']] },
            { id: 'hook.none', type: 'durst-webhook-in', name: '', subscriber: 'sub.none', url: '/hooks/none', wires: [['out']] },
            { id: 'out', type: 'helper' }
        ];
        const credentials = { 'sub.jwt': { jwtKey: JWT_KEY }, 'sub.xauth': { xAuthPassword: XAUTH_PASSWORD } };
        await helper.load([captureRed, subscriberNode, webhookNode], flow, credentials);
        helper.getNode('out').on('input', (msg) => msgs.push(msg));
        hooks = { '/hooks/jwt': helper.getNode('hook.jwt'), '/hooks/xauth': helper.getNode('hook.xauth'), '/hooks/none': helper.getNode('hook.none') };
        server = http.createServer((req, res) => RED.httpNode(req, res, () => { res.statusCode = 404; res.end(); }));
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
        port = server.address().port;
    });

    after(async function () {
        await helper.unload();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await helper.stopServer();
        helper.settings({});
        await assertNoNewResources(resourcesBefore);
    });

    function msgsFor(entityId) {
        return msgs.filter((m) => m.payload && m.payload.entityId === entityId);
    }

    function lastStatus(node) {
        const calls = node.status.getCalls().filter((c) => c.thisValue === node);
        return calls.length > 0 ? calls[calls.length - 1].args[0] : undefined;
    }

    for (const c of CASES) {
        it(`${c.name}: answers ${Array.isArray(c.status) ? c.status.join(' or ') : c.status}, emits ${c.msgs === null ? '1 (event unknown)' : c.msgs}`, async function () {
            const { entityId, text } = statusBody();
            const { headers, body = text } = c.request(text);
            const hook = hooks[c.path];
            const rejectedBefore = hook.status.getCalls().filter((call) => call.thisValue === hook).length;
            const res = await post(port, c.path, headers, body);
            await sleep(50);
            const wanted = Array.isArray(c.status) ? c.status : [c.status];
            assert.ok(wanted.includes(res.status), `HTTP ${res.status} (${res.text}), expected ${wanted.join('/')}`);
            const expectedMsgs = c.msgs === null ? (res.status === 200 ? 1 : 0) : c.msgs;
            if (c.msgs === null) {
                const numeric = msgs.filter((m) => m.payload === 42);
                assert.strictEqual(numeric.length, expectedMsgs);
                assert.strictEqual(numeric[0].event, 'unknown');
            } else {
                assert.strictEqual(msgsFor(entityId).length, expectedMsgs, 'msgs emitted for this request');
            }
            if (res.status >= 400) {
                // The status must change to say a request was rejected (a counter in the text).
                const calls = hook.status.getCalls().filter((call) => call.thisValue === hook);
                assert.ok(calls.length > rejectedBefore, 'status updated after a rejected request');
                const status = lastStatus(hook);
                assert.ok(status && JSON.stringify(status).match(/reject|401|400|413|415|fail/i), `status says why: ${JSON.stringify(status)}`);
                for (const secret of secrets) { assert.ok(!res.text.includes(secret), 'no secret in the answer'); }
            }
        });
    }

    it('1,000 concurrent valid callbacks: 1,000 answers 200, each emitted exactly once', async function () {
        const agent = new http.Agent({ keepAlive: false, maxSockets: 1000 });
        const bodies = Array.from({ length: 1000 }, () => statusBody());
        const results = await Promise.all(bodies.map(({ text }) =>
            post(port, '/hooks/jwt', { ...JSON_TYPE, 'x-jwt-token': token(text) }, text, agent)));
        agent.destroy();
        await sleep(100);
        assert.deepStrictEqual(results.filter((r) => r.status !== 200).map((r) => r.status), []);
        for (const { entityId } of bodies) {
            assert.strictEqual(msgsFor(entityId).length, 1, `entity ${entityId} emitted once`);
        }
    });

    it('slow-drip body: answered 408 (or cut) after the body timeout, and the route keeps serving', async function () {
        const { text } = statusBody();
        const started = Date.now();
        const dripped = new Promise((resolve) => {
            const req = http.request({ host: '127.0.0.1', port, path: '/hooks/none', method: 'POST',
                headers: { ...JSON_TYPE, 'content-length': Buffer.byteLength(text) } }, (res) => {
                res.resume();
                res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - started }));
            });
            req.on('error', () => resolve({ status: 0, ms: Date.now() - started }));
            let i = 0;
            const timer = setInterval(() => {
                if (i >= text.length - 1 || req.destroyed) { clearInterval(timer); return; }
                req.write(text[i++]);
            }, 100);
            req.on('close', () => clearInterval(timer));
        });
        // While the drip is held, a valid callback on the same route is answered at once.
        const other = statusBody();
        const quick = await post(port, '/hooks/none', JSON_TYPE, other.text);
        assert.strictEqual(quick.status, 200);
        const result = await dripped;
        assert.ok(result.status === 408 || result.status === 0, `slow body answered ${result.status}`);
        assert.ok(result.ms < BODY_TIMEOUT_MS + 3000, `slow body held the request ${result.ms} ms`);
        await sleep(50);
        assert.strictEqual(msgs.filter((m) => m.payload && m.payload.entityId === other.entityId).length, 1);
        assert.strictEqual(msgs.filter((m) => typeof m.payload === 'object' && m.payload && JSON.stringify(m.payload) === text).length, 0,
            'the dripped body is never emitted');
    });

    it('afterwards: the runtime still answers, no secret in any msg or log line', async function () {
        const { entityId, text } = statusBody();
        const res = await post(port, '/hooks/jwt', { ...JSON_TYPE, 'x-jwt-token': token(text) }, text);
        assert.strictEqual(res.status, 200);
        await sleep(50);
        assert.strictEqual(msgsFor(entityId).length, 1);
        const msg = msgsFor(entityId)[0];
        assert.ok(msg.auth, 'msg.auth says what was verified');
        for (const secret of secrets) {
            for (const m of msgs) {
                assert.ok(!JSON.stringify(m).includes(secret), `secret found in msg ${JSON.stringify(m).slice(0, 200)}`);
            }
            for (const call of helper.log().getCalls()) {
                assert.ok(!JSON.stringify(call.args).includes(secret), 'secret found in a log line');
            }
        }
        // No x-auth-password / token header copied into msgs.
        assert.ok(msgs.every((m) => !JSON.stringify(m).includes('x-auth-password')), 'no XAUTH header copied into a msg');
    });
});
