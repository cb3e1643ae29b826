'use strict';
// The editor's twin finder asks the runtime which config nodes carry equal secrets (nodes/lib/twins.ts):
// POST /print-events/<type>/twins, in a real Node-RED process with adminAuth, so its permission is Node-RED's own check.
// It answers groups of ids (deployed secrets as the runtime resolved them, `${VAR}` included; the editor's own values
// where given), unknown ids as unknown, and never a secret; a user who may only read gets no answer.
const assert = require('assert');
const path = require('path');
const { startStockNodeRed } = require('../lib/stock-node-red');

const KEY = 'twins-route-mis-key-7c21';
const OTHER = 'twins-route-other-key-90ab';
const DURST_PASSWORD = 'twins-route-durst-password-5e3f';
const SECRETS = [KEY, OTHER, DURST_PASSWORD];
const ADMIN_PASSWORD = 'twins-admin-pw';
// Node-RED hashes adminAuth passwords with bcrypt; its own copy of bcryptjs makes the hash.
const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('node-red'))] }));

// Unreachable on purpose (port 9, discard): the configs exist and hold their secrets; no server is needed here.
const pfConfig = (id) => ({ id, type: 'printfactory-config', name: `config ${id}`, url: 'ws://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9',
    pingInterval: 30, handshakeTimeout: 15, reconnectMin: 60, reconnectMax: 600, stableAfter: 60, authRetry: 300 });
const subscriber = (id) => ({ id, type: 'durst-subscriber', name: `subscriber ${id}`, apiUrl: 'http://127.0.0.1:9', apiAuth: 'login', loginMethod: 'auto',
    hostUri: 'http://127.0.0.1:9', externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '' });

