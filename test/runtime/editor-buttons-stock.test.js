'use strict';
// The editor buttons in a real Node-RED process wired like red.js, with every secret stored in
// flows_cred.json as `${VAR}` and the variables set only in that process's environment. The buttons must
// send what the runtime resolved (and find the live PrintFactory connection by it), and must not send a
// stored secret to any URL but the deployed one.
const assert = require('assert');
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { startStockNodeRed } = require('../lib/stock-node-red');
const { startBystander } = require('../lib/bystander');
const { waitFor: waitUntil } = require('../lib/wait');

const MIS_KEY = 'stock-button-mis-key-6e04';
const API_TOKEN = 'stock-button-api-token-91ab';
const JWT_KEY = 'stock-button-jwt-key-5c2d77e1';
const SECRETS = [MIS_KEY, API_TOKEN, JWT_KEY];
const PLACEHOLDER = '__PWRD__';

const waitFor = (predicate, what, timeoutMs = 10000) => waitUntil(predicate, what, timeoutMs, { intervalMs: 20 });

describe('editor buttons in a stock Node-RED process with ${VAR} credentials', function () {
    this.timeout(60000);
    let pfSim;
    let durstSim;
    let bystander;
    let nodeRed;
    const pfAccepted = [];
    const pfRejected = [];

    before(async function () {
        pfSim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [MIS_KEY] });
        await pfSim.start();
        pfSim.on('connection', (misKey) => pfAccepted.push(misKey));
        pfSim.on('rejected', (reason) => pfRejected.push(reason));
        durstSim = new DurstSimulator({ apiAuth: { type: 'bearer', token: API_TOKEN } });
        await durstSim.start();
        bystander = await startBystander();
        nodeRed = await startStockNodeRed({
            flows: [
                { id: 't1', type: 'tab', label: 'buttons' },
                { id: 'pfc', type: 'printfactory-config', name: 'account', url: '${PE_STOCK_PF_URL}' },
                { id: 'pfn', type: 'printfactory-notification', z: 't1', account: 'pfc', events: [], x: 100, y: 100, wires: [[]] },
                { id: 'ds', type: 'durst-subscriber', name: 'durst', apiUrl: durstSim.url, apiAuth: 'bearer', hostUri: 'http://127.0.0.1:9',
                    externalAuthType: 'JWT_SIGNING', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '' },
                { id: 'hook', type: 'durst-webhook-in', z: 't1', subscriber: 'ds', url: '/durst/status', x: 100, y: 200, wires: [[]] }
            ],
            credentials: {
                pfc: { misKey: '${PE_STOCK_MISKEY}' },
                ds: { apiToken: '${PE_STOCK_DURST_TOKEN}', jwtKey: '${PE_STOCK_DURST_JWT}' }
            },
            // Only the Node-RED process knows the values.
            env: { PE_STOCK_PF_URL: pfSim.url, PE_STOCK_MISKEY: MIS_KEY, PE_STOCK_DURST_TOKEN: API_TOKEN, PE_STOCK_DURST_JWT: JWT_KEY }
        });
    });

    after(async function () {
        if (nodeRed) { await nodeRed.stop(); }
        if (bystander) { await bystander.stop(); }
        if (durstSim) { await durstSim.stop(); }
        if (pfSim) { await pfSim.stop(); }
    });

    async function post(path, body) {
        const res = await fetch(nodeRed.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const text = await res.text();
        for (const secret of SECRETS) { assert.ok(!text.includes(secret), `the answer to ${path} contains a secret: ${text}`); }
        return { status: res.status, body: JSON.parse(text) };
    }

    it('Test connection reports the live connection the runtime opened with the resolved MisKey, and opens no second one', async function () {
        await waitFor(() => pfSim.connectionCount === 1, 'the live connection');
        for (const body of [
            { id: 'pfc', url: '${PE_STOCK_PF_URL}', misKey: PLACEHOLDER },
            { id: 'pfc', url: pfSim.url, misKey: PLACEHOLDER }
        ]) {
            const res = await post('/print-events/printfactory/test', body);
            assert.deepStrictEqual(res.body, { ok: true, result: 'liveConnected' }, JSON.stringify(body));
        }
        assert.deepStrictEqual(pfAccepted, [MIS_KEY]);
        assert.deepStrictEqual(pfRejected, []);
        assert.strictEqual(pfSim.peakConnections, 1);
    });

    it('both buttons answer broken JSON with a JSON 400 (the admin app\'s parser reads it first), no HTML stack page', async function () {
        for (const path of ['/print-events/printfactory/test', '/print-events/durst/subscriber/register']) {
            const res = await fetch(nodeRed.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id": "pfc", "url":' });
            const text = await res.text();
            assert.strictEqual(res.status, 400, `${path}: ${text}`);
            assert.match(res.headers.get('content-type'), /^application\/json/, `${path}: ${text}`);
            assert.deepStrictEqual(JSON.parse(text), { ok: false, code: 'badJson', error: 'request body is not valid JSON' });
        }
        // The runtime is still there and answers the next request.
        const res = await post('/print-events/printfactory/test', { id: 'pfc', url: pfSim.url, misKey: PLACEHOLDER });
        assert.strictEqual(res.body.result, 'liveConnected');
    });

    it('Test connection does not send the stored MisKey to another URL', async function () {
        const res = await post('/print-events/printfactory/test', { id: 'pfc', url: `ws://127.0.0.1:${bystander.port}/`, misKey: PLACEHOLDER });
        assert.strictEqual(res.status, 400);
        assert.deepStrictEqual([res.body.ok, res.body.code], [false, 'reenterSecret']);
        assert.strictEqual(bystander.connections, 0);
    });

    it('Register / check sends the resolved token and JWT key, and Durst\'s signed callbacks then verify', async function () {
        const form = { mode: 'apply', id: 'ds', apiUrl: durstSim.url, apiAuth: 'bearer', hostUri: nodeRed.baseUrl, externalAuthType: 'JWT_SIGNING',
            xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '',
            credentials: { apiUser: '', apiPassword: '', apiToken: PLACEHOLDER, xAuthPassword: '', jwtKey: PLACEHOLDER } };
        const res = await post('/print-events/durst/subscriber/register', form);
        assert.strictEqual(res.status, 200, JSON.stringify(res.body));
        const id = res.body.subscriberId;
        assert.deepStrictEqual(durstSim.requests.map((r) => r.authorization), ['Bearer ' + API_TOKEN]);
        assert.strictEqual(durstSim.subscribers()[0].jwtSigningInfo.key, JWT_KEY);
        // A subscription for the webhook, straight at the simulator's API, then a signed callback into Node-RED.
        const created = await fetch(`${durstSim.url}/api/v1/subscribers/${id}/subscriptions/create`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + API_TOKEN },
            body: JSON.stringify({ topic: 'STATUS/PRODUCTION_JOB/*', path: 'durst/status' })
        });
        assert.strictEqual(created.status, 201);
        const [delivery] = await durstSim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTING', 'IMPOSED');
        assert.strictEqual(delivery.status, 200, `the webhook refused the callback signed with the registered key: ${delivery.status}`);
    });

    it('Register / check does not send stored secrets to another API URL', async function () {
        const calls = durstSim.requests.length;
        const res = await post('/print-events/durst/subscriber/register', { id: 'ds', apiUrl: `http://127.0.0.1:${bystander.port}`, apiAuth: 'bearer',
            hostUri: nodeRed.baseUrl, externalAuthType: 'JWT_SIGNING', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '',
            credentials: { apiToken: PLACEHOLDER, jwtKey: PLACEHOLDER } });
        assert.strictEqual(res.status, 400);
        assert.deepStrictEqual([res.body.ok, res.body.code], [false, 'reenterSecret']);
        assert.strictEqual(bystander.connections, 0);
        assert.strictEqual(durstSim.requests.length, calls);
    });
});
