// Scenario 1: what the receiving process pays per PrintFactory notification, and how many it takes per second.
//
// The sender (sim-worker.ts) runs in a process of its own and writes pre-encoded frames in batches straight
// to the TCP socket, so it is faster than every receiver measured here: its CPU time per frame is reported
// beside the receiver's. Node-RED (and the bare receiver) run in this process, so `process.cpuUsage()` here
// is the receiver's CPU time (user + system, every thread: parsing, delivery, garbage collection).
import path from 'path';
import { performance } from 'perf_hooks';
import WebSocket from 'ws';
import { RemotePrintFactorySimulator } from './sim-client';
import { BENCH_MIS_KEY, JOB_EVENTS, ceilingFlow, coreJobsFlow, coreWebsocketFlow, printfactoryFlow, printfactoryJobsFlow } from './flows';
import type { BenchHub } from './hub';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { FRAMES_PER_TURN } = require(path.join(__dirname, '..', 'nodes', 'lib', 'printfactory', 'connection')) as { FRAMES_PER_TURN: number };
import type { BenchRuntime, FlowNode } from './runtime';

export interface ThroughputResult {
    variant: string; label: string;
    /** 'all': every notification reaches the counter; 'jobs': the realistic flow (job.* only, routed by type). */
    group: 'all' | 'jobs';
    /** Notifications (frames) per second taken in, median of the rounds. */
    msgsPerSec: number; runs: number[];
    /** Receiving process CPU time per notification in microseconds, median of the rounds. */
    cpuUsPerMsg: number; cpuRuns: number[];
    /** Sending process CPU time per frame in microseconds, median of the rounds. */
    senderCpuUsPerFrame: number;
    /** msgs that reached the counter per round (count for 'all', the job.* share for 'jobs'). */
    delivered: number;
}

export interface LatencyResult {
    variant: string; label: string; rate: number; sent: number; received: number;
    p50: number; p90: number; p99: number; max: number;
}

type Attach = (url: string, counterName: string) => Promise<() => Promise<void>>;

interface Variant { name: string; label: string; group: 'all' | 'jobs'; attach: Attach }

// eslint-disable-next-line @typescript-eslint/no-require-imports
const simModule = require(path.join(__dirname, '..', 'simulators', 'printfactory'));

/** How many of the first `count` frames of blastRaw()'s mix are job.* events (the same pool rule as the sender). */
function jobFrames(count: number): number {
    const names: string[] = simModule.EXAMPLE_NAMES;
    const isJob = Array.from({ length: 64 }, (_, i) => JOB_EVENTS.includes(simModule.expectedEvent[names[i % names.length]]));
    const perPool = isJob.filter(Boolean).length;
    let n = Math.floor(count / 64) * perPool;
    for (let i = 0; i < count % 64; i++) { if (isJob[i]) { n += 1; } }
    return n;
}

/** A bare `ws` client that JSON.parses every frame, no Node-RED: what receiving costs at the least. */
function bareClient(hub: BenchHub, latency = false): Attach {
    return async (url, counterName) => {
        const counter = hub.counter(counterName);
        const socket = new WebSocket(url, { headers: { MisKey: BENCH_MIS_KEY }, perMessageDeflate: false });
        let sink = 0;
        socket.on('message', (data) => {
            const value = JSON.parse(data.toString());
            if (value) { sink += 1; }
            if (latency && typeof value.JobGUID === 'string' && value.JobGUID.startsWith('lat-')) {
                counter.sample(Number(process.hrtime.bigint() - BigInt(value.JobGUID.slice(4))) / 1e6);
            }
            counter.hit();
        });
        await new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
        return async () => {
            await new Promise<void>((resolve) => { socket.once('close', () => resolve()); socket.terminate(); });
            if (sink < 0) { console.log(sink); } // keeps the parse from being optimised away
        };
    };
}

function deployed(runtime: BenchRuntime, flowFor: (url: string, counterName: string) => FlowNode[]): Attach {
    return async (url, counterName) => {
        await runtime.deploy(flowFor(url, counterName));
        return async () => { await runtime.deploy([]); };
    };
}

