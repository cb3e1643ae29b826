'use strict';
// A Durst callback through Node-RED wired exactly like its own red.js: admin app (editor) mounted
// before the HTTP-node app, both on '/', the default. The admin app's JSON body parser then runs first
// for every request. The demo keeps the raw bytes in httpAdminMiddleware (see scripts/demo.js); a
// stock install has no such middleware, so this test checks that the node copes on its own.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn } = require('child_process');
const jwt = require('jsonwebtoken');
const { ROOT, waitFor } = require('./harness');

// Runs in a child process: Node-RED embedded as red.js does it, on an ephemeral port.
const STOCK_SERVER = `
const http = require('http');
const express = require(require.resolve('express', { paths: [require('path').dirname(require.resolve('node-red'))] }));
const RED = require('node-red');
const app = express();
const server = http.createServer(app);
RED.init(server, { userDir: process.env.USER_DIR, flowFile: 'flows.json', httpAdminRoot: '/', httpNodeRoot: '/',
    uiHost: '127.0.0.1', uiPort: 0, credentialSecret: false, telemetry: { enabled: false }, logging: { console: { level: 'warn' } } });
app.use('/', RED.httpAdmin);
app.use('/', RED.httpNode);
server.listen(0, '127.0.0.1', () => {
    const started = new Promise((resolve) => RED.events.once('flows:started', resolve));
    RED.start().then(() => started).then(() => console.log('PORT ' + server.address().port));
});
process.on('SIGTERM', () => RED.stop().then(() => process.exit(0)));
`;

describe('durst-webhook-in in a stock Node-RED (editor and HTTP nodes both on "/")', function () {
    this.timeout(60000);
    const JWT_KEY = 'stock-wiring-jwt-key';
    let child;
    let userDir;
    let baseUrl;

    before(async function () {
        userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-stock-'));
        fs.mkdirSync(path.join(userDir, 'node_modules'));
        fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', 'node-red-contrib-print-events'), 'dir');
        fs.writeFileSync(path.join(userDir, 'package.json'), '{"name":"stock","private":true}');
        const subscriber = (id, extra) => ({ id, type: 'durst-subscriber', name: `${id} subscriber`, apiUrl: 'http://127.0.0.1:9', apiAuth: 'none',
            hostUri: 'http://127.0.0.1:9', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra });
        fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify([
            { id: 't1', type: 'tab', label: 'stock' },
            subscriber('plain', { externalAuthType: 'NONE' }),
            subscriber('signed', { externalAuthType: 'JWT_SIGNING' }),
            { id: 'w1', type: 'durst-webhook-in', z: 't1', subscriber: 'plain', url: '/durst/plain', x: 100, y: 100, wires: [[]] },
            { id: 'w2', type: 'durst-webhook-in', z: 't1', subscriber: 'signed', url: '/durst/signed', x: 100, y: 200, wires: [[]] }
        ]));
        // Plain-text credentials file (credentialSecret false in STOCK_SERVER): fine for a throw-away test dir.
        fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ signed: { jwtKey: JWT_KEY } }));
        child = spawn(process.execPath, ['-e', STOCK_SERVER], { cwd: ROOT, env: { ...process.env, USER_DIR: userDir }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (c) => { output += c; });
        child.stderr.on('data', (c) => { output += c; });
        const port = await waitFor(() => (/PORT (\d+)/.exec(output) || [])[1], { timeoutMs: 30000, what: 'stock Node-RED to start' })
            .catch((err) => { throw new Error(`${err.message}:\n${output}`); });
        baseUrl = `http://127.0.0.1:${port}`;
    });

    after(async function () {
        if (child && child.exitCode === null) {
            child.kill('SIGTERM');
            await new Promise((resolve) => child.once('exit', resolve));
        }
        fs.rmSync(userDir, { recursive: true, force: true });
    });

    const body = JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 2068, newStatus: 'PRINTED' });
    const post = (url, text, headers = {}) => fetch(baseUrl + url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
    const sign = (text) => jwt.sign({ sub: 'STATUS/PRODUCTION_JOB/2068', bodySha256: crypto.createHash('sha256').update(text).digest('hex') },
        JWT_KEY, { algorithm: 'HS256', expiresIn: 60 });

    it('accepts a JSON callback (NONE verification) that the admin app has already parsed', async function () {
        const res = await post('/durst/plain', body);
        assert.strictEqual(res.status, 200, `callback answered ${res.status}: ${await res.text()}`);
    });

    it('still checks a JWT body digest against the already-parsed body: signed body 200, tampered body 401', async function () {
        const ok = await post('/durst/signed', body, { 'x-jwt-token': sign(body) });
        assert.strictEqual(ok.status, 200, `signed callback answered ${ok.status}: ${await ok.text()}`);
        const tampered = body.replace('PRINTED', 'CANCELLED');
        const bad = await post('/durst/signed', tampered, { 'x-jwt-token': sign(body) });
        assert.strictEqual(bad.status, 401, `tampered callback answered ${bad.status}: ${await bad.text()}`);
    });
});