describe('POST /print-events/<type>/twins: which config nodes carry equal secrets (real Node-RED, adminAuth)', function () {
    this.timeout(60000);
    let nodeRed;
    const tokens = {};

    before(async function () {
        const hash = bcrypt.hashSync(ADMIN_PASSWORD, 8);
        nodeRed = await startStockNodeRed({
            flows: [pfConfig('pa'), pfConfig('pb'), pfConfig('pc'), pfConfig('penv'), subscriber('da'), subscriber('db'), subscriber('dc')],
            credentials: {
                pa: { misKey: KEY }, pb: { misKey: KEY }, pc: { misKey: OTHER }, penv: { misKey: '${PE_TWINS_KEY}' },
                da: { apiUser: 'workflow', apiPassword: DURST_PASSWORD }, db: { apiUser: 'workflow', apiPassword: DURST_PASSWORD },
                dc: { apiUser: 'workflow', apiPassword: OTHER }
            },
            env: { PE_TWINS_KEY: KEY },
            settings: {
                adminAuth: {
                    type: 'credentials',
                    users: [{ username: 'writer', password: hash, permissions: '*' }, { username: 'reader', password: hash, permissions: 'read' }]
                }
            }
        });
        for (const user of ['writer', 'reader']) {
            const res = await fetch(`${nodeRed.baseUrl}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: user === 'reader' ? 'read' : '*', username: user, password: ADMIN_PASSWORD }) });
            assert.strictEqual(res.status, 200, `token for ${user}`);
            tokens[user] = (await res.json()).access_token;
        }
    });

    after(async function () {
        if (nodeRed) { await nodeRed.stop(); }
    });

    async function ask(type, body, { user = 'writer', contentType = 'application/json' } = {}) {
        const headers = { 'content-type': contentType };
        if (user) { headers.authorization = `Bearer ${tokens[user]}`; }
        const res = await fetch(`${nodeRed.baseUrl}/print-events/${type}/twins`, { method: 'POST', headers,
            body: typeof body === 'string' ? body : JSON.stringify(body) });
        const text = await res.text();
        for (const secret of SECRETS) { assert.ok(!text.includes(secret), `the answer contains a secret: ${text}`); }
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        return { status: res.status, body: json, text };
    }

    it('groups deployed nodes by their stored MisKey, `${VAR}` resolved as the runtime resolves it', async function () {
        const res = await ask('printfactory-config', { nodes: [{ id: 'pa' }, { id: 'pc' }, { id: 'pb' }, { id: 'penv' }] });
        assert.deepStrictEqual(res, { status: 200, body: { ok: true, groups: [['pa', 'pb', 'penv'], ['pc']], unknown: [] }, text: res.text });
    });

    it('compares the editor\'s own values (imported or typed, `${VAR}` too) with stored ones; the placeholder means stored', async function () {
        const res = await ask('printfactory-config', { nodes: [
            { id: 'pa', credentials: { misKey: '__PWRD__' } },
            { id: 'imported-1', credentials: { misKey: KEY } },
            { id: 'imported-2', credentials: { misKey: '${PE_TWINS_KEY}' } },
            { id: 'imported-3', credentials: { misKey: 'typed-other' } },
            // Edited in the editor, not deployed yet: the editor's value counts, not the stored one.
            { id: 'pc', credentials: { misKey: KEY } }
        ] });
        assert.strictEqual(res.status, 200, res.text);
        assert.deepStrictEqual(res.body.groups, [['pa', 'imported-1', 'imported-2', 'pc'], ['imported-3']]);
        assert.deepStrictEqual(res.body.unknown, []);
    });

    it('answers ids it cannot judge (not deployed as that type, no values given) as unknown, not as a group', async function () {
        const res = await ask('printfactory-config', { nodes: [{ id: 'pa' }, { id: 'never-deployed' }, { id: 'da' }, { id: 'pb' }] });
        assert.strictEqual(res.status, 200, res.text);
        assert.deepStrictEqual(res.body, { ok: true, groups: [['pa', 'pb']], unknown: ['never-deployed', 'da'] });
    });

    it('serves durst-subscriber with all its credentials (text and password) compared', async function () {
        const res = await ask('durst-subscriber', { nodes: [{ id: 'da' }, { id: 'dc' }, { id: 'db' },
            { id: 'new', credentials: { apiUser: 'workflow', apiPassword: DURST_PASSWORD, apiToken: '', xAuthPassword: '', jwtKey: '' } },
            { id: 'partial', credentials: { apiUser: 'workflow' } }] });
        assert.strictEqual(res.status, 200, res.text);
        assert.deepStrictEqual(res.body, { ok: true, groups: [['da', 'db', 'new'], ['dc']], unknown: ['partial'] });
    });

    it('refuses a user who may only read, and one without a token (Node-RED\'s own permission check)', async function () {
        for (const user of ['reader', null]) {
            const res = await ask('printfactory-config', { nodes: [{ id: 'pa' }, { id: 'pb' }] }, { user });
            assert.strictEqual(res.status, 401, `${user}: ${res.text}`);
            assert.ok(!/"groups"/.test(res.text), 'no answer to the question');
        }
    });

    it('answers bad requests with a defined JSON error and keeps serving', async function () {
        const bad = [
            [{}, 400], [{ nodes: [] }, 400], [{ nodes: 'pa' }, 400], [{ nodes: [{ id: 7 }] }, 400], [{ nodes: [{ id: 'pa' }, { id: 'pa' }] }, 400],
            [{ nodes: [{ id: 'pa', credentials: 'x' }] }, 400], [{ nodes: [{ id: 'pa', credentials: { misKey: 5 } }] }, 400],
            [{ nodes: Array.from({ length: 201 }, (_, i) => ({ id: `n${i}` })) }, 400]
        ];
        for (const [body, status] of bad) {
            const res = await ask('printfactory-config', body);
            assert.strictEqual(res.status, status, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
            assert.strictEqual(res.body.ok, false);
            assert.strictEqual(res.body.code, 'invalid');
        }
        const form = await ask('printfactory-config', 'nodes=pa', { contentType: 'application/x-www-form-urlencoded' });
        assert.strictEqual(form.status, 415, form.text);
        const broken = await ask('printfactory-config', '{"nodes": [', {});
        assert.strictEqual(broken.status, 400, broken.text);
        assert.strictEqual(broken.body.ok, false);
        const again = await ask('printfactory-config', { nodes: [{ id: 'pa' }, { id: 'pb' }] });
        assert.deepStrictEqual(again.body.groups, [['pa', 'pb']]);
        assert.ok(nodeRed.alive());
    });
});