async function connect(sim: RemotePrintFactorySimulator, attach: Attach, counterName: string): Promise<() => Promise<void>> {
    const connected = sim.nextConnection(15000);
    const detach = await attach(sim.url, counterName);
    try {
        await connected;
    } catch (err) {
        await detach();
        throw err;
    }
    // Let the client finish its 'open' handling before the first frame.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return detach;
}

interface Run { rate: number; cpuUsPerMsg: number; senderCpuUsPerFrame: number; delivered: number }

async function measure(variant: Variant, hub: BenchHub, count: number, warmup: number): Promise<Run> {
    const sim = new RemotePrintFactorySimulator([BENCH_MIS_KEY]);
    await sim.start();
    const counterName = `pf.${variant.name}`;
    const counter = hub.counter(counterName);
    counter.reset();
    const expected = (n: number): number => variant.group === 'jobs' ? jobFrames(n) : n;
    try {
        const detach = await connect(sim, variant.attach, counterName);
        try {
            if (warmup > 0) {
                await Promise.all([sim.blastRaw(warmup), counter.waitFor(expected(warmup), 60000)]);
            }
            counter.reset();
            const want = expected(count);
            let seconds = 0;
            let cpu: NodeJS.CpuUsage = { user: 0, system: 0 };
            const started = performance.now();
            const cpuStart = process.cpuUsage();
            const [sent] = await Promise.all([
                sim.blastRaw(count),
                counter.waitFor(want, 300000).then(() => {
                    cpu = process.cpuUsage(cpuStart);
                    seconds = (performance.now() - started) / 1000;
                })
            ]);
            // Frames that arrive after the target would be duplicates: give them a moment to show.
            await new Promise((resolve) => setTimeout(resolve, 100));
            if (counter.count !== want) {
                throw new Error(`${variant.name}: counted ${counter.count} msgs for ${want} expected (${count} notifications)`);
            }
            const sentJobs = JOB_EVENTS.reduce((sum, e) => sum + (sent.events[e] ?? 0), 0);
            if (variant.group === 'jobs' && sentJobs !== want) {
                throw new Error(`${variant.name}: the sender sent ${sentJobs} job.* frames, the bench expected ${want}`);
            }
            return { rate: count / seconds, cpuUsPerMsg: (cpu.user + cpu.system) / count, senderCpuUsPerFrame: sent.cpuUs / count, delivered: want };
        } finally {
            await detach();
        }
    } finally {
        await sim.stop();
    }
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function printfactoryVariants(runtime: BenchRuntime, hub: BenchHub): Variant[] {
    return [
        { name: 'package', group: 'all', label: 'printfactory-notification -> counter', attach: deployed(runtime, printfactoryFlow) },
        { name: 'core', group: 'all', label: 'core websocket in -> json -> counter', attach: deployed(runtime, coreWebsocketFlow) },
        { name: 'ceiling', group: 'all', label: 'ceiling node: pre-built msg per frame, no parse -> counter', attach: deployed(runtime, ceilingFlow) },
        { name: 'ceiling-yield', group: 'all', label: 'ceiling node + the package\'s flow control (256 frames per turn)',
            attach: deployed(runtime, (u, c) => ceilingFlow(u, c, FRAMES_PER_TURN)) },
        { name: 'bare', group: 'all', label: 'bare ws client + JSON.parse (no Node-RED)', attach: bareClient(hub) },
        { name: 'package-jobs', group: 'jobs', label: 'printfactory-notification (filter job.*) -> switch by topic -> counter', attach: deployed(runtime, printfactoryJobsFlow) },
        { name: 'core-jobs', group: 'jobs', label: 'core websocket in -> json -> 3 switches by payload -> counter', attach: deployed(runtime, coreJobsFlow) }
    ];
}

export async function printfactoryThroughput(runtime: BenchRuntime, hub: BenchHub,
    opts: { count: number; warmup: number; rounds: number; log: (s: string) => void; onError: (s: string) => void; variants?: string[] }): Promise<ThroughputResult[]> {
    let variants = printfactoryVariants(runtime, hub);
    if (opts.variants) {
        const wanted = new Set(opts.variants);
        variants = variants.filter((v) => wanted.has(v.name));
    }
    const runs = new Map<string, Run[]>(variants.map((v) => [v.name, []]));
    // Rounds interleave the variants, so slow drift of the machine spreads over all of them.
    for (let round = 1; round <= opts.rounds; round++) {
        for (const variant of variants) {
            try {
                const run = await measure(variant, hub, opts.count, opts.warmup);
                runs.get(variant.name)!.push(run);
                opts.log(`  round ${round}: ${variant.name.padEnd(13)} ${Math.round(run.rate).toLocaleString('en-US').padStart(8)} notifications/s, ` +
                    `receiver ${run.cpuUsPerMsg.toFixed(2)} us CPU each, sender ${run.senderCpuUsPerFrame.toFixed(2)} us/frame`);
            } catch (err) {
                // One broken path must not hide the others' figures.
                opts.onError(`${variant.label}: ${(err as Error).message}`);
                opts.log(`  round ${round}: ${variant.name.padEnd(13)} FAILED: ${(err as Error).message}`);
                await runtime.deploy([]).catch(() => undefined);
            }
        }
    }
    return variants.filter((v) => runs.get(v.name)!.length > 0).map((v) => {
        const r = runs.get(v.name)!;
        // The median of the rounds: one disturbed round (a cron job, a GC storm) does not decide the figure.
        return {
            variant: v.name, label: v.label, group: v.group,
            msgsPerSec: median(r.map((x) => x.rate)), runs: r.map((x) => x.rate),
            cpuUsPerMsg: median(r.map((x) => x.cpuUsPerMsg)), cpuRuns: r.map((x) => x.cpuUsPerMsg),
            senderCpuUsPerFrame: median(r.map((x) => x.senderCpuUsPerFrame)), delivered: r[0].delivered
        };
    });
}

function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) { return NaN; }
    return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)];
}

