'use strict';
// Bounded fuzz of durst-webhook-in, in the test helper and in a real Node-RED process wired like red.js.
// Generated requests (seeded: FUZZ_SEED=<n> reproduces a run) go over raw sockets, so headers can be
// duplicated and bodies cut short: random JSON, deep nesting, long strings, invalid UTF-8, truncated JSON,
// truncated HTTP bodies, wrong and missing content types, to webhooks with each auth type, each wired to two
// nodes. An independent model of the answer table in docs/durst.md (durst-webhook-in, "Answers") gives every request's expected status; then:
// the runtime is alive, each answer is that status with a JSON body, and every accepted callback came out
// exactly once on each wire (no rejected one ever). Byte-identical accepted bodies (the generated scalars) are
// repeats: one of them comes out, the others are answered 200 { repeat: true }.
const net = require('net');
const crypto = require('crypto');
const assert = require('assert');
const jwt = require('jsonwebtoken');
const { WEBHOOK_LAYOUTS } = require('../lib/webhook-layouts');
const { sleep, waitFor } = require('../lib/wait');
const { prng, fuzzSeed, randomJson, randomString, nestedJson, depthOf, parseStrictJson, pool } = require('../lib/fuzz');

const REQUESTS_PER_LAYOUT = Number(process.env.FUZZ_REQUESTS) || 3000;
const BODY_LIMIT = 64 * 1024;
const BODY_TIMEOUT_MS = 400;
const MAX_DEPTH = 64;
const JWT_KEY = 'fuzz-jwt-key-0123456789abcdef';
const XAUTH_USER = 'durst';
const XAUTH_PASSWORD = 'fuzz-xauth-password';

const HOOKS = { none: '/fuzz/none', xauth: '/fuzz/xauth', jwt: '/fuzz/jwt' };

function flows() {
    const subscriber = (id, externalAuthType, extra = {}) => ({ id, type: 'durst-subscriber', name: `${id} subscriber`, apiUrl: '', apiAuth: 'none',
        hostUri: 'http://127.0.0.1:1/', externalAuthType, xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra });
    // Repeat suppression on, with a window longer than any run, so which bodies count as repeats does not depend on timing.
    const hook = (id, sub, url) => ({ id, type: 'durst-webhook-in', z: 'tab', name: '', subscriber: sub, url, dedupeWindow: 3600,
        x: 100, y: 100, wires: [['out', 'out2']] });
    return [
        { id: 'tab', type: 'tab', label: 'fuzz' },
        subscriber('sub.none', 'NONE'),
        subscriber('sub.xauth', 'XAUTH', { xAuthUser: XAUTH_USER }),
        subscriber('sub.jwt', 'JWT_SIGNING'),
        hook('hook.none', 'sub.none', HOOKS.none),
        hook('hook.xauth', 'sub.xauth', HOOKS.xauth),
        hook('hook.jwt', 'sub.jwt', HOOKS.jwt),
        { id: 'out', type: 'test-recorder', z: 'tab', x: 300, y: 100, wires: [] },
        { id: 'out2', type: 'test-recorder', z: 'tab', x: 300, y: 200, wires: [] }
    ];
}

const CONTENT_TYPES = [undefined, 'application/json', 'application/json; charset=utf-8', 'application/vnd.durst+json', 'APPLICATION/JSON',
    'text/plain', 'text/plain;charset=ISO-8859-1', 'text/json', 'application/octet-stream', 'text/plain; charset=nope',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json, text/plain', ''];

// The content-type rule of docs/faults.md, written out independently of the implementation: a JSON type, text/plain,
// text/json or octet-stream (or none), with a charset that is UTF-8, ISO-8859-1 or none (the ones this generator uses).
function acceptedContentType(value) {
    if (value === undefined || value.trim() === '') { return true; }
    const [type, ...params] = value.split(';').map((p) => p.trim().toLowerCase());
    if (!/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type)) { return false; }
    const typeOk = ['application/json', 'text/json', 'text/plain', 'application/octet-stream'].includes(type) || /^application\/[a-z0-9.-]+\+json$/.test(type);
    const charset = (params.find((p) => p.startsWith('charset=')) || 'charset=utf-8').slice('charset='.length);
    return typeOk && ['utf-8', 'iso-8859-1'].includes(charset);
}

/** The charset the body is read in: Latin-1 decodes every byte sequence. */
const declaredLatin1 = (value) => /charset=iso-8859-1/i.test(value || '');

