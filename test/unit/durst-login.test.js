'use strict';
// The Durst login and the tolerant reading of answers, against a small server written from the vendor's pages
// (vendor-docs/public-api-notes.md), not against our simulator: v1/v2 login, token in a header of any case or
// in the body, 401 after expiry, HAL and paged lists, a 405 single GET, HTML pages with status 200.
const http = require('http');
const assert = require('assert');
const { DurstRestClient, HTML_ERROR } = require('../../dist/nodes/lib/durst/rest-client');
const { reconcileSubscriber } = require('../../dist/nodes/lib/durst/registration');

const USER = 'mis';
const PASSWORD = 'login-unit-password-31';

/** A Spring-like Durst: `mode` decides the login versions and answer shapes; every request is recorded. */
function springDurst() {
    const state = { seen: [], tokens: new Set(), mode: {}, next: 1 };
    const server = http.createServer((req, res) => {
        let text = '';
        req.on('data', (c) => { text += c; });
        req.on('end', () => {
            const url = new URL(req.url, 'http://x');
            state.seen.push({ method: req.method, path: url.pathname, query: url.search, token: req.headers['x-auth-token'] });
            const json = (status, body, headers = {}) => {
                res.writeHead(status, { 'content-type': 'application/json', ...headers });
                res.end(body === undefined ? '' : JSON.stringify(body));
            };
            const m = state.mode;
            if (url.pathname === '/api/v2/login') {
                if (!m.v2) { json(m.v2Status || 404, { error: 'Not Found' }); return; }
                const body = JSON.parse(text || '{}');
                if (body.username !== USER || body.password !== PASSWORD) { json(401); return; }
                const token = 'v2-' + state.next++;
                state.tokens.add(token);
                // Only in the body, as Durst Analytics names it: the header is optional.
                json(200, { userId: 5, username: USER, [m.bodyField || 'X-Auth-Token']: token }, m.noHeader ? {} : { 'X-Auth-Token': token });
                return;
            }
            if (url.pathname === '/api/v1/login') {
                if (url.searchParams.get('username') !== USER || url.searchParams.get('password') !== PASSWORD) { json(401); return; }
                const token = 'v1-' + state.next++;
                state.tokens.add(token);
                json(200, { id: 5, username: USER, activeUntil: '2038-01-19' }, { 'X-AUTH-TOKEN': token });
                return;
            }
            if (!state.tokens.has(req.headers['x-auth-token'])) { json(m.expiredStatus || 401); return; }
            if (m.html) {
                res.writeHead(200, { 'content-type': 'text/html' });
                res.end('<!DOCTYPE html><html><body>Sign in</body></html>');
                return;
            }
            const subs = [1, 2, 3, 4, 5].map((id) => ({ id: m.uuid ? `00000000-0000-4000-8000-00000000000${id}` : id, path: 'p', topic: 'STATUS/*', status: 'ACTIVE' }));
            if (url.pathname === '/api/v1/subscribers/17/subscriptions') {
                const page = Number(url.searchParams.get('page') || 0);
                const slice = subs.slice(page * 2, page * 2 + 2);
                if (m.list === 'hal') {
                    const links = { self: { href: `http://127.0.0.1:${server.address().port}/api/v1/subscribers/17/subscriptions?page=${page}` } };
                    if (page < 2) { links.next = { href: `http://127.0.0.1:${server.address().port}/api/v1/subscribers/17/subscriptions?page=${page + 1}&size=2` }; }
                    json(200, { _embedded: { subscriptionApiList: slice }, _links: links, page: { size: 2, totalElements: 5, totalPages: 3, number: page } });
                } else if (m.list === 'paged') {
                    json(200, { content: slice, totalPages: 3, totalElements: 5, number: page, size: 2, last: page === 2 });
                } else if (m.list === 'wrong') {
                    json(200, { status: 'ok' });
                } else {
                    json(200, subs);
                }
                return;
            }
            if (/^\/api\/v1\/subscribers\/17\/subscriptions\/[^/]+$/.test(url.pathname)) { json(405, { error: 'Method Not Allowed' }); return; }
            if (url.pathname === '/api/v1/subscribers/create') {
                // A 201 with an empty body and the new resource in Location, as Spring's ResponseEntity.created() gives it.
                res.writeHead(201, { location: '/api/v1/subscribers/8d0c7a52-3f1e-4a8e-9a51-2f9f5d0c7e11' });
                res.end();
                return;
            }
            json(404);
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, state, url: `http://127.0.0.1:${server.address().port}` })));
}

