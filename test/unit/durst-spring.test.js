'use strict';
// The Durst service against a Durst written from the vendor's public pages alone (not our simulator), in its
// least convenient plausible form at once: no v2 login behind a security filter that answers 401, tokens that
// expire after a few calls, HAL lists two to a page with lower-case statuses, 405 for every single GET, creates
// answered 201 with an empty body, UUID ids. Five "restarts" (a new service on the same state store each time)
// and an edit must end with one subscriber and exactly one ACTIVE subscription on the current path.
const http = require('http');
const crypto = require('crypto');
const assert = require('assert');
const { DurstService } = require('../../dist/nodes/lib/durst/service');
const { DurstStateStore } = require('../../dist/nodes/lib/durst/state-store');

function publicPagesDurst() {
    const state = { tokens: new Map(), subscribers: new Map(), subscriptions: new Map(), calls: 0 };
    const server = http.createServer((req, res) => {
        let text = '';
        req.on('data', (c) => { text += c; });
        req.on('end', () => {
            state.calls++;
            const url = new URL(req.url, 'http://x');
            const send = (status, body, headers = {}) => {
                res.writeHead(status, { 'content-type': 'application/json', ...headers });
                res.end(body === undefined ? '' : JSON.stringify(body));
            };
            if (url.pathname === '/api/v1/login' && req.method === 'GET') {
                if (url.searchParams.get('username') !== 'mis' || url.searchParams.get('password') !== 'pw') { send(401); return; }
                const token = crypto.randomUUID();
                state.tokens.set(token, 3); // valid for three calls: expiry mid-run, every run
                send(200, { id: 5, username: 'mis', activeUntil: '2038-01-19' }, { 'x-auth-token': token });
                return;
            }
            const token = req.headers['x-auth-token'];
            const left = state.tokens.get(token);
            if (!left) { send(401); return; } // also the unknown /api/v2/login: the filter runs first
            if (left === 1) { state.tokens.delete(token); } else { state.tokens.set(token, left - 1); }
            const body = text ? JSON.parse(text) : undefined;
            let m;
            if (req.method === 'POST' && url.pathname === '/api/v1/subscribers/create') {
                const id = crypto.randomUUID();
                state.subscribers.set(id, { id, ...body });
                res.writeHead(201, { location: `/api/v1/subscribers/${id}` });
                res.end();
                return;
            }
            if ((m = /^\/api\/v1\/subscribers\/([^/]+)$/.exec(url.pathname))) { send(state.subscribers.has(m[1]) ? 405 : 404); return; }
            if ((m = /^\/api\/v1\/subscribers\/([^/]+)\/subscriptions(\/create)?$/.exec(url.pathname))) {
                if (!state.subscribers.has(m[1])) { send(404); return; }
                if (req.method === 'POST') {
                    const id = crypto.randomUUID();
                    state.subscriptions.set(id, { id, subscriberId: m[1], path: body.path + '/', topic: body.topic, status: body.status.toLowerCase() });
                    send(201);
                    return;
                }
                const all = [...state.subscriptions.values()].filter((s) => s.subscriberId === m[1]).map((s) => ({ id: s.id, path: s.path, topic: s.topic, status: s.status }));
                const page = Number(url.searchParams.get('page') || 0);
                const links = {};
                if ((page + 1) * 2 < all.length) { links.next = { href: `http://127.0.0.1:${server.address().port}${url.pathname}?page=${page + 1}&size=2` }; }
                const slice = all.slice(page * 2, page * 2 + 2);
                send(200, { ...(slice.length ? { _embedded: { subscriptionApiList: slice } } : {}), _links: links,
                    page: { size: 2, totalElements: all.length, totalPages: Math.ceil(all.length / 2), number: page } });
                return;
            }
            if ((m = /^\/api\/v1\/subscribers\/([^/]+)\/subscriptions\/([^/]+)$/.exec(url.pathname))) {
                const s = state.subscriptions.get(m[2]);
                if (!s) { send(404); return; }
                if (req.method === 'PUT') {
                    Object.assign(s, { path: body.path, topic: body.topic, status: String(body.status).toLowerCase() });
                    send(201);
                    return;
                }
                send(405);
                return;
            }
            send(404);
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, state, url: `http://127.0.0.1:${server.address().port}` })));
}

describe('durst service against a Durst written from the public pages', function () {
    this.timeout(20000);
    let durst;
    beforeEach(async function () { durst = await publicPagesDurst(); });
    afterEach(async function () {
        durst.server.closeAllConnections();
        await new Promise((resolve) => durst.server.close(resolve));
    });

    it('five restarts and a path edit: one subscriber, exactly one ACTIVE subscription on the current path', async function () {
        const store = new DurstStateStore(undefined);
        const logs = [];
        const log = { info: (t) => logs.push(t), warn: (t) => logs.push(t), error: (t) => logs.push(t) };
        const ensureOnce = async (path) => {
            const service = new DurstService({ configNodeId: 'cfg', apiUrl: durst.url, auth: { type: 'login', user: 'mis', password: 'pw', method: 'auto' },
                settings: { hostUri: 'http://127.0.0.1:1880/', externalAuthType: 'NONE' }, store, log, client: { attempts: 1 }, retryFirstMs: 20 });
            service.start();
            let handle;
            try {
                const state = await new Promise((resolve) => {
                    handle = service.ensure({ nodeId: 'n1', topic: 'STATUS/*', path, publishInitialState: false, onState: (s) => {
                        if (s.state === 'active' || (s.state === 'failed' && s.retryInMs === undefined)) { resolve(s); }
                    } });
                });
                await handle.stop(false);
                return state;
            } finally {
                service.close();
            }
        };
        for (let run = 0; run < 5; run++) {
            const state = await ensureOnce('hooks/a');
            assert.strictEqual(state.state, 'active', `run ${run}: ${JSON.stringify(state)}\n${logs.join('\n')}`);
        }
        const edited = await ensureOnce('hooks/b');
        assert.strictEqual(edited.state, 'active', logs.join('\n'));
        assert.strictEqual(durst.state.subscribers.size, 1);
        const active = [...durst.state.subscriptions.values()].filter((s) => s.status === 'active');
        assert.deepStrictEqual(active.map((s) => s.path), ['hooks/b/'], JSON.stringify([...durst.state.subscriptions.values()]));
        assert.strictEqual(durst.state.subscriptions.size, 2, 'one create per path, none from a lost or empty answer');
    });
});
