'use strict';
// A Durst callback through Node-RED wired exactly like its own red.js: admin app (editor) mounted
// before the HTTP-node app, both on '/', the default. The admin app's JSON body parser then runs first
// for every request. The demo works around this in httpAdminMiddleware (see scripts/demo.js); a
// stock install has no such middleware, so this test checks the node itself.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { ROOT, waitFor } = require('./harness');

// Runs in a child process: Node-RED embedded as red.js does it, on an ephemeral port.
const STOCK_SERVER = `
const http = require('http');
const express = require(require.resolve('express', { paths: [require('path').dirname(require.resolve('node-red'))] }));
const RED = require('node-red');
const app = express();
const server = http.createServer(app);
RED.init(server, { userDir: process.env.USER_DIR, flowFile: 'flows.json', httpAdminRoot: '/', httpNodeRoot: '/',
    uiHost: '127.0.0.1', uiPort: 0, telemetry: { enabled: false }, logging: { console: { level: 'warn' } } });
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

    // Known bug (reported): dispatcher.receive answers 500 "request body was consumed" because the
    // admin app's bodyParser.json() already read the body. Remove .skip once the node handles it.
    it.skip('accepts a JSON callback (NONE verification) and answers 200', async function () {
        const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-stock-'));
        fs.mkdirSync(path.join(userDir, 'node_modules'));
        fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', 'node-red-contrib-print-events'), 'dir');
        fs.writeFileSync(path.join(userDir, 'package.json'), '{"name":"stock","private":true}');
        fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify([
            { id: 't1', type: 'tab', label: 'stock' },
            { id: 's1', type: 'durst-subscriber', name: 'x', apiUrl: 'http://127.0.0.1:9', apiAuth: 'none',
                hostUri: 'http://127.0.0.1:9', externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: 'x-jwt-token',
                jwtMethod: 'HS256', subscriberId: '' },
            { id: 'w1', type: 'durst-webhook-in', z: 't1', subscriber: 's1', url: '/durst/stock', x: 100, y: 100, wires: [[]] }
        ]));
        const child = spawn(process.execPath, ['-e', STOCK_SERVER], { cwd: ROOT, env: { ...process.env, USER_DIR: userDir }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (c) => { output += c; });
        child.stderr.on('data', (c) => { output += c; });
        try {
            const port = await waitFor(() => (/PORT (\d+)/.exec(output) || [])[1], { timeoutMs: 30000, what: `stock Node-RED to start:\n${output}` });
            const res = await fetch(`http://127.0.0.1:${port}/durst/stock`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 2068, newStatus: 'PRINTED' })
            });
            assert.strictEqual(res.status, 200, `callback answered ${res.status}: ${await res.text()}`);
        } finally {
            child.kill('SIGTERM');
            await new Promise((resolve) => child.once('exit', resolve));
            fs.rmSync(userDir, { recursive: true, force: true });
        }
    });
});
