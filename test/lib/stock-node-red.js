'use strict';
// A real Node-RED process wired exactly like its own red.js: one express app, the editor's admin app
// (JSON and urlencoded body parsers for every request) mounted on '/' first, then RED.httpNode on '/',
// the default of every install. The package is linked into the user dir's node_modules as a user
// installs it; test/lib/fault-nodes.js is copied into the user dir's nodes/. For tests of what only a real
// runtime does: loading stored credentials from flows_cred.json, resolving their `${VAR}` from its own
// environment, routing behind the editor's body parsers, restarts (start again on the same user dir and
// port), a crash. Over IPC the test reads what the process saw: msgs that reached test-recorder nodes, node
// status events and log lines.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const harnessUserDir = require('../../dist/harness/user-dir');

// The child: harness/child.ts (Node-RED embedded as red.js does it, reporting over IPC).
const CHILD = path.join(ROOT, 'dist', 'harness', 'child.js');


/** A throw-away user dir with this package linked into node_modules, as `npm install` would put it, and the test-only nodes. */
function makeUserDir() {
    const userDir = harnessUserDir.makeUserDir('print-events-stock-');
    fs.mkdirSync(path.join(userDir, 'nodes'));
    fs.copyFileSync(path.join(__dirname, 'fault-nodes.js'), path.join(userDir, 'nodes', 'fault-nodes.js'));
    fs.writeFileSync(path.join(userDir, 'nodes', 'fault-nodes.html'),
        '<script type="text/javascript">RED.nodes.registerType("test-recorder",{category:"common",defaults:{},inputs:1,outputs:0});' +
        'RED.nodes.registerType("test-broken-subscriber",{category:"config",defaults:{}});</script>');
    return userDir;
}

/**
 * Starts Node-RED with `flows` and plain-text `credentials` (credentialSecret false: fine for a throw-away
 * dir). `settings` are merged into the red.js-like settings, `env` into its environment. Resolves once the
 * flows started. For a restart pass the `userDir` (and `port`) of the stopped one and no `flows`: the dir is
 * then the caller's and is kept; without `userDir` a new one is made and stop() removes it.
 * PRINT_EVENTS_NODE_RED (a node-red package directory) and PRINT_EVENTS_NODE (a node binary) run the process on
 * another Node-RED / Node.js than the dev dependency, e.g. Node-RED 5 on Node 24.
 */
async function startStockNodeRed({ flows, credentials = {}, settings = {}, env = {}, timeoutMs = 45000, userDir: givenDir, port: fixedPort = 0 }) {
    const userDir = givenDir || makeUserDir();
    if (flows !== undefined) {
        fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
        fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
    }
    const child = spawn(process.env.PRINT_EVENTS_NODE || process.execPath, [CHILD], {
        cwd: ROOT,
        env: { ...process.env, ...env, USER_DIR: userDir, PORT: String(fixedPort), SETTINGS: JSON.stringify(settings) },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const waiting = new Map();
    let seq = 0;
    child.on('message', (m) => {
        if (m && m.reply !== undefined && waiting.has(m.reply)) { waiting.get(m.reply)(m); waiting.delete(m.reply); }
    });
    const cleanup = () => { if (!givenDir) { fs.rmSync(userDir, { recursive: true, force: true }); } };
    const port = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stock Node-RED did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
        child.on('message', (m) => { if (m && m.port) { clearTimeout(timer); resolve(m.port); } });
        exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`stock Node-RED exited (code ${code}, signal ${signal}):\n${output}`)); });
    }).catch(async (err) => {
        if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
        cleanup();
        throw err;
    });
    return {
        port,
        baseUrl: `http://127.0.0.1:${port}`,
        userDir,
        child,
        output: () => output,
        /** True while the process runs. */
        alive: () => child.exitCode === null && child.signalCode === null,
        /**
         * { msgs: [{ node, msg }], statuses: [{ id, status }], logs: [{ level, msg }], rootLayers, nodeLayers } as the
         * process saw them (the layer counts of the root app and of RED.httpNode, to prove deploys add none).
         */
        state() {
            if (child.exitCode !== null || child.signalCode !== null) {
                return Promise.reject(new Error(`stock Node-RED is not running:\n${output}`));
            }
            const id = ++seq;
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => { waiting.delete(id); reject(new Error('stock Node-RED did not answer a state request')); }, 10000);
                waiting.set(id, (m) => { clearTimeout(timer); resolve(m); });
                child.send({ cmd: 'state', seq: id });
            });
        },
        /** Ends the process at once (SIGKILL, no close handlers), like a crash; stop() still cleans up. */
        async kill() {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill('SIGKILL');
                await exited;
            }
        },
        async stop() {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill('SIGTERM');
                const killTimer = setTimeout(() => child.kill('SIGKILL'), 15000);
                await exited;
                clearTimeout(killTimer);
            }
            cleanup();
        }
    };
}

/** startStockNodeRed for `flows` whose nodes carry `credentials` (as demo flows do): split off into flows_cred.json. */
function startWithNodeCredentials(flows, options = {}) {
    const credentials = {};
    const nodes = flows.map(({ credentials: creds, ...n }) => {
        if (creds) { credentials[n.id] = creds; }
        return n;
    });
    return startStockNodeRed({ ...options, flows: nodes, credentials });
}

module.exports = { startStockNodeRed, startWithNodeCredentials, makeUserDir, ROOT };
