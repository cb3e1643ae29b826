#!/usr/bin/env node
// The README's first command (`npm start` runs the build, then this script).
// Starts both vendor simulators with a steady trickle of realistic events, an MQTT
// broker (Aedes, a devDependency) for the fan-out examples, and an embedded Node-RED
// (whatever require('node-red') resolves to: 4.1 from the devDependencies, 5.0 in CI's
// second leg) with this package and FlowFuse Dashboard 2.0 installed in a local user
// directory, then deploys every example flow against them (example 06 is the print-floor
// dashboard). No cloud account, no printer, no external broker.
//
//   node scripts/demo.js            run until Ctrl+C
//   node scripts/demo.js --check    exit 0 once debug messages from both simulators and
//                                   over MQTT were produced and the dashboard page
//                                   answers (1 on timeout): used by tests/CI
//
// Environment: HOST, PORT, PF_SIM_PORT, DURST_SIM_PORT, MQTT_PORT, DEMO_USER_DIR,
// DEMO_EXIT_AFTER (seconds; implies --check with that timeout), DEMO_KEEP_FLOWS,
// PF_TRICKLE_MS, DURST_TRICKLE_MS, PF_DROP_EVERY_MS, NODE_RED_LOG_LEVEL.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const http = require('http');
const crypto = require('crypto');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE_NAME = require(path.join(ROOT, 'package.json')).name;
const EXAMPLES_DIR = path.join(ROOT, 'examples');

// Well-known demo secrets: the simulators accept them, nothing real is protected by them.
const DEMO_MIS_KEY = 'demo-mis-key';
const DEMO_DURST_CREDENTIALS = {
    jwtKey: 'demo-jwt-signing-key',
    xAuthPassword: 'demo-xauth-password'
};
// The demo's Durst Workflow API login: the simulator requires it, as Durst does, and the demo's durst-subscriber
// logs in with it like a user would (apiAuth 'login', x-auth-token on every call).
const DEMO_DURST_LOGIN = { user: 'demo', password: 'demo-durst-login' };

// Sources whose debug messages the check mode waits for: both simulators, and the MQTT fan-out
// (events that made the round trip through the demo broker).
const OUR_SOURCE_TYPES = {
    printfactory: 'printfactory-notification',
    durst: 'durst-webhook-in',
    mqtt: 'mqtt in'
};
// FlowFuse Dashboard 2.0: a devDependency of this package, linked into the demo's user directory.
const DASHBOARD_MODULE = '@flowfuse/node-red-dashboard';
const isDashboardType = (type) => typeof type === 'string' && type.startsWith('ui-');

/** Where the dashboard package is installed (this repository's node_modules), or null. */
function dashboardDir() {
    try {
        return path.dirname(require.resolve(DASHBOARD_MODULE + '/package.json', { paths: [ROOT] }));
    } catch {
        return null;
    }
}

function envInt(name, fallback) {
    const raw = process.env[name];
    if (raw === undefined || raw === '') { return fallback; }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
        throw new Error(`${name} must be an integer between 0 and 65535, got "${raw}"`);
    }
    return value;
}

function envMs(name, fallback) {
    const raw = process.env[name];
    if (raw === undefined || raw === '') { return fallback; }
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 50) {
        throw new Error(`${name} must be a number of milliseconds (at least 50), got "${raw}"`);
    }
    return value;
}

function envFlag(name) {
    return /^(1|true|yes|on)$/i.test(process.env[name] || '');
}

