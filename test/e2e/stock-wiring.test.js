'use strict';
// A Durst callback through Node-RED wired exactly like its own red.js: admin app (editor) mounted
// before the HTTP-node app, both on '/', the default. The admin app's JSON body parser would read every
// JSON body first; durst-webhook-in's capture at the front of the root app reads its callbacks before that.
// The whole webhook fault table also runs against this layout (test/faults-durst-webhook.test.js).
const assert = require('assert');
const crypto = require('crypto');
const jwt = require('jsonwebtoken');
const { startStockNodeRed } = require('../lib/stock-node-red');
const { waitFor } = require('../lib/wait');

describe('durst-webhook-in in a stock Node-RED (editor and HTTP nodes both on "/")', function () {
    this.timeout(60000);
    const JWT_KEY = 'stock-wiring-jwt-key';
    let nodeRed;

    before(async function () {
        const subscriber = (id, extra) => ({ id, type: 'durst-subscriber', name: `${id} subscriber`, apiUrl: 'http://127.0.0.1:9', apiAuth: 'none',
            hostUri: 'http://127.0.0.1:9', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra });
        nodeRed = await startStockNodeRed({
            flows: [
                { id: 't1', type: 'tab', label: 'stock' },
                subscriber('plain', { externalAuthType: 'NONE' }),
                subscriber('signed', { externalAuthType: 'JWT_SIGNING' }),
                { id: 'w1', type: 'durst-webhook-in', z: 't1', subscriber: 'plain', url: '/durst/plain', x: 100, y: 100, wires: [['rec']] },
                { id: 'w2', type: 'durst-webhook-in', z: 't1', subscriber: 'signed', url: '/durst/signed', x: 100, y: 200, wires: [['rec']] },
                { id: 'rec', type: 'test-recorder', z: 't1', x: 300, y: 100, wires: [] }
            ],
            credentials: { signed: { jwtKey: JWT_KEY } }
        });
    });

    after(async function () {
        if (nodeRed) { await nodeRed.stop(); }
    });

    const body = JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 2068, newStatus: 'PRINTED' }, null, 2);
    const post = (url, text, headers = {}) => fetch(nodeRed.baseUrl + url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
    const sign = (text) => jwt.sign({ sub: 'STATUS/PRODUCTION_JOB/2068', bodySha256: crypto.createHash('sha256').update(text).digest('hex') },
        JWT_KEY, { algorithm: 'HS256', expiresIn: 60 });

    it('accepts a JSON callback (NONE verification) ahead of the editor\'s body parser', async function () {
        const res = await post('/durst/plain', body);
        assert.strictEqual(res.status, 200, `callback answered ${res.status}: ${await res.text()}`);
    });

    it('checks a JWT body digest over the exact bytes: pretty-printed signed body 200, tampered body 401', async function () {
        const ok = await post('/durst/signed', body, { 'x-jwt-token': sign(body) });
        assert.strictEqual(ok.status, 200, `signed callback answered ${ok.status}: ${await ok.text()}`);
        const tampered = body.replace('PRINTED', 'CANCELLED');
        const bad = await post('/durst/signed', tampered, { 'x-jwt-token': sign(body) });
        assert.strictEqual(bad.status, 401, `tampered callback answered ${bad.status}: ${await bad.text()}`);
        const { msgs } = await nodeRed.state();
        assert.strictEqual(msgs.filter((m) => m.msg.payload.entityId === 2068).length, 2, 'one msg per accepted callback');
    });

    it('leaves the editor\'s JSON API working; after a full deploy through it the webhook answers, with no layer added', async function () {
        const res = await fetch(nodeRed.baseUrl + '/flows', { headers: { 'Node-RED-API-Version': 'v2' } });
        assert.strictEqual(res.status, 200);
        const { flows } = await res.json();
        const before = await nodeRed.state();
        // The admin app must still parse this JSON body itself: without it the deploy is a 400.
        const deployed = await fetch(nodeRed.baseUrl + '/flows', { method: 'POST',
            headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
            body: JSON.stringify({ flows }) });
        assert.strictEqual(deployed.status, 200, `admin POST /flows answered ${deployed.status}: ${await deployed.text()}`);
        let answer;
        await waitFor(async () => (answer = await post('/durst/plain', body)).status === 200, 'the webhook after the redeploy', 5000, { intervalMs: 100 })
            .catch(() => undefined); // the assertion below says what it answered
        assert.strictEqual(answer.status, 200, 'the webhook answers after the redeploy');
        const after = await nodeRed.state();
        assert.ok(before.rootLayers > 0 && before.nodeLayers > 0, 'layer counts are read');
        assert.deepStrictEqual([after.rootLayers, after.nodeLayers], [before.rootLayers, before.nodeLayers],
            'a deploy adds no capture or route layer');
    });
});
