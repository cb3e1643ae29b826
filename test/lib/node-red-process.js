'use strict';
// A real Node-RED process, wired like its own red.js (editor and HTTP nodes both on "/"), on a fixed port and
// user dir, so a test can stop it and start it again exactly as a restart does. Flows are changed through the
// admin API, as the editor's deploy does.
const fs = require('fs');
const os = require('os');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');

const SERVER = `
const http = require('http');
const express = require(require.resolve('express', { paths: [require('path').dirname(require.resolve('node-red'))] }));
const RED = require('node-red');
const app = express();
const server = http.createServer(app);
RED.init(server, { userDir: process.env.USER_DIR, flowFile: 'flows.json', httpAdminRoot: '/', httpNodeRoot: '/',
    uiHost: '127.0.0.1', uiPort: Number(process.env.PORT), credentialSecret: false, telemetry: { enabled: false },
    logging: { console: { level: 'info' } }, ...JSON.parse(process.env.EXTRA_SETTINGS || '{}') });
app.use('/', RED.httpAdmin);
app.use('/', RED.httpNode);
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
    const started = new Promise((resolve) => RED.events.once('flows:started', resolve));
    RED.start().then(() => started).then(() => console.log('NODE-RED READY ' + server.address().port));
});
process.on('SIGTERM', () => RED.stop().then(() => process.exit(0), () => process.exit(1)));
`;

/** A port that was free a moment ago (listen on 0, close). */
function freePort() {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once('error', reject);
        probe.listen(0, '127.0.0.1', () => {
            const { port } = probe.address();
            probe.close(() => resolve(port));
        });
    });
}

/** A throw-away user dir with this package linked into node_modules, as `npm install` would put it. */
function makeUserDir(prefix = 'print-events-nr-') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'node-red-contrib-print-events'), 'dir');
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"print-events-test","private":true}');
    return dir;
}

async function waitFor(fn, { timeoutMs = 30000, intervalMs = 50, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastError;
    for (;;) {
        try {
            const value = await fn();
            if (value) { return value; }
        } catch (err) { lastError = err; }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}` + (lastError ? `: ${lastError.message}` : ''));
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

class NodeRedProcess {
    constructor({ userDir, port, settings = {} }) {
        this.userDir = userDir;
        this.port = port;
        this.settings = settings;
        this.log = '';
        this.child = undefined;
    }

    get baseUrl() { return `http://127.0.0.1:${this.port}`; }

    writeFlows(flows) {
        fs.writeFileSync(path.join(this.userDir, 'flows.json'), JSON.stringify(flows, null, 2));
    }

    async start() {
        const child = spawn(process.execPath, ['-e', SERVER], {
            cwd: ROOT,
            env: { ...process.env, USER_DIR: this.userDir, PORT: String(this.port), EXTRA_SETTINGS: JSON.stringify(this.settings) },
            stdio: ['ignore', 'pipe', 'pipe']
        });
        this.child = child;
        const startAt = this.log.length;
        child.stdout.on('data', (c) => { this.log += c; });
        child.stderr.on('data', (c) => { this.log += c; });
        this.exited = new Promise((resolve) => child.once('exit', resolve));
        await waitFor(() => {
            if (child.exitCode !== null) { throw new Error('Node-RED exited'); }
            return this.log.indexOf('NODE-RED READY', startAt) >= 0;
        }, { timeoutMs: 60000, what: 'Node-RED to start' }).catch((err) => { throw new Error(`${err.message}:\n${this.log.slice(startAt)}`); });
    }

    async stop() {
        const child = this.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) { return; }
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 20000);
        await this.exited;
        clearTimeout(killTimer);
    }

    async restart() {
        await this.stop();
        await this.start();
    }

    /** Number of log lines matching re so far. */
    count(re) {
        return this.log.split('\n').filter((line) => re.test(line)).length;
    }

    async getFlows() {
        const res = await fetch(this.baseUrl + '/flows', { headers: { 'Node-RED-API-Version': 'v1' } });
        if (!res.ok) { throw new Error(`GET /flows answered ${res.status}`); }
        return res.json();
    }

    /** Deploys like the editor: type 'full', 'nodes' (modified nodes) or 'flows' (modified flows). */
    async deploy(flows, type) {
        const res = await fetch(this.baseUrl + '/flows', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v1', 'Node-RED-Deployment-Type': type },
            body: JSON.stringify(flows)
        });
        if (res.status !== 204 && res.status !== 200) { throw new Error(`deploy answered ${res.status}: ${await res.text()}`); }
    }
}

module.exports = { NodeRedProcess, freePort, makeUserDir, waitFor, ROOT };
