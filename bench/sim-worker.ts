// Runs the PrintFactory simulator in its own process, so that on a 2-core machine the
// sender does not share the event loop it is measuring. Driven over IPC by sim-client.ts.
import path from 'path';

interface Request { id: number; cmd: string; args?: any }

// eslint-disable-next-line @typescript-eslint/no-require-imports
const simModule = require(path.join(__dirname, '..', 'simulators', 'printfactory'));
const PrintFactorySimulator = simModule.PrintFactorySimulator || simModule.default || simModule;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const classifyModule = require(path.join(__dirname, '..', 'nodes', 'lib', 'printfactory', 'classify'));

let sim: any = null;
/** The JobGUIDs of the floor jobs apiBurst() announces (apiPrepare). */
let apiJobs: string[] = [];

/** One unmasked server-to-client text frame (RFC 6455 5.2), header and payload in one buffer. */
function encodeFrame(text: string): Buffer {
    const payload = Buffer.from(text, 'utf8');
    const n = payload.length;
    const header = n < 126 ? Buffer.from([0x81, n]) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (n >= 126 && n < 65536) { header[0] = 0x81; header[1] = 126; header.writeUInt16BE(n, 2); }
    if (n >= 65536) { header[0] = 0x81; header[1] = 127; header.writeBigUInt64BE(BigInt(n), 2); }
    return Buffer.concat([header, payload]);
}

/** The TCP sockets of every open client (ws keeps it as `_socket`). */
function rawSockets(): import('net').Socket[] {
    return [...sim.clients.keys()].filter((ws: any) => ws.readyState === 1).map((ws: any) => ws._socket);
}

function writeAll(socket: import('net').Socket, buf: Buffer): Promise<void> | null {
    if (socket.write(buf)) { return null; }
    return new Promise((resolve) => socket.once('drain', resolve));
}

/**
 * The fast sender: `count` documented notifications (the same mix as blast()), encoded once into
 * batches of whole frames and written straight to each client's TCP socket, waiting only for 'drain'.
 * Per frame it costs a share of one memcpy, so the receiver, not this process, sets the pace.
 */
async function blastRaw(count: number): Promise<{ writeMs: number; cpuUs: number; events: Record<string, number> }> {
    const names: string[] = simModule.EXAMPLE_NAMES;
    const pool: string[] = [];
    for (let i = 0; i < 64; i++) { pool.push(JSON.stringify(simModule.freshExample(names[i % names.length]))); }
    const frames = pool.map(encodeFrame);
    const PER_BATCH = 512;
    const batch = Buffer.concat(Array.from({ length: PER_BATCH }, (_, i) => frames[i % frames.length]));
    const events: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
        const e: string = classifyModule.classify(JSON.parse(pool[i % pool.length]));
        events[e] = (events[e] ?? 0) + 1;
    }
    const cpu0 = process.cpuUsage();
    const started = Date.now();
    await Promise.all(rawSockets().map(async (socket) => {
        let sent = 0;
        while (sent < count) {
            const n = Math.min(PER_BATCH, count - sent);
            const wait = writeAll(socket, n === PER_BATCH ? batch
                : Buffer.concat(Array.from({ length: n }, (_, i) => frames[i % frames.length])));
            sent += n;
            if (wait) { await wait; }
        }
    }));
    const cpu = process.cpuUsage(cpu0);
    return { writeMs: Date.now() - started, cpuUs: cpu.user + cpu.system, events };
}

/**
 * Paced sender for latency: `rate` job.created frames per second for `seconds`, each carrying the
 * moment it was written (process.hrtime, CLOCK_MONOTONIC: one clock for every process of the machine)
 * in its JobGUID, so the receiver can tell how long the frame took to become a msg.
 */
async function pace(rate: number, seconds: number): Promise<{ sent: number }> {
    const sockets = rawSockets();
    const total = Math.round(rate * seconds);
    const start = process.hrtime.bigint();
    let sent = 0;
    while (sent < total) {
        const due = Math.min(total, Math.floor(Number(process.hrtime.bigint() - start) / 1e9 * rate) + 1);
        while (sent < due) {
            const text = '{"JobGUID":"lat-' + process.hrtime.bigint().toString() + '","Status":"Created"}';
            const frame = encodeFrame(text);
            for (const socket of sockets) { socket.write(frame); }
            sent += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return { sent };
}

async function handle(req: Request): Promise<unknown> {
    switch (req.cmd) {
        case 'start':
            sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: req.args.misKeys });
            sim.on('connection', (misKey: string) => process.send?.({ event: 'connection', misKey }));
            sim.on('rejected', (reason: string) => process.send?.({ event: 'rejected', reason }));
            await sim.start();
            return { url: sim.url, apiUrl: sim.apiUrl };
        case 'blast': {
            const started = Date.now();
            await sim.blast(req.args.count);
            return { writeMs: Date.now() - started };
        }
        case 'blastRaw':
            return blastRaw(req.args.count);
        case 'pace':
            return pace(req.args.rate, req.args.seconds);
        case 'apiPrepare':
            // Fresh jobs on the floor, a clean request log, the REST API's latency.
            apiJobs = Array.from({ length: req.args.jobs }, () => sim.floor.createJob().JobGUID);
            sim.api.latencyMs = req.args.latencyMs;
            sim.api.requests.length = 0;
            sim.api.peakInFlight = 0;
            return { jobs: apiJobs.length };
        case 'apiBurst': {
            // job.updated frames as the vendor sends them ({ JobGUID } only), the jobs round robin, in batches.
            const frames = apiJobs.map((guid) => encodeFrame(JSON.stringify({ JobGUID: guid })));
            const started = Date.now();
            await Promise.all(rawSockets().map(async (socket) => {
                for (let sent = 0; sent < req.args.count;) {
                    const n = Math.min(512, req.args.count - sent);
                    const wait = writeAll(socket, Buffer.concat(Array.from({ length: n }, (_, i) => frames[(sent + i) % frames.length])));
                    sent += n;
                    if (wait) { await wait; }
                }
            }));
            return { writeMs: Date.now() - started };
        }
        case 'apiStats':
            return {
                calls: sim.api.requests.filter((r: { path: string }) => /^\/api\/v2\/job\/[^/]+\/status$/.test(r.path)).length,
                peakInFlight: sim.api.peakInFlight
            };
        case 'dropAll':
            sim.dropAll();
            return null;
        case 'connectionCount':
            return sim.connectionCount;
        case 'peakConnections':
            return sim.peakConnections ?? null;
        case 'stop':
            await sim.stop();
            return null;
        default:
            throw new Error(`unknown command ${req.cmd}`);
    }
}

process.on('message', (req: Request) => {
    handle(req).then(
        (result) => process.send?.({ id: req.id, result }),
        (err: Error) => process.send?.({ id: req.id, error: err.message }));
});
process.on('disconnect', () => process.exit(0));