describe('durst login (x-auth-token) and tolerant answers', function () {
    let durst;
    const clients = [];
    const client = (auth, options = {}) => {
        const c = new DurstRestClient({ apiUrl: durst.url, auth: { type: 'login', user: USER, password: PASSWORD, ...auth }, attempts: 1, ...options });
        clients.push(c);
        return c;
    };

    beforeEach(async function () { durst = await springDurst(); });
    afterEach(async function () {
        for (const c of clients.splice(0)) { c.close(); }
        durst.server.closeAllConnections();
        await new Promise((resolve) => durst.server.close(resolve));
    });

    it('auto: POST /api/v2/login first; on 404 GET /api/v1/login; the header token (any case) goes on every call', async function () {
        const c = client({ method: 'auto' });
        const res = await c.listSubscriptions(17);
        assert.strictEqual(res.body.length, 5);
        const paths = durst.state.seen.map((r) => `${r.method} ${r.path}`);
        assert.deepStrictEqual(paths, ['POST /api/v2/login', 'GET /api/v1/login', 'GET /api/v1/subscribers/17/subscriptions']);
        assert.strictEqual(durst.state.seen[2].token, 'v1-1');
        await c.listSubscriptions(17);
        assert.strictEqual(durst.state.seen.filter((r) => /login/.test(r.path)).length, 2, 'the token is reused: no second login');
    });

    it('v2: a token only in the body (X-Auth-Token, xAuthToken, x_auth_token) is used', async function () {
        for (const field of ['X-Auth-Token', 'xAuthToken', 'x_auth_token']) {
            durst.state.mode = { v2: true, noHeader: true, bodyField: field };
            const c = client({ method: 'v2' });
            await c.listSubscriptions(17);
            const last = durst.state.seen[durst.state.seen.length - 1];
            assert.match(last.token, /^v2-\d+$/, field);
        }
        assert.ok(!durst.state.seen.some((r) => r.path === '/api/v1/login'), 'v2 only: no GET login (it puts the password in the URL)');
    });

    it('one login at a time: concurrent calls wait for the same one', async function () {
        durst.state.mode = { v2: true };
        const c = client({});
        await Promise.all([1, 2, 3, 4, 5].map(() => c.listSubscriptions(17)));
        assert.strictEqual(durst.state.seen.filter((r) => r.path === '/api/v2/login').length, 1);
        assert.strictEqual(c.session.logins, 1);
    });

    it('an expired token (401): logs in again once and repeats the call; a second 401 is an error, not a loop', async function () {
        durst.state.mode = { v2: true };
        const c = client({});
        await c.listSubscriptions(17);
        durst.state.tokens.clear(); // the token expired, or Durst restarted
        const res = await c.listSubscriptions(17);
        assert.strictEqual(res.body.length, 5);
        assert.strictEqual(durst.state.seen.filter((r) => r.path === '/api/v2/login').length, 2);
        // A server that refuses every token: one new login, then the 401 stands.
        const refusing = http.createServer((req, res) => {
            if (req.url === '/api/v2/login') { res.writeHead(200, { 'x-auth-token': 't' }); res.end('{}'); return; }
            res.writeHead(401); res.end();
        });
        await new Promise((resolve) => refusing.listen(0, '127.0.0.1', resolve));
        try {
            const r = new DurstRestClient({ apiUrl: `http://127.0.0.1:${refusing.address().port}`, auth: { type: 'login', user: USER, password: PASSWORD }, attempts: 3, backoffMs: 1 });
            clients.push(r);
            await assert.rejects(r.listSubscriptions(17), (err) => err.statusCode === 401);
            assert.strictEqual(r.session.logins, 2, 'the first login and one more after the 401');
        } finally {
            refusing.closeAllConnections();
            await new Promise((resolve) => refusing.close(resolve));
        }
    });

    it('a refused login is an authentication error naming the user, never the password, and is not retried', async function () {
        durst.state.mode = { v2: true };
        const c = client({ password: 'wrong-password-9' }, { attempts: 3, backoffMs: 1 });
        await assert.rejects(c.listSubscriptions(17), (err) => {
            assert.strictEqual(err.code, 'EAUTH');
            assert.match(err.message, /login of user "mis"/);
            assert.ok(!err.message.includes('wrong-password-9'));
            return true;
        });
        assert.deepStrictEqual(durst.state.seen.map((r) => `${r.method} ${r.path}`), ['POST /api/v2/login', 'GET /api/v1/login'],
            'auto tries v1 once after a v2 refusal; no retries, no API call');
    });

    it('a Spring Durst without v2 whose security filter answers it 401: auto logs in with v1; a 403 for an old token means a new login', async function () {
        durst.state.mode = { v2: false, v2Status: 401, expiredStatus: 403 };
        const c = client({ method: 'auto' });
        assert.strictEqual((await c.listSubscriptions(17)).body.length, 5);
        durst.state.tokens.clear();
        assert.strictEqual((await c.listSubscriptions(17)).body.length, 5);
        assert.deepStrictEqual(durst.state.seen.map((r) => `${r.method} ${r.path}`), ['POST /api/v2/login', 'GET /api/v1/login',
            'GET /api/v1/subscribers/17/subscriptions', 'GET /api/v1/subscribers/17/subscriptions', 'GET /api/v1/login', 'GET /api/v1/subscribers/17/subscriptions'],
            'v1 is remembered once it worked');
    });

    it('reads every page of HAL and Spring-paged lists', async function () {
        for (const list of ['hal', 'paged']) {
            durst.state.mode = { v2: true, list };
            const res = await client({}).listSubscriptions(17);
            assert.deepStrictEqual(res.body.map((s) => s.id), [1, 2, 3, 4, 5], list);
        }
    });

    it('an HTML page with status 200 is a clear error, never an empty list; so is a 2xx that is not a list', async function () {
        durst.state.mode = { v2: true, html: true };
        await assert.rejects(client({}).listSubscriptions(17), (err) => err.code === 'EHTML' && err.message.startsWith(HTML_ERROR));
        durst.state.mode = { v2: true, list: 'wrong' };
        await assert.rejects(client({}).listSubscriptions(17), (err) => err.code === 'ESHAPE' && /not a list/.test(err.message));
    });

    it('a single GET answered 405 falls back to the list; UUID ids are found there', async function () {
        durst.state.mode = { v2: true, uuid: true };
        const id = '00000000-0000-4000-8000-000000000003';
        const res = await client({}).getSubscription(17, id);
        assert.strictEqual(res.body.id, id);
        assert.deepStrictEqual(durst.state.seen.slice(-2).map((r) => `${r.method} ${r.path}`),
            [`GET /api/v1/subscribers/17/subscriptions/${id}`, 'GET /api/v1/subscribers/17/subscriptions']);
    });

    it('a subscriber created with an empty 201 body takes its id from Location', async function () {
        durst.state.mode = { v2: true };
        const result = await reconcileSubscriber(client({}), { hostUri: 'http://127.0.0.1:1880/', externalAuthType: 'NONE' }, undefined);
        assert.deepStrictEqual([result.id, result.action], ['8d0c7a52-3f1e-4a8e-9a51-2f9f5d0c7e11', 'created']);
    });
});
