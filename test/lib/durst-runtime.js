'use strict';
// Shared pieces of the real-process Durst tests: a Node-RED installation that restarts on the same user dir and
// port (stock layout, test/lib/stock-node-red.js), the login the flows' durst-subscriber uses, and a collector
// the flows POST every emitted callback to (so a test counts what reached the flow).
const http = require('http');
const fs = require('fs');
const { DURST_SIM_LOGIN } = require('../../dist/simulators/durst');
const { startStockNodeRed, makeUserDir } = require('./stock-node-red');

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

module.exports = { SETTINGS, ENSURED, RestartableNodeRed, LOGIN_CREDENTIALS, startCollector, ensuredLine };