/** Sorted-key compact JSON, written here independently of dedupe.ts: equal for the same callback re-serialised. */
function normalised(value) {
    if (Array.isArray(value)) { return `[${value.map(normalised).join(',')}]`; }
    if (value && typeof value === 'object') { return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${normalised(value[k])}`).join(',')}}`; }
    return JSON.stringify(value);
}

function bodyFor(r, n, id) {
    const kind = r.pick(['status', 'status', 'random', 'random', 'deep', 'long', 'utf8', 'truncated', 'scalar', 'empty']);
    const base = () => ({ fuzzId: id, entityType: r.pick(['PRODUCTION_JOB', 'MOTIF', 'ARTICLE', 'PRINT_ORDER', randomString(r, 6)]),
        entityId: r.chance(0.8) ? n : randomString(r, 6), newStatus: randomString(r, 10) });
    switch (kind) {
        case 'status': return { kind, bytes: Buffer.from(JSON.stringify(base(), null, r.chance(0.3) ? 2 : undefined)) };
        case 'random': return { kind, bytes: Buffer.from(JSON.stringify({ fuzzId: id, data: randomJson(r, 5) })) };
        case 'deep': {
            const depth = r.chance(0.5) ? r.int(1, 2 * MAX_DEPTH) : r.int(MAX_DEPTH, 5000);
            return { kind, bytes: Buffer.from(`{"fuzzId":${JSON.stringify(id)},"deep":${nestedJson(r, depth - 1)}}`) };
        }
        case 'long': {
            const length = r.int(BODY_LIMIT - 2048, BODY_LIMIT + 16384);
            return { kind, bytes: Buffer.from(JSON.stringify({ fuzzId: id, text: 'x'.repeat(length) })) };
        }
        case 'utf8': {
            const bad = r.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
            return { kind, bytes: Buffer.concat([Buffer.from(`{"fuzzId":${JSON.stringify(id)},"s":"`), Buffer.from(bad), Buffer.from('"}')]) };
        }
        case 'truncated': {
            const full = Buffer.from(JSON.stringify(base()));
            return { kind, bytes: full.subarray(0, r.int(0, full.length - 1)) };
        }
        case 'scalar': return { kind, bytes: Buffer.from(JSON.stringify(r.pick([42, null, true, false, 'text', [1, 2], randomNumber(r)]))) };
        default: return { kind, bytes: Buffer.from(r.pick(['', ' ', '\r\n'])) };
    }
}

function randomNumber(r) { return r.int(-1e6, 1e6); }

const basic = (user, password) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const sign = (bytes) => jwt.sign({ sub: 'STATUS/*', bodySha256: crypto.createHash('sha256').update(bytes).digest('hex') }, JWT_KEY, { algorithm: 'HS256', expiresIn: 600 });

/** Auth headers for the hook and whether they must pass (Node's documented duplicate-header rules applied). */
function authFor(r, hook, bytes) {
    if (hook === 'none') { return { headers: [], ok: true }; }
    if (hook === 'xauth') {
        switch (r.int(0, 6)) {
            case 0: case 1: return { headers: [['x-auth-user', XAUTH_USER], ['x-auth-password', XAUTH_PASSWORD]], ok: true };
            case 2: return { headers: [['authorization', basic(XAUTH_USER, XAUTH_PASSWORD)]], ok: true };
            case 3: return { headers: [['x-auth-user', XAUTH_USER], ['x-auth-password', randomString(r, 12).replace(/[^\x21-\x7e]/g, 'q')]], ok: false };
            // Duplicated: Node joins repeated x-auth-password values with ", " (a different password).
            case 4: return { headers: [['x-auth-user', XAUTH_USER], ['x-auth-password', XAUTH_PASSWORD], ['x-auth-password', XAUTH_PASSWORD]], ok: false };
            // Duplicated Authorization: Node keeps the first.
            case 5: return { headers: [['authorization', basic(XAUTH_USER, XAUTH_PASSWORD)], ['authorization', basic('intruder', 'x')]], ok: true };
            default: return { headers: [], ok: false };
        }
    }
    switch (r.int(0, 5)) {
        case 0: case 1: return { headers: [['x-jwt-token', sign(bytes)]], ok: true };
        case 2: return { headers: [['x-jwt-token', sign(Buffer.concat([bytes, Buffer.from(' ')]))]], ok: false };
        case 3: return { headers: [['x-jwt-token', randomString(r, 40).replace(/[^\x21-\x7e]/g, '.')]], ok: false };
        // Duplicated custom header: joined with ", ", no longer one token.
        case 4: { const t = sign(bytes); return { headers: [['x-jwt-token', t], ['x-jwt-token', t]], ok: false }; }
        default: return { headers: [], ok: false };
    }
}

