'use strict';
// Shared pieces of the real-process Durst tests: a Node-RED installation that restarts on the same user dir and
// port (stock layout, test/lib/stock-node-red.js), the login the flows' durst-subscriber uses, and a collector
// the flows POST every emitted callback to (so a test counts what reached the flow).
const http = require('http');
const fs = require('fs');
const { DurstSimulator, DURST_SIM_LOGIN } = require('../../dist/simulators/durst');
const { startStockNodeRed, makeUserDir, freePort } = require('./stock-node-red');
const { waitFor } = require('./wait');

// Fast retries, so "Durst unreachable" recovers within the test.
const SETTINGS = { durstEnsureRetryDelay: 200, durstApiRetryDelay: 50, durstApiAttempts: 2, durstApiTimeout: 3000 };
const ENSURED = /Durst subscription #\S+ (kept|created|reactivated|adopted) for /;

/**
 * One Node-RED installation (user dir + port) that can be stopped and started again, as a restart does. The log
 * of every run is kept, so a test can count lines across restarts. Edits are deployed through the admin API.
 */
class RestartableNodeRed {
    constructor({ port, flows, credentials = {}, settings = {} }) {
        this.port = port;
        this.settings = settings;
        this.credentials = credentials;
        this.userDir = makeUserDir();
        this.flows = flows;
        this.runs = [];
        this.current = undefined;
    }

    get baseUrl() { return `http://127.0.0.1:${this.port}`; }
    get log() { return this.runs.map((run) => run.output()).join(''); }

    async start() {
        // Flows are written on the first start only; later starts find whatever the deploys left.
        const flows = this.runs.length === 0 ? this.flows : undefined;
        const credentials = this.runs.length === 0 ? this.credentials : undefined;
        this.current = await startStockNodeRed({ flows, credentials, userDir: this.userDir, port: this.port, timeoutMs: 60000,
            settings: { ...SETTINGS, ...this.settings, logging: { console: { level: 'info' } } } });
        this.runs.push(this.current);
    }

    async stop() {
        if (this.current) { await this.current.stop(); }
        this.current = undefined;
    }

    async restart() {
        await this.stop();
        await this.start();
    }

    remove() { fs.rmSync(this.userDir, { recursive: true, force: true }); }

    /** Number of log lines matching re, over every run so far. */
    count(re) {
        return this.log.split('\n').filter((line) => re.test(line)).length;
    }

    /** Waits (20 s at most) until more than `before` log lines match re; on a timeout the error shows the log's tail. */
    waitForLines(re, before, what) {
        return waitFor(() => this.count(re) > before, what, 20000, { intervalMs: 100, detail: () => this.log.slice(-3000) });
    }

    /**
     * Deploys like the editor: type 'full', 'nodes' (modified nodes) or 'flows' (modified flows). Credentials
     * stay as stored (the editor sends them only when changed, which also marks the node as modified).
     */
    async deploy(flows, type) {
        const res = await fetch(this.baseUrl + '/flows', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v1', 'Node-RED-Deployment-Type': type },
            body: JSON.stringify(flows)
        });
        if (res.status !== 204 && res.status !== 200) { throw new Error(`deploy answered ${res.status}: ${await res.text()}`); }
    }
}

/** The login of the flows' durst-subscriber: in flows_cred.json at the first start, in the node on a deploy. */
const LOGIN_CREDENTIALS = { sub1: { apiUser: DURST_SIM_LOGIN.user, apiPassword: DURST_SIM_LOGIN.password } };

/**
 * The nodes every flow of these tests starts with: the tab, the durst-subscriber `sub1` (Durst's own login, as a user
 * sets it up: the simulator requires it) and the `http request` node `post1` that POSTs every callback to the collector.
 */
function durstBaseFlow({ apiUrl, hostUri, collectorUrl, subscriberId = '', x = 320 }) {
    return [
        { id: 'tab1', type: 'tab', label: 'durst' },
        { id: 'sub1', type: 'durst-subscriber', name: 'durst', apiUrl, apiAuth: 'login', loginMethod: 'auto', hostUri, externalAuthType: 'NONE',
            xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId },
        { id: 'post1', type: 'http request', z: 'tab1', name: 'collector', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: collectorUrl,
            tls: '', persist: false, proxy: '', insecureHTTPParser: false, authType: '', senderr: false, headers: [], x, y: 80, wires: [] }
    ];
}

/**
 * A Durst simulator (`simOptions`; its login required) and the collector on free ports, and a RestartableNodeRed (not
 * started yet) with the flows `flowsFor({ apiUrl, hostUri, collectorUrl })`. Resolves { sim, simPort, collector, red, hostUri }.
 */
async function startDurstRuntime({ flowsFor, simOptions = {}, settings = {} }) {
    const simPort = await freePort();
    const sim = new DurstSimulator({ port: simPort, ...simOptions });
    await sim.start();
    const collector = await startCollector();
    const port = await freePort();
    const hostUri = `http://127.0.0.1:${port}/`;
    const red = new RestartableNodeRed({ port, flows: flowsFor({ apiUrl: sim.url, hostUri, collectorUrl: collector.url }), credentials: LOGIN_CREDENTIALS, settings });
    return { sim, simPort, collector, red, hostUri };
}

/** Stops and removes what startDurstRuntime started. */
async function stopDurstRuntime({ sim, collector, red } = {}) {
    if (red) { await red.stop(); }
    if (sim) { await sim.stop(); }
    if (collector) {
        collector.server.closeAllConnections();
        await new Promise((resolve) => collector.server.close(resolve));
    }
    if (red) { red.remove(); }
}

function startCollector() {
    const received = [];
    const server = http.createServer((req, res) => {
        let text = '';
        req.on('data', (c) => { text += c; });
        req.on('end', () => {
            try { received.push(JSON.parse(text)); } catch { received.push({ unparsed: text }); }
            res.end('ok');
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, received, url: `http://127.0.0.1:${server.address().port}/` })));
}

/** Log lines of a finished ensure for one topic and path. */
function ensuredLine(topic, path) {
    const esc = (t) => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    return new RegExp(`Durst subscription #\\S+ (kept|created|reactivated|adopted) for ${esc(topic)} on path "${esc(path)}"`);
}

module.exports = { SETTINGS, ENSURED, RestartableNodeRed, LOGIN_CREDENTIALS, startCollector, ensuredLine, durstBaseFlow, startDurstRuntime, stopDurstRuntime };
