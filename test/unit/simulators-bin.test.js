'use strict';
// The package's bin (`npx print-events-simulators`, dist/simulators/cli.js): both simulators with the demo
// settings the examples use, started as a real child process, talked to over loopback, stopped by SIGTERM.
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');
const WebSocket = require('ws');
const { waitFor } = require('../lib/wait');

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = require(path.join(ROOT, 'package.json'));

describe('print-events-simulators (the package bin)', function () {
    this.timeout(20000);
    let child;
    let output = '';

    afterEach(async function () {
        if (child && child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
            await new Promise((resolve) => child.once('exit', resolve));
        }
        child = undefined;
        output = '';
    });

    function start(args) {
        child = spawn(process.execPath, [path.join(ROOT, pkg.bin['print-events-simulators']), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (c) => { output += c; });
        child.stderr.on('data', (c) => { output += c; });
        return child;
    }

    it('is declared in package.json and points at a built script with a node shebang', function () {
        const file = path.join(ROOT, pkg.bin['print-events-simulators']);
        assert.ok(pkg.files.some((f) => pkg.bin['print-events-simulators'].startsWith(f)), 'the bin ships in the tarball');
        assert.match(fs.readFileSync(file, 'utf8').split('\n')[0], /^#!\/usr\/bin\/env node$/);
    });

    it('starts both simulators with the demo MisKey and a trickle, and stops on SIGTERM', async function () {
        start(['--pf-port', '0', '--durst-port', '0', '--quiet']);
        await waitFor(() => /PrintFactory simulator: ws:\S+/.test(output) && /Durst Workflow simulator: http:\S+/.test(output), 'both URLs', 10000);
        const pfUrl = /PrintFactory simulator: (ws:\S+)/.exec(output)[1];
        const durstUrl = /Durst Workflow simulator: (http:\S+)/.exec(output)[1];
        assert.match(output, /demo-mis-key/, 'the output names the MisKey to enter');

        // The demo MisKey is accepted and notifications arrive without anyone asking for them.
        const ws = new WebSocket(pfUrl, { headers: { MisKey: 'demo-mis-key' } });
        const frames = [];
        ws.on('message', (data) => frames.push(JSON.parse(String(data))));
        await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
        await waitFor(() => frames.length > 0, 'a trickled notification', 8000);
        ws.close();
        // Another MisKey is refused (401), so the examples' MisKey really is the one that matters.
        const refused = await new Promise((resolve) => {
            const other = new WebSocket(pfUrl, { headers: { MisKey: 'not-the-demo-key' } });
            other.once('unexpected-response', (_req, res) => { resolve(res.statusCode); other.terminate(); });
            other.once('open', () => { resolve(101); other.close(); });
            other.on('error', () => undefined);
        });
        assert.ok(refused === 401 || refused === 403, `another MisKey got ${refused}`);

        // The Durst API wants the login the examples carry (the simulator's published one), as Durst does.
        const { DURST_SIM_LOGIN } = require('../../dist/simulators/durst');
        const get = (url) => new Promise((resolve, reject) => {
            http.get(url, (res) => { res.resume(); resolve({ status: res.statusCode, token: res.headers['x-auth-token'] }); }).on('error', reject);
        });
        assert.strictEqual((await get(durstUrl + '/api/v1/subscribers/1')).status, 401, 'the API answers without a login');
        const login = await get(`${durstUrl}/api/v1/login?username=${DURST_SIM_LOGIN.user}&password=${DURST_SIM_LOGIN.password}`);
        assert.strictEqual(login.status, 200);
        assert.ok(login.token, 'a login gives an x-auth-token');

        child.kill('SIGTERM');
        const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
        assert.strictEqual(code, 0, output);
    });

    it('says clearly when a port is taken and exits non-zero, leaving nothing listening', async function () {
        const blocker = http.createServer();
        await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
        try {
            start(['--pf-port', '0', '--durst-port', String(blocker.address().port)]);
            const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
            assert.strictEqual(code, 1);
            assert.match(output, /Durst simulator cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
        } finally {
            await new Promise((resolve) => blocker.close(resolve));
        }
    });

    it('refuses unknown options with its usage', async function () {
        start(['--bogus']);
        const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
        assert.strictEqual(code, 2);
        assert.match(output, /unknown option '--bogus'[\s\S]*usage: print-events-simulators/i);
    });
});