/** The body as JSON in the declared charset: Latin-1 reads every byte, UTF-8 strictly. */
function parseIn(bytes, type) {
    if (!declaredLatin1(type)) { return parseStrictJson(bytes); }
    const text = bytes.toString('latin1');
    if (text.trim() === '') { return { ok: false, why: 'empty' }; }
    try { return { ok: true, value: JSON.parse(text) }; } catch { return { ok: false, why: 'json' }; }
}

/** One generated request with the status the answer table of docs/durst.md gives it. */
function generate(r, n, seed) {
    const id = `fz-${seed}-${n}`;
    const hook = r.pick(['none', 'xauth', 'jwt']);
    const { kind, bytes } = bodyFor(r, n, id);
    const auth = authFor(r, hook, bytes);
    const contentTypes = r.chance(0.08) ? [r.pick(CONTENT_TYPES), r.pick(CONTENT_TYPES)].filter((t) => t !== undefined) : [r.pick(CONTENT_TYPES)].filter((t) => t !== undefined);
    const headers = [...contentTypes.map((t) => ['content-type', t]), ...auth.headers];
    // A few bodies are cut short on the wire: declared longer than sent. Half of them then close their side.
    const cut = bytes.length > 4 && r.chance(0.01) ? (r.chance(0.5) ? 'half-close' : 'stall') : null;
    let expect;
    if (bytes.length + (cut ? 10 : 0) > BODY_LIMIT) {
        expect = 413; // refused on the declared Content-Length, before any of the body is read
    } else if (cut === 'half-close') {
        expect = 'http-400'; // Node's HTTP server itself refuses a body ended early (malformed HTTP), no JSON
    } else if (cut === 'stall') {
        expect = 408;
    } else if (!acceptedContentType(contentTypes[0])) { // Node keeps the first of repeated Content-Type headers
        expect = 415;
    } else if (!auth.ok) {
        expect = 401;
    } else {
        const parsed = parseIn(bytes, contentTypes[0]);
        expect = parsed.ok && depthOf(parsed.value, MAX_DEPTH) <= MAX_DEPTH ? 200 : 400;
    }
    const object = expect === 200 ? parseIn(bytes, contentTypes[0]).value : undefined;
    return { n, id, hook, kind, bytes, headers, cut, expect, object,
        traceable: object !== null && typeof object === 'object' && !Array.isArray(object) && object.fuzzId === id };
}

