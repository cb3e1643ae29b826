'use strict';
// A real Node-RED process for multi-instance tests, embedded the way its own red.js does it (editor and
// HTTP nodes on '/', one express app), on an ephemeral 127.0.0.1 port, with this package linked into a
// throw-away user directory. Flows and credentials are written before it starts.
const fs = require('fs');
const os = require('os');
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
    uiHost: '127.0.0.1', uiPort: 0, credentialSecret: false, telemetry: { enabled: false },
    logging: { console: { level: 'warn' } } });
app.use('/', RED.httpAdmin);
app.use('/', RED.httpNode);
server.listen(0, '127.0.0.1', () => {
    const started = new Promise((resolve) => RED.events.once('flows:started', resolve));
    RED.start().then(() => started).then(() => console.log('PORT ' + server.address().port));
});
process.on('SIGTERM', () => RED.stop().then(() => process.exit(0), () => process.exit(1)));
`;

/**
 * Starts Node-RED with `flows` (nodes may carry `credentials`, which go to a plain flows_cred.json:
 * fine for a throw-away directory). Resolves to { port, output(), stop() } once the flows started.
 */
async function startNodeRed(name, flows, { timeoutMs = 30000 } = {}) {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `print-events-${name}-`));
    fs.mkdirSync(path.join(userDir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', 'node-red-contrib-print-events'), 'dir');
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name, private: true }));
    const credentials = {};
    const nodes = flows.map((n) => {
        const { credentials: creds, ...rest } = n;
        if (creds) { credentials[n.id] = creds; }
        return rest;
    });
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(nodes));
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));

    const child = spawn(process.execPath, ['-e', SERVER], { cwd: ROOT, env: { ...process.env, USER_DIR: userDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    const exited = new Promise((resolve) => child.once('exit', resolve));

    const instance = {
        name,
        userDir,
        output: () => output,
        /** Ends the process at once (SIGKILL: no close handlers run), like a crash. */
        async kill() {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill('SIGKILL');
                await exited;
            }
        },
        async stop() {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill('SIGTERM');
                const kill = setTimeout(() => child.kill('SIGKILL'), 20000);
                await exited;
                clearTimeout(kill);
            }
            fs.rmSync(userDir, { recursive: true, force: true });
        }
    };
    const started = Date.now();
    for (;;) {
        const m = /PORT (\d+)/.exec(output);
        if (m) { instance.port = Number(m[1]); return instance; }
        if (child.exitCode !== null || Date.now() - started > timeoutMs) {
            await instance.stop();
            throw new Error(`Node-RED "${name}" did not start:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

module.exports = { startNodeRed, ROOT };