function readOptions(argv, env) {
    const exitAfter = env.DEMO_EXIT_AFTER ? Number(env.DEMO_EXIT_AFTER) : undefined;
    if (exitAfter !== undefined && !(exitAfter > 0)) {
        throw new Error(`DEMO_EXIT_AFTER must be a positive number of seconds, got "${env.DEMO_EXIT_AFTER}"`);
    }
    const check = argv.includes('--check') || exitAfter !== undefined;
    return {
        host: env.HOST || '127.0.0.1',
        port: envInt('PORT', 1880),
        pfSimPort: envInt('PF_SIM_PORT', 27489),
        durstSimPort: envInt('DURST_SIM_PORT', 8090),
        mqttPort: envInt('MQTT_PORT', 1883),
        userDir: path.resolve(env.DEMO_USER_DIR || path.join(ROOT, '.node-red-demo')),
        keepFlows: envFlag('DEMO_KEEP_FLOWS'),
        pfTrickleMs: envMs('PF_TRICKLE_MS', 2000),
        durstTrickleMs: envMs('DURST_TRICKLE_MS', 3000),
        // Off unless set: the simulator drops the PrintFactory connection this often, so tab 07 shows a gap.
        pfDropEveryMs: envMs('PF_DROP_EVERY_MS', 0),
        logLevel: env.NODE_RED_LOG_LEVEL || 'info',
        check,
        checkTimeoutMs: (exitAfter || 90) * 1000
    };
}

// ---------------------------------------------------------------------------
// Example flows: merge every examples/*.json into one flow set, one tab each.