/** A raw HTTP/1.1 exchange, so headers can repeat and bodies can be cut short. */
function send(port, req) {
    return new Promise((resolve, reject) => {
        const head = [`POST ${HOOKS[req.hook]} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close',
            ...req.headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${req.bytes.length + (req.cut ? 10 : 0)}`, '', ''].join('\r\n');
        const socket = net.connect(port, '127.0.0.1');
        const chunks = [];
        const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within 20 s to request ${req.n} (${req.kind})`)); }, 20000);
        socket.on('connect', () => {
            socket.write(head);
            socket.write(req.bytes);
            if (req.cut === 'half-close') { socket.end(); }
        });
        socket.on('data', (c) => chunks.push(c));
        socket.on('error', () => { /* a reset after the answer: judged by what arrived */ });
        socket.on('close', () => {
            clearTimeout(timer);
            const raw = Buffer.concat(chunks).toString('utf8');
            const split = raw.indexOf('\r\n\r\n');
            const status = Number((/^HTTP\/1\.1 (\d{3})/.exec(raw) || [])[1]) || 0;
            const type = (/\r\ncontent-type:\s*([^\r\n]*)/i.exec(raw.slice(0, split)) || [])[1] || '';
            resolve({ status, type, body: split >= 0 ? raw.slice(split + 4) : '' });
        });
    });
}

for (const layout of WEBHOOK_LAYOUTS) {
    describe(`fuzz: durst-webhook-in in the ${layout.name}`, function () {
        this.timeout(120000);
        const seed = fuzzSeed();
        let ctx;

        before(async function () {
            ctx = await layout.start({ flows: flows(), credentials: { 'sub.jwt': { jwtKey: JWT_KEY }, 'sub.xauth': { xAuthPassword: XAUTH_PASSWORD } },
                settings: { apiMaxLength: `${BODY_LIMIT}b`, durstWebhookTimeout: BODY_TIMEOUT_MS } });
        });

        after(async function () {
            if (ctx) { await ctx.stop(); }
        });

        it(`${REQUESTS_PER_LAYOUT} generated requests (seed ${seed}): documented answers in JSON, each accepted callback once per wire, runtime alive`, async function () {
            const r = prng(seed + (layout === WEBHOOK_LAYOUTS[0] ? 0 : 1));
            const requests = Array.from({ length: REQUESTS_PER_LAYOUT }, (_, n) => generate(r, n, seed));
            const answers = await pool(requests, 8, (req) => send(ctx.port, req));
            const wrong = [];
            requests.forEach((req, i) => {
                const a = answers[i];
                const problem = (text) => wrong.push(`#${req.n} ${req.hook}/${req.kind}${req.cut ? '/' + req.cut : ''}: ${text}`);
                if (req.expect === 'http-400') {
                    if (a.status !== 400 && a.status !== 0) { problem(`expected Node's 400 or a closed socket, got ${a.status}`); }
                    return;
                }
                if (req.expect === 408 && a.status === 0) { return; } // cut after the timeout before the answer was read
                if (a.status !== req.expect) { problem(`expected ${req.expect}, got ${a.status} ${a.body.slice(0, 120)}`); return; }
                if (!/^application\/json/.test(a.type)) { problem(`answer is not JSON (${a.type})`); return; }
                let body;
                try { body = JSON.parse(a.body); } catch { problem(`answer body is not JSON: ${a.body.slice(0, 120)}`); return; }
                if (body.ok !== (a.status === 200) || (a.status !== 200 && typeof body.error !== 'string')) { problem(`answer ${a.body.slice(0, 120)}`); }
                req.repeat = body.repeat === true;
            });
            assert.deepStrictEqual(wrong.slice(0, 20), [], `${wrong.length} wrong answers (FUZZ_SEED=${seed})`);
            assert.ok(await ctx.alive(), 'the runtime is still running');

            // The same callback again on one webhook (same bytes, or the same JSON re-serialised): exactly one of each
            // group is sent on, the rest are repeats.
            const groups = new Map();
            for (const q of requests.filter((x) => x.expect === 200)) {
                const key = q.hook + ':' + crypto.createHash('sha256').update(normalised(q.object)).digest('hex');
                groups.set(key, [...(groups.get(key) || []), q]);
            }
            for (const [key, group] of groups) {
                assert.strictEqual(group.filter((q) => !q.repeat).length, 1, `one first sighting among ${group.length} identical bodies (${key.slice(0, 20)})`);
            }
            // Every accepted callback once on each of the two wires; rejected ones and repeats never.
            const accepted = requests.filter((q) => q.expect === 200 && !q.repeat);
            const wantedPerWire = accepted.length;
            await waitFor(async () => (await ctx.msgs()).length >= 2 * wantedPerWire, `${2 * wantedPerWire} msgs (FUZZ_SEED=${seed})`, 10000, { intervalMs: 25 });
            // a duration: a msg too many (a repeat let through) would arrive within 100 ms.
            await sleep(100);
            const msgs = await ctx.msgs();
            for (const wire of ['out', 'out2']) {
                const onWire = msgs.filter((m) => m.node === wire);
                assert.strictEqual(onWire.length, wantedPerWire, `msgs on ${wire}: ${onWire.length}, accepted callbacks: ${wantedPerWire} (FUZZ_SEED=${seed})`);
                const seen = new Map();
                for (const m of onWire) {
                    const id = m.msg.payload && m.msg.payload.fuzzId;
                    if (id !== undefined) { seen.set(id, (seen.get(id) || 0) + 1); }
                }
                for (const q of accepted.filter((x) => x.traceable)) {
                    assert.strictEqual(seen.get(q.id), 1, `accepted callback #${q.n} (${q.kind}) on ${wire} ${seen.get(q.id) || 0} times`);
                }
                for (const q of requests.filter((x) => x.expect !== 200)) {
                    assert.ok(!seen.has(q.id), `rejected request #${q.n} (${q.kind}, ${q.expect}) came out on ${wire}`);
                }
            }
            // Sanity of the generator itself: every documented outcome was exercised.
            const outcomes = new Set(requests.map((q) => q.expect));
            for (const status of [200, 400, 401, 413, 415]) { assert.ok(outcomes.has(status), `the run exercised ${status}`); }
        });
    });
}
