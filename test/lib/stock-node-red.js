'use strict';
// A real Node-RED 4.1 process wired like its own red.js (admin app mounted before the HTTP-node app, both on
// '/'), with this package linked into a throw-away user dir. For tests of what only a real runtime does:
// loading stored credentials from flows_cred.json, resolving their `${VAR}` from its own environment, routing,
// restarts (start again on the same user dir and port).
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');

// Runs in the child process: Node-RED embedded as red.js does it, on PORT (0 = ephemeral), with SETTINGS added.
const STOCK_SERVER = `
const http = require('http');
const express = require(require.resolve('express', { paths: [require('path').dirname(require.resolve('node-red'))] }));
const RED = require('node-red');
const app = express();
const server = http.createServer(app);
RED.init(server, { userDir: process.env.USER_DIR, flowFile: 'flows.json', httpAdminRoot: '/', httpNodeRoot: '/',
    uiHost: '127.0.0.1', uiPort: Number(process.env.PORT || 0), credentialSecret: false, telemetry: { enabled: false },
    logging: { console: { level: 'warn' } }, ...JSON.parse(process.env.SETTINGS || '{}') });
app.use('/', RED.httpAdmin);
app.use('/', RED.httpNode);
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    const started = new Promise((resolve) => RED.events.once('flows:started', resolve));
    RED.start().then(() => started).then(() => console.log('PORT ' + server.address().port));
});
process.on('SIGTERM', () => RED.stop().then(() => process.exit(0)));
`;

/** A port that was free a moment ago, for a process that must come back on the same port after a restart. */
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
function makeUserDir() {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-stock-'));
    fs.mkdirSync(path.join(userDir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', 'node-red-contrib-print-events'), 'dir');
    fs.writeFileSync(path.join(userDir, 'package.json'), '{"name":"stock","private":true}');
    return userDir;
}

/**
 * Starts Node-RED with `flows` and plain-text `credentials` (credentialSecret false: fine for a throw-away
 * dir) and `env` added to its environment. Resolves with { baseUrl, userDir, output(), stop(), kill() } once flows
 * started. For a restart pass the `userDir` (and `port`) of the stopped one and no `flows`: the dir is then the
 * caller's and is kept; without `userDir` a new one is made and stop() removes it. `settings` are added to
 * Node-RED's settings (e.g. `logging`).
 */
async function startStockNodeRed({ flows, credentials = {}, env = {}, timeoutMs = 30000, userDir: givenDir, port: fixedPort = 0, settings = {} }) {
    const userDir = givenDir || makeUserDir();
    if (flows !== undefined) {
        fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
        fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
    }
    const child = spawn(process.execPath, ['-e', STOCK_SERVER], {
        cwd: ROOT, env: { ...process.env, ...env, USER_DIR: userDir, PORT: String(fixedPort), SETTINGS: JSON.stringify(settings) },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            await exited;
        }
        if (!givenDir) { fs.rmSync(userDir, { recursive: true, force: true }); }
    };
    const started = Date.now();
    let port;
    while (!(port = (/PORT (\d+)/.exec(output) || [])[1])) {
        if (child.exitCode !== null || Date.now() - started > timeoutMs) {
            await stop();
            throw new Error(`stock Node-RED did not start:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // kill(): the process ends at once (SIGKILL, no close handlers), like a crash; stop() still cleans up.
    const kill = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
            await exited;
        }
    };
    return { baseUrl: `http://127.0.0.1:${port}`, userDir, output: () => output, stop, kill };
}

module.exports = { startStockNodeRed, makeUserDir, freePort };
