// Scenario 2: Durst callbacks per second and p99 latency, autocannon in a child process.
import http from 'http';
import path from 'path';
import crypto from 'crypto';
import { spawn } from 'child_process';
import type { AddressInfo } from 'net';
import jwt from 'jsonwebtoken';
import { JWT_KEY, webhookFlow } from './flows';
import type { BenchHub } from './hub';
import type { BenchRuntime } from './runtime';

export interface WebhookResult {
    variant: string; label: string; reqPerSec: number; p99: number; p50: number;
    ok: number; non2xx: number; errors: number; emitted: number | null;
    /** req/s of each round. */
    runs: number[];
}

function median(values: number[]): number {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface LoadSummary { reqPerSec: number; p50: number; p99: number; total: number; ok: number; non2xx: number; errors: number; timeouts: number }

const TOPIC = 'STATUS/PRODUCTION_JOB/2068';
const BODY = JSON.stringify({
    entityType: 'PRODUCTION_JOB', entityId: 2068, created: '2023-05-01T06:24:28.3312992+02:00',
    oldStatus: 'OUTPUT_CONFIG_ASSIGNED', newStatus: 'IMPOSED', printer: { id: 5, name: 'P5 500', serialNumber: '123 4567' }
});

/** A token exactly as the Durst simulator signs callbacks, valid for the whole run. */
function signedToken(): string {
    const bodySha256 = crypto.createHash('sha256').update(BODY).digest('hex');
    return jwt.sign({ sub: TOPIC, bodySha256 }, JWT_KEY, { algorithm: 'HS256', expiresIn: 3600 });
}

function runLoad(opts: { url: string; connections: number; duration: number; headers: Record<string, string> }): Promise<LoadSummary> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(__dirname, 'autocannon-worker.js'),
            JSON.stringify({ ...opts, body: BODY })], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c) => { out += c; });
        child.stderr.on('data', (c) => { err += c; });
        child.on('error', reject);
        child.on('exit', (code) => {
            if (code !== 0) { reject(new Error(`autocannon worker failed (${code}): ${err}`)); return; }
            try { resolve(JSON.parse(out.trim().split('\n').pop() || '')); } catch (e) { reject(e); }
        });
    });
}

/** The physical limit: Node's own http server, reading and parsing the JSON body. */
async function startBareServer(): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
            try {
                JSON.parse(Buffer.concat(chunks).toString('utf8'));
                res.statusCode = 200;
            } catch {
                res.statusCode = 400;
            }
            res.end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); })
    };
}

async function probe(url: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode || 0)); });
        req.on('error', reject);
        req.end(BODY);
    });
}

const CEILING_PATH = '/bench/ceiling';
const ceilingInstalled = new WeakSet<object>();

/**
 * Node-RED's HTTP ceiling: the least any route on RED.httpNode can do, a handler that answers 200 without
 * reading the body. It goes through everything Node-RED puts ahead of every HTTP node route (in the stock
 * layout: the editor's admin app on `/`, then httpNodeCors/httpNodeAuth/httpNodeMiddleware as configured),
 * so the gap to it is what the webhook itself costs. Installed once per runtime (Express
 * routes cannot be removed; the bench runtime is thrown away at the end).
 */
function installHttpCeiling(runtime: BenchRuntime): void {
    const app = runtime.RED.httpNode;
    if (ceilingInstalled.has(app)) { return; }
    ceilingInstalled.add(app);
    app.post(CEILING_PATH, (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.statusCode = 200;
        res.end();
    });
}