/**
 * End-to-end latency at a steady rate: the sender stamps each frame with the moment it wrote it
 * (process.hrtime: CLOCK_MONOTONIC, shared by the processes of one machine); the counter at the end of
 * the flow takes the difference when the msg arrives. Warm-up first, then `seconds` of samples.
 */
export async function printfactoryLatency(runtime: BenchRuntime, hub: BenchHub,
    opts: { rate: number; seconds: number; warmupSeconds: number; log: (s: string) => void; variants?: string[] }): Promise<LatencyResult[]> {
    const all: Array<{ name: string; label: string; attach: Attach }> = [
        { name: 'package', label: 'printfactory-notification -> counter', attach: deployed(runtime, (u, c) => printfactoryFlow(u, c, {}, true)) },
        { name: 'core', label: 'core websocket in -> json -> counter', attach: deployed(runtime, (u, c) => coreWebsocketFlow(u, c, true)) },
        { name: 'bare', label: 'bare ws client + JSON.parse (no Node-RED)', attach: bareClient(hub, true) }
    ];
    const wanted = opts.variants ? new Set(opts.variants) : null;
    const results: LatencyResult[] = [];
    for (const v of all.filter((x) => !wanted || wanted.has(x.name))) {
        const sim = new RemotePrintFactorySimulator([BENCH_MIS_KEY]);
        await sim.start();
        const counterName = `pf.latency.${v.name}`;
        const counter = hub.counter(counterName);
        counter.reset();
        try {
            const detach = await connect(sim, v.attach, counterName);
            try {
                if (opts.warmupSeconds > 0) {
                    const warm = await sim.pace(opts.rate, opts.warmupSeconds);
                    await counter.waitFor(warm.sent, 10000);
                }
                counter.reset();
                // Every path starts its window with the same clean heap: otherwise garbage left by whatever ran
                // before (the throughput scenario, the runtime's start) is collected inside the first path's window.
                (globalThis as { gc?: () => void }).gc?.();
                const { sent } = await sim.pace(opts.rate, opts.seconds);
                await counter.waitFor(sent, 10000);
                const sorted = [...counter.samples].sort((a, b) => a - b);
                const r: LatencyResult = {
                    variant: v.name, label: v.label, rate: opts.rate, sent, received: counter.samples.length,
                    p50: +percentile(sorted, 50).toFixed(3), p90: +percentile(sorted, 90).toFixed(3),
                    p99: +percentile(sorted, 99).toFixed(3), max: +sorted[sorted.length - 1].toFixed(3)
                };
                results.push(r);
                opts.log(`  ${v.name.padEnd(8)} ${sent} frames at ${opts.rate}/s: p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`);
            } finally {
                await detach();
            }
        } finally {
            await sim.stop();
        }
    }
    return results;
}