function exampleFiles(dir = EXAMPLES_DIR) {
    if (!fs.existsSync(dir)) { return []; }
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

function isConfigNode(n) {
    // Config nodes have neither a position nor wires in an export.
    return n.type !== 'tab' && n.type !== 'group' && n.type !== 'subflow' &&
        n.x === undefined && n.wires === undefined;
}

function shortHash(text) {
    return crypto.createHash('sha1').update(text).digest('hex').slice(0, 16);
}

// Replaces every string that is exactly an old id (wires, z, g, links, config references).
function renameIds(value, renames) {
    if (typeof value === 'string') { return renames.has(value) ? renames.get(value) : value; }
    if (Array.isArray(value)) { return value.map((v) => renameIds(v, renames)); }
    if (value && typeof value === 'object') {
        const out = {};
        for (const [k, v] of Object.entries(value)) { out[k] = renameIds(v, renames); }
        return out;
    }
    return value;
}

/**
 * Merges example files into one flow array. Config nodes shared by id between examples
 * (the examples deliberately reuse one printfactory-config and one durst-subscriber) are
 * kept once; any other id clash is renamed so no example overwrites another.
 * Returns { flows, tabs: [{ id, file, label, disabled }] }.
 */
function mergeExamples(files, { hasDashboard = true } = {}) {
    const flows = [];
    const byId = new Map();
    const tabs = [];
    for (const file of files) {
        const base = path.basename(file, '.json');
        let nodes = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (!Array.isArray(nodes)) { throw new Error(`${file}: an example must be a JSON array of nodes`); }

        const renames = new Map();
        for (const n of nodes) {
            if (byId.has(n.id) && !isConfigNode(n)) { renames.set(n.id, shortHash(base + ':' + n.id)); }
        }
        if (renames.size > 0) { nodes = renameIds(nodes, renames); }

        let tab = nodes.find((n) => n.type === 'tab');
        if (!tab) {
            // Examples imported into "the current tab" carry no tab node: give them one.
            tab = { id: shortHash('tab:' + base), type: 'tab', label: base, disabled: false, info: '' };
            for (const n of nodes) {
                if (!isConfigNode(n) && n.type !== 'tab') { n.z = tab.id; }
            }
            nodes.unshift(tab);
        }
        const needsDashboard = nodes.some((n) => isDashboardType(n.type));
        if (needsDashboard && !hasDashboard) {
            // Unknown ui-* types would stop the whole deploy: keep the tab, switched off, and say why.
            tab.disabled = true;
            tab.label = `${tab.label || base} (disabled: needs ${DASHBOARD_MODULE})`;
        }
        tabs.push({ id: tab.id, file: path.basename(file), label: tab.label, disabled: !!tab.disabled, dashboard: needsDashboard });

        for (const n of nodes) {
            if (byId.has(n.id)) { continue; } // a shared config node already taken from an earlier example
            byId.set(n.id, n);
            flows.push(n);
        }
    }
    // Tabs first keeps the editor's tab order equal to the example file order.
    flows.sort((a, b) => (a.type === 'tab' ? 0 : 1) - (b.type === 'tab' ? 0 : 1));
    return { flows, tabs };
}

/**
 * Points the merged examples at the local simulators (and MQTT broker, when given) and adds the demo
 * credentials. Node-RED extracts `credentials` from posted nodes into its encrypted credential store.
 */
function pointAtSimulators(flows, { pfUrl, durstUrl, callbackBase, mqttPort }) {
    for (const n of flows) {
        if (n.type === 'mqtt-broker' && mqttPort !== undefined) {
            n.broker = '127.0.0.1';
            n.port = String(mqttPort);
            n.usetls = false;
        } else if (n.type === 'printfactory-config') {
            n.url = pfUrl;
            n.credentials = { misKey: DEMO_MIS_KEY };
        } else if (n.type === 'durst-subscriber') {
            n.apiUrl = durstUrl;
            n.apiAuth = 'login';
            n.loginMethod = 'auto';
            n.hostUri = callbackBase;
            // The simulator starts empty on every run: a remembered id would not exist there.
            n.subscriberId = '';
            const creds = { apiUser: DEMO_DURST_LOGIN.user, apiPassword: DEMO_DURST_LOGIN.password };
            if (n.externalAuthType === 'JWT_SIGNING') { creds.jwtKey = DEMO_DURST_CREDENTIALS.jwtKey; }
            if (n.externalAuthType === 'XAUTH') {
                creds.xAuthPassword = DEMO_DURST_CREDENTIALS.xAuthPassword;
                if (!n.xAuthUser) { n.xAuthUser = 'demo'; }
            }
            n.credentials = creds;
        }
    }
    return flows;
}

/**
 * Debug node ids reachable by wires (and link nodes) from each of our source node types,
 * on enabled tabs only. A debug message from one of them proves that simulator's events flow.
 */
function debugNodesBySource(flows) {
    const disabledTabs = new Set(flows.filter((n) => n.type === 'tab' && n.disabled).map((n) => n.id));
    const live = new Map(flows.filter((n) => !n.d && !disabledTabs.has(n.z)).map((n) => [n.id, n]));
    const next = (n) => {
        const out = [];
        for (const port of n.wires || []) { out.push(...port); }
        if (n.type === 'link out' && Array.isArray(n.links)) { out.push(...n.links); }
        return out;
    };
    const result = {};
    for (const [source, type] of Object.entries(OUR_SOURCE_TYPES)) {
        const seen = new Set();
        const queue = [...live.values()].filter((n) => n.type === type).map((n) => n.id);
        while (queue.length > 0) {
            const id = queue.shift();
            if (seen.has(id) || !live.has(id)) { continue; }
            seen.add(id);
            queue.push(...next(live.get(id)));
        }
        result[source] = new Set([...seen].filter((id) => live.get(id).type === 'debug'));
    }
    return result;
}

// ---------------------------------------------------------------------------
// User directory: the package is linked in as a real module, so Node-RED loads it the
// way an installed package loads, and its examples show under Import > Examples. The dashboard
// (installed by `npm ci` as a devDependency) is linked in the same way, as a user-installed module.

function linkModule(userDir, name, target) {
    const link = path.join(userDir, 'node_modules', ...name.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    let current = null;
    try { current = fs.readlinkSync(link); } catch { /* missing, or not a link */ }
    if (current === null || path.resolve(path.dirname(link), current) !== target) {
        fs.rmSync(link, { recursive: true, force: true });
        fs.symlinkSync(target, link, process.platform === 'win32' ? 'junction' : 'dir');
    }
}

function prepareUserDir(userDir, keepFlows, dashboard = dashboardDir()) {
    fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
    const pkgFile = path.join(userDir, 'package.json');
    const dependencies = { [PACKAGE_NAME]: 'file:' + path.relative(userDir, ROOT).split(path.sep).join('/') };
    if (dashboard) { dependencies[DASHBOARD_MODULE] = require(path.join(dashboard, 'package.json')).version; }
    const pkg = {
        name: 'node-red-demo',
        description: 'Node-RED user directory of the node-red-contrib-print-events demo (generated)',
        version: '0.0.0',
        private: true,
        dependencies
    };
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + '\n');

    linkModule(userDir, PACKAGE_NAME, ROOT);
    if (dashboard) { linkModule(userDir, DASHBOARD_MODULE, dashboard); }
    if (!keepFlows) {
        // Start from an empty runtime: the examples are deployed fresh once it is up, so stale
        // flows never open a second PrintFactory connection in between.
        for (const f of ['flows.json', 'flows_cred.json', '.flows.json.backup', '.flows_cred.json.backup']) {
            fs.rmSync(path.join(userDir, f), { force: true });
        }
    }
}

// ---------------------------------------------------------------------------
// Small HTTP/WebSocket helpers against the Node-RED admin API.

function requestJson(method, url, body, headers = {}) {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = http.request(url, {
            method,
            headers: {
                Accept: 'application/json',
                ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
                ...headers
            },
            timeout: 30000
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let parsed = text;
                try { parsed = text ? JSON.parse(text) : undefined; } catch { /* keep text */ }
                if (res.statusCode >= 400) {
                    reject(new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 500)}`));
                } else {
                    resolve(parsed);
                }
            });
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
        req.on('error', reject);
        if (data) { req.write(data); }
        req.end();
    });
}

/** Subscribes to the editor's debug channel, exactly like the Debug sidebar does. */
function watchDebug(baseUrl, onDebug) {
    const WebSocket = require('ws');
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + 'comms');
    ws.on('open', () => ws.send(JSON.stringify({ subscribe: 'debug' })));
    ws.on('message', (data) => {
        let frames;
        try { frames = JSON.parse(data.toString()); } catch { return; }
        for (const frame of Array.isArray(frames) ? frames : [frames]) {
            if (frame && frame.topic === 'debug' && frame.data) { onDebug(frame.data); }
        }
    });
    ws.on('error', () => { /* the check's timeout reports a dead channel */ });
    return ws;
}

function listen(server, port, host) {
    return new Promise((resolve, reject) => {
        const onError = (err) => { server.removeListener('listening', onListening); reject(err); };
        const onListening = () => { server.removeListener('error', onError); resolve(server.address().port); };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
    });
}

function explainStartError(what, envName, port, err) {
    if (err && err.code === 'EADDRINUSE') {
        return new Error(`${what}: port ${port} is already in use (another demo still running?). ` +
            `Stop it, or choose another port, e.g. ${envName}=${port + 1} npm start`);
    }
    return new Error(`${what} failed to start: ${err && err.message ? err.message : err}`);
}

/** The version of the Node-RED this demo embeds (whatever require('node-red') resolved to). */
function nodeRedVersion(RED) {
    try {
        return require(require.resolve('node-red/package.json')).version;
    } catch {
        return typeof RED.version === 'function' ? RED.version() : String(RED.version);
    }
}

/**
 * A real MQTT broker (Aedes) on 127.0.0.1, so the fan-out examples run without installing one.
 * Resolves to { aedes, port, url, stop() }; stop() disconnects every client and closes the port.
 */
async function startMqttBroker({ port = 0, host = '127.0.0.1' } = {}) {
    let Aedes;
    try {
        // Aedes is an ES module and a devDependency: loaded only here, never by the nodes.
        ({ Aedes } = await import('aedes'));
    } catch (err) {
        throw new Error(`cannot load the demo's MQTT broker "aedes" (${err.message}). It is a devDependency: run "npm ci" in the clone.`);
    }
    const aedes = await Aedes.createBroker();
    const server = net.createServer(aedes.handle);
    try {
        await listen(server, port, host);
    } catch (err) {
        await new Promise((resolve) => aedes.close(resolve));
        throw err;
    }
    const actualPort = server.address().port;
    return {
        aedes,
        port: actualPort,
        url: `mqtt://${host}:${actualPort}`,
        stop: () => new Promise((resolve) => {
            server.close(() => resolve());
            aedes.close(() => undefined);
        })
    };
}

function loadSimulators() {
    const pf = path.join(ROOT, 'dist', 'simulators', 'printfactory');
    const durst = path.join(ROOT, 'dist', 'simulators', 'durst');
    try {
        return {
            PrintFactorySimulator: require(pf).PrintFactorySimulator,
            DurstSimulator: require(durst).DurstSimulator
        };
    } catch (err) {
        throw new Error(`cannot load the simulators from dist/ (${err.message}). Run "npm run build" first ` +
            '(npm start does it for you).');
    }
}

/**
 * The dashboard's address, from the ui-base config node of an enabled dashboard tab
 * (Dashboard 2.0 serves it under Node-RED's HTTP node root); null when no dashboard is deployed.
 */
function dashboardUrlOf(flows, tabs, baseUrl) {
    const live = tabs.filter((t) => t.dashboard && !t.disabled);
    if (live.length === 0) { return null; }
    const base = flows.find((n) => n.type === 'ui-base');
    const route = String((base && base.path) || '/dashboard').replace(/^\/+/, '');
    return baseUrl.replace(/\/$/, '') + '/' + route;
}

/** Check mode: the dashboard page must answer with its HTML (following its redirects). Returns a problem text or null. */
async function checkDashboard(url, redirectsLeft = 3) {
    const answer = await new Promise((resolve) => {
        const req = http.get(url, { timeout: 10000 }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { body += c; });
            res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location, body }));
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', (err) => resolve({ error: err.message }));
    });
    if (answer.error) { return `dashboard ${url}: ${answer.error}`; }
    if (answer.status >= 300 && answer.status < 400 && answer.location && redirectsLeft > 0) {
        return checkDashboard(new URL(answer.location, url).href, redirectsLeft - 1);
    }
    return answer.status === 200 && /<html/i.test(answer.body) ? null : `dashboard ${url} answered ${answer.status}`;
}