export async function webhookThroughput(runtime: BenchRuntime, hub: BenchHub,
    opts: { duration: number; connections: number; rounds: number; warmupSeconds: number; log: (s: string) => void }): Promise<WebhookResult[]> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const durstModule = require(path.join(__dirname, '..', 'simulators', 'durst'));
    const DurstSimulator = durstModule.DurstSimulator || durstModule.default || durstModule;
    const durst = new DurstSimulator({ port: 0, host: '127.0.0.1', apiAuth: { type: 'none' } });
    await durst.start();
    const bare = await startBareServer();
    try {
        installHttpCeiling(runtime);
        await runtime.deploy(webhookFlow(durst.url, runtime.baseUrl + '/'));
        // Subscriber registration happens asynchronously after the deploy.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const json = { 'content-type': 'application/json' };
        const targets = [
            { variant: 'package-none', label: 'durst-webhook-in, NONE', url: runtime.baseUrl + '/bench/none', headers: json, counter: 'webhook.none' },
            { variant: 'package-jwt', label: 'durst-webhook-in, JWT_SIGNING (HS256)', url: runtime.baseUrl + '/bench/jwt',
                headers: { ...json, 'x-jwt-token': signedToken() }, counter: 'webhook.jwt' },
            { variant: 'core', label: 'core http in -> http response', url: runtime.baseUrl + '/bench/core', headers: json, counter: 'webhook.core' },
            // The ceiling's body is the same bytes; as application/octet-stream no parser of Node-RED reads it (the
            // editor's json/urlencoded parsers skip it): the least a request to an httpNode route costs.
            { variant: 'ceiling', label: 'HTTP ceiling: httpNode handler, 200, body read by nobody', url: runtime.baseUrl + CEILING_PATH,
                headers: { 'content-type': 'application/octet-stream' }, counter: '' },
            // The same handler sent as JSON: in the stock layout the editor's JSON parser reads and parses it first.
            { variant: 'ceiling-json', label: 'same handler, sent as JSON (stock: the editor parses it)', url: runtime.baseUrl + CEILING_PATH,
                headers: json, counter: '' },
            { variant: 'bare', label: 'bare Node http server + JSON.parse (no Node-RED)', url: bare.url, headers: json, counter: '' }
        ];
        for (const t of targets) {
            const status = await probe(t.url, t.headers);
            if (status !== 200) { throw new Error(`${t.label}: a valid callback got HTTP ${status}, expected 200`); }
        }
        if (opts.warmupSeconds > 0) {
            for (const t of targets) {
                await runLoad({ url: t.url, connections: opts.connections, duration: opts.warmupSeconds, headers: t.headers });
            }
        }
        const loads = new Map<string, { load: LoadSummary; emitted: number | null }[]>(targets.map((t) => [t.variant, []]));
        // Rounds interleave the endpoints, so a burst of load from elsewhere hits one round's set.
        for (let round = 1; round <= opts.rounds; round++) {
            for (const t of targets) {
                const counter = t.counter ? hub.counter(t.counter) : null;
                counter?.reset();
                const load = await runLoad({ url: t.url, connections: opts.connections, duration: opts.duration, headers: t.headers });
                await new Promise((resolve) => setTimeout(resolve, 200));
                loads.get(t.variant)!.push({ load, emitted: counter ? counter.count : null });
                opts.log(`  round ${round}: ${t.variant.padEnd(14)} ${Math.round(load.reqPerSec).toLocaleString('en-US')} req/s  p99 ${load.p99} ms` +
                    (counter ? `  (200s: ${load.ok}, msgs: ${counter.count})` : ''));
            }
        }
        return targets.map((t) => {
            const runs = loads.get(t.variant)!;
            const med = (pick: (x: LoadSummary) => number): number => median(runs.map((r) => pick(r.load)));
            const sum = (pick: (x: LoadSummary) => number): number => runs.reduce((acc, r) => acc + pick(r.load), 0);
            return {
                variant: t.variant, label: t.label, reqPerSec: med((x) => x.reqPerSec), p50: med((x) => x.p50), p99: med((x) => x.p99),
                ok: sum((x) => x.ok), non2xx: sum((x) => x.non2xx), errors: sum((x) => x.errors),
                emitted: t.counter ? runs.reduce((acc, r) => acc + (r.emitted ?? 0), 0) : null,
                runs: runs.map((r) => r.load.reqPerSec)
            };
        });
    } finally {
        await runtime.deploy([]);
        await bare.close();
        await durst.stop();
    }
}
