'use strict';
// The package's bin (`npx print-events-simulators`, dist/simulators/cli.js): both simulators with the demo
// settings the examples use, and the examples' MQTT broker, started as a real child process, talked to over loopback,
// stopped by SIGTERM. Every start names its ports (0 = any free one): nothing here takes 1883 or the demo ports.
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const mqtt = require('mqtt');
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

    /** The TCP ports a process listens on (Linux: its socket inodes in /proc/net/tcp in state LISTEN). */
    function listeningPorts(pid) {
        const inodes = new Set(fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
            try { return (/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`)) || [])[1]; } catch { return undefined; }
        }).filter(Boolean));
        return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/))
            .filter((f) => f[3] === '0A' && inodes.has(f[9])).map((f) => parseInt(f[1].split(':')[1], 16)).sort((a, b) => a - b);
    }

    const started = () => waitFor(() => /Import the examples/.test(output), 'the started banner', 10000);
    const portOf = (re) => Number(re.exec(output)[1]);

    it('starts both simulators with the demo MisKey and a trickle, and stops on SIGTERM', async function () {
        start(['--pf-port', '0', '--durst-port', '0', '--mqtt-port', '0', '--quiet']);
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
            start(['--pf-port', '0', '--durst-port', String(blocker.address().port), '--no-mqtt']);
            const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
            assert.strictEqual(code, 1);
            assert.match(output, /Durst simulator cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
        } finally {
            await new Promise((resolve) => blocker.close(resolve));
        }
    });

    it('starts the examples\' MQTT broker: a client receives what another publishes through it', async function () {
        start(['--pf-port', '0', '--durst-port', '0', '--mqtt-port', '0', '--quiet']);
        await started();
        const url = /MQTT broker: (mqtt:\/\/127\.0\.0\.1:\d+)/.exec(output)[1];
        assert.ok(listeningPorts(child.pid).includes(Number(new URL(url).port)), 'the bin itself listens on the broker port');
        const connect = () => new Promise((resolve, reject) => {
            const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000 });
            client.once('connect', () => resolve(client));
            client.once('error', reject);
        });
        const [subscriber, publisher] = [await connect(), await connect()];
        try {
            const received = new Promise((resolve) => subscriber.on('message', (topic, payload) => resolve({ topic, payload: String(payload) })));
            await subscriber.subscribeAsync('printfactory/#', { qos: 1 });
            await publisher.publishAsync('printfactory/job.created', '{"JobGUID":"g1"}', { qos: 1 });
            assert.deepStrictEqual(await received, { topic: 'printfactory/job.created', payload: '{"JobGUID":"g1"}' });
        } finally {
            await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
        }
    });

    it('--no-mqtt starts no broker: the bin listens on the two simulator ports only', async function () {
        start(['--pf-port', '0', '--durst-port', '0', '--no-mqtt', '--quiet']);
        await started();
        assert.match(output, /MQTT broker: none started \(--no-mqtt\)/);
        const sims = [portOf(/PrintFactory simulator: ws:\/\/[\d.]+:(\d+)/), portOf(/Durst Workflow simulator: http:\/\/[\d.]+:(\d+)/)].sort((a, b) => a - b);
        assert.deepStrictEqual(listeningPorts(child.pid), sims);
    });

    it('says in one line that the MQTT port is taken, uses the broker there and keeps the simulators running', async function () {
        const blocker = net.createServer();
        await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
        const busy = blocker.address().port;
        try {
            start(['--pf-port', '0', '--durst-port', '0', '--mqtt-port', String(busy), '--quiet']);
            await started();
            const lines = output.split('\n').filter((l) => /MQTT/.test(l));
            assert.deepStrictEqual(lines, [`MQTT broker: 127.0.0.1:${busy} is already in use: examples 05 and 07 use the broker that listens there ` +
                '(--mqtt-port or --no-mqtt to change)']);
            assert.strictEqual(listeningPorts(child.pid).length, 2, 'the two simulators listen, no broker');
            assert.strictEqual(child.exitCode, null, 'still running');
            child.kill('SIGTERM');
            assert.strictEqual(await new Promise((resolve) => child.once('exit', (c) => resolve(c))), 0, output);
        } finally {
            await new Promise((resolve) => blocker.close(resolve));
        }
    });

    it('drops the PrintFactory connections once with --pf-gap-after (the gap example 07 reports)', async function () {
        start(['--pf-port', '0', '--durst-port', '0', '--no-mqtt', '--pf-gap-after', '300']);
        await started();
        const ws = new WebSocket(/PrintFactory simulator: (ws:\S+)/.exec(output)[1], { headers: { MisKey: 'demo-mis-key' } });
        const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
        ws.on('error', () => undefined);
        assert.strictEqual(await closed, 1006, 'the connection was dropped, not closed');
        assert.match(output, /dropping every connection once/);
    });

    it('refuses unknown options with its usage', async function () {
        start(['--bogus']);
        const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
        assert.strictEqual(code, 2);
        assert.match(output, /unknown option '--bogus'[\s\S]*usage: print-events-simulators/i);
    });
});