// ---------------------------------------------------------------------------

async function main() {
    const opts = readOptions(process.argv.slice(2), process.env);
    const { PrintFactorySimulator, DurstSimulator } = loadSimulators();
    const RED = require('node-red');

    const cleanups = [];
    let stopping = null;
    async function stop(code) {
        if (stopping) { return stopping; }
        stopping = (async () => {
            for (const fn of cleanups.reverse()) {
                try { await fn(); } catch (err) { console.error('demo: while stopping:', err.message); }
            }
            process.exitCode = code;
        })();
        return stopping;
    }
    for (const signal of ['SIGINT', 'SIGTERM']) {
        process.on(signal, () => {
            if (stopping) {
                console.error('demo: forced exit');
                process.exit(130);
            }
            console.log(`\ndemo: ${signal} received, stopping...`);
            // A close handler that hangs must not keep the terminal hostage.
            setTimeout(() => { console.error('demo: stop timed out, exiting'); process.exit(1); }, 20000).unref();
            stop(0).then(() => process.exit(0));
        });
    }

    try {
        // 1. Simulators.
        const pfSim = new PrintFactorySimulator({ port: opts.pfSimPort, host: '127.0.0.1', misKeys: [DEMO_MIS_KEY] });
        try { await pfSim.start(); } catch (err) { throw explainStartError('PrintFactory simulator', 'PF_SIM_PORT', opts.pfSimPort, err); }
        cleanups.push(() => pfSim.stop());
        const durstSim = new DurstSimulator({ port: opts.durstSimPort, host: '127.0.0.1', apiAuth: { type: 'login', ...DEMO_DURST_LOGIN } });
        try { await durstSim.start(); } catch (err) { throw explainStartError('Durst simulator', 'DURST_SIM_PORT', opts.durstSimPort, err); }
        cleanups.push(() => durstSim.stop());
        let mqttBroker;
        try {
            mqttBroker = await startMqttBroker({ port: opts.mqttPort, host: '127.0.0.1' });
        } catch (err) {
            throw explainStartError('MQTT broker', 'MQTT_PORT', opts.mqttPort, err);
        }
        cleanups.push(() => mqttBroker.stop());

        // 2. Node-RED, embedded: admin (editor) and httpNode (webhooks) mounted in one root app on one
        //    server, as red.js does, so durst-webhook-in's body capture runs ahead of the editor's body parsers.
        prepareUserDir(opts.userDir, opts.keepFlows);
        const express = require(require.resolve('express', { paths: [path.dirname(require.resolve('node-red'))] }));
        const app = express();
        const server = http.createServer(app);
        const settings = {
            userDir: opts.userDir,
            flowFile: 'flows.json',
            uiHost: opts.host,
            uiPort: opts.port,
            httpAdminRoot: '/',
            httpNodeRoot: '/',
            // No credentialSecret: Node-RED generates one in .config.runtime.json and keeps
            // flows_cred.json encrypted, so no secret is ever stored in plain text.
            telemetry: { enabled: false, updateNotification: false },
            editorTheme: { tours: false, projects: { enabled: false }, page: { title: 'Node-RED: print events demo' } },
            functionExternalModules: false,
            logging: { console: { level: opts.logLevel, metrics: false, audit: false } }
        };
        RED.init(server, settings);
        app.use(settings.httpAdminRoot, RED.httpAdmin);
        app.use(settings.httpNodeRoot, RED.httpNode);
        app.use((req, res) => {
            res.statusCode = 404;
            res.end('Not found');
        });
        let port;
        try { port = await listen(server, opts.port, opts.host); } catch (err) { throw explainStartError('Node-RED', 'PORT', opts.port, err); }
        cleanups.push(() => new Promise((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }));
        // RED.start() resolves before the runtime has loaded the (empty) initial flows; a deploy that
        // lands before that load finishes gets its credentials wiped by it. Wait for the first start.
        const initialFlowsStarted = new Promise((resolve) => RED.events.once('flows:started', resolve));
        await RED.start();
        cleanups.push(() => RED.stop());
        // Kept flows with missing node types never start: do not wait for them forever.
        let initialWait;
        await Promise.race([initialFlowsStarted, new Promise((resolve) => { initialWait = setTimeout(resolve, 15000); })]);
        clearTimeout(initialWait);

        const browserHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
        const editorUrl = `http://${browserHost.includes(':') ? `[${browserHost}]` : browserHost}:${port}/`;

        // 3. Is our package loaded? Say so plainly if not: everything else depends on it.
        const nodeSets = await requestJson('GET', editorUrl + 'nodes');
        const ours = (nodeSets || []).filter((s) => s.module === PACKAGE_NAME);
        const broken = ours.filter((s) => s.err || !s.enabled);
        if (ours.length === 0 || broken.length > 0) {
            const detail = broken.map((s) => `${s.name}: ${s.err || 'disabled'}`).join('; ') || 'module not found';
            throw new Error(`Node-RED did not load ${PACKAGE_NAME} (${detail}). Run "npm run build" and try again.`);
        }

        // 4. Example flows, pointed at the simulators.
        const files = exampleFiles();
        const hasDashboard = (nodeSets || []).some((set) => set.module === DASHBOARD_MODULE && set.enabled && !set.err);
        if (!hasDashboard) {
            console.warn(`demo: ${DASHBOARD_MODULE} is not installed (run "npm ci"): the dashboard example stays disabled`);
        }
        const { flows, tabs } = mergeExamples(files, { hasDashboard });
        const dashboardUrl = dashboardUrlOf(flows, tabs, editorUrl);
        pointAtSimulators(flows, {
            pfUrl: pfSim.url,
            durstUrl: durstSim.url,
            callbackBase: editorUrl.replace(/\/$/, ''),
            mqttPort: mqttBroker.port
        });
        const watched = debugNodesBySource(flows);
        const seen = Object.fromEntries(Object.keys(OUR_SOURCE_TYPES).map((source) => [source, 0]));
        const allSeen = () => Object.values(seen).every((count) => count > 0);
        const firstSeen = {};
        let onAllSeen = null;
        const comms = watchDebug(editorUrl, (data) => {
            for (const source of Object.keys(seen)) {
                if (watched[source].has(data.id)) {
                    seen[source] += 1;
                    if (!firstSeen[source]) { firstSeen[source] = data.topic || '(no topic)'; }
                }
            }
            if (onAllSeen && allSeen()) { onAllSeen(); }
        });
        cleanups.push(() => comms.terminate());

        if (opts.keepFlows && fs.existsSync(path.join(opts.userDir, 'flows.json'))) {
            console.log('demo: DEMO_KEEP_FLOWS set: keeping the flows already in ' + opts.userDir);
        } else if (flows.length === 0) {
            console.warn(`demo: no example flows found in ${EXAMPLES_DIR}; Node-RED runs with an empty workspace`);
        } else {
            await requestJson('POST', editorUrl + 'flows', flows, { 'Node-RED-Deployment-Type': 'full' });
        }

        pfSim.startTrickle(opts.pfTrickleMs);
        durstSim.startTrickle(opts.durstTrickleMs);
        cleanups.push(() => { pfSim.stopTrickle(); durstSim.stopTrickle(); });
        if (opts.pfDropEveryMs > 0) {
            const dropTimer = setInterval(() => pfSim.dropAll(), opts.pfDropEveryMs);
            cleanups.push(() => clearInterval(dropTimer));
        }

        const line = '-'.repeat(72);
        console.log([
            '', line,
            `  Node-RED editor:          ${editorUrl}`,
            `  Runtime:                  Node-RED ${nodeRedVersion(RED)} on Node.js ${process.version}`,
            ...(dashboardUrl ? [`  Print floor dashboard:    ${dashboardUrl}`] : []),
            `  PrintFactory simulator:   ${pfSim.url}  (new event every ${opts.pfTrickleMs / 1000} s` +
                (opts.pfDropEveryMs > 0 ? `, connection dropped every ${opts.pfDropEveryMs / 1000} s)` : ')'),
            `  Durst Workflow simulator: ${durstSim.url}  (new event every ${opts.durstTrickleMs / 1000} s; API login: user ${DEMO_DURST_LOGIN.user})`,
            `  MQTT broker (Aedes):      ${mqttBroker.url}  (fan-out tabs publish and subscribe here)`,
            `  User directory:           ${opts.userDir}`,
            '  Example tabs:',
            ...tabs.map((t) => `    - ${t.label}  [${t.file}]`),
            '',
            '  Open the editor and the Debug sidebar (bug icon, top right) to watch events' +
                (dashboardUrl ? ', or the dashboard.' : '.'),
            opts.check ? '  Check mode: exits once both simulators and the MQTT fan-out reach a debug node' +
                (dashboardUrl ? ' and the dashboard answers.' : '.') : '  Press Ctrl+C to stop.',
            line, ''
        ].join('\n'));

        if (opts.check) {
            let ok = await new Promise((resolve) => {
                if (allSeen()) { resolve(true); return; }
                const timer = setTimeout(() => resolve(false), opts.checkTimeoutMs);
                onAllSeen = () => { clearTimeout(timer); resolve(true); };
            });
            let dashboardProblem = null;
            if (ok && dashboardUrl) {
                dashboardProblem = await checkDashboard(dashboardUrl);
            }
            if (ok && dashboardProblem) {
                console.error('demo check: FAILED: ' + dashboardProblem);
                ok = false;
            } else if (ok) {
                console.log(`demo check: OK: debug messages from PrintFactory (first topic ${firstSeen.printfactory}), ` +
                    `Durst (first topic ${firstSeen.durst}) and over MQTT (first topic ${firstSeen.mqtt})` +
                    (dashboardUrl ? `; dashboard answers at ${dashboardUrl}` : ''));
            } else {
                const missing = Object.keys(seen).filter((s) => seen[s] === 0);
                const hints = missing.map((s) => watched[s].size === 0
                    ? `${s}: no enabled debug node is wired from a ${OUR_SOURCE_TYPES[s]} node`
                    : `${s}: no debug message within ${opts.checkTimeoutMs / 1000} s`);
                console.error('demo check: FAILED: ' + hints.join('; '));
            }
            await stop(ok ? 0 : 1);
            process.exit(ok ? 0 : 1);
        }
    } catch (err) {
        console.error('demo: ' + (err && err.message ? err.message : err));
        await stop(1);
        process.exit(1);
    }
}

module.exports = { mergeExamples, pointAtSimulators, debugNodesBySource, exampleFiles, readOptions, startMqttBroker,
    dashboardUrlOf, dashboardDir, DASHBOARD_MODULE, DEMO_MIS_KEY, DEMO_DURST_LOGIN };

if (require.main === module) {
    main().catch((err) => {
        console.error('demo: ' + (err && err.message ? err.message : err));
        process.exit(1);
    });
}
