// Scenario 1: PrintFactory notifications per second into a counting node.
import { performance } from 'perf_hooks';
import WebSocket from 'ws';
import { RemotePrintFactorySimulator } from './sim-client';
import { BENCH_MIS_KEY, ceilingFlow, coreWebsocketFlow, printfactoryFlow } from './flows';
import type { BenchHub } from './hub';
import type { BenchRuntime, FlowNode } from './runtime';

export interface ThroughputResult { variant: string; label: string; msgsPerSec: number; runs: number[] }

interface Variant {
    name: string;
    label: string;
    /** Connects a consumer to the simulator; returns what undoes it. */
    attach(url: string, counterName: string): Promise<() => Promise<void>>;
}

/** Every frame JSON.parse'd by a bare `ws` client: the physical limit of this socket. */
function bareClient(hub: BenchHub): Variant['attach'] {
    return async (url, counterName) => {
        const counter = hub.counter(counterName);
        const socket = new WebSocket(url, { headers: { MisKey: BENCH_MIS_KEY } });
        let sink = 0;
        socket.on('message', (data) => {
            const value = JSON.parse(data.toString());
            if (value) { sink += 1; }
            counter.hit();
        });
        await new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
        return async () => {
            await new Promise<void>((resolve) => { socket.once('close', () => resolve()); socket.terminate(); });
            if (sink < 0) { console.log(sink); } // keeps the parse from being optimised away
        };
    };
}

function deployed(runtime: BenchRuntime, flowFor: (url: string, counterName: string) => FlowNode[]): Variant['attach'] {
    return async (url, counterName) => {
        await runtime.deploy(flowFor(url, counterName));
        return async () => { await runtime.deploy([]); };
    };
}

async function measure(variant: Variant, hub: BenchHub, count: number, warmup: number): Promise<number> {
    const sim = new RemotePrintFactorySimulator([BENCH_MIS_KEY]);
    await sim.start();
    const counterName = `pf.${variant.name}`;
    const counter = hub.counter(counterName);
    counter.reset();
    const connected = sim.nextConnection(15000);
    const detach = await variant.attach(sim.url, counterName);
    try {
        await connected;
        // Let the client finish its 'open' handling before the first frame.
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (warmup > 0) {
            await sim.blast(warmup);
            await counter.waitFor(warmup, 60000);
        }
        counter.reset();
        const started = performance.now();
        await Promise.all([sim.blast(count), counter.waitFor(count, 300000)]);
        const seconds = (performance.now() - started) / 1000;
        // Frames that arrive after the target would be duplicates: give them a moment to show.
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (counter.count !== count) {
            throw new Error(`${variant.name}: counted ${counter.count} msgs for ${count} notifications`);
        }
        return count / seconds;
    } finally {
        await detach();
        await sim.stop();
    }
}

export async function printfactoryThroughput(runtime: BenchRuntime, hub: BenchHub,
    opts: { count: number; warmup: number; rounds: number; log: (s: string) => void; onError: (s: string) => void; variants?: string[] }): Promise<ThroughputResult[]> {
    const variants: Variant[] = [
        { name: 'package', label: 'printfactory-notification -> counter', attach: deployed(runtime, printfactoryFlow) },
        { name: 'core', label: 'core websocket in -> json -> counter', attach: deployed(runtime, coreWebsocketFlow) },
        { name: 'ceiling', label: 'delivery ceiling: pre-built msg per frame -> counter', attach: deployed(runtime, ceilingFlow) },
        { name: 'bare', label: 'bare ws client + JSON.parse (no Node-RED)', attach: bareClient(hub) }
    ];
    if (opts.variants) {
        const wanted = new Set(opts.variants);
        variants.splice(0, variants.length, ...variants.filter((v) => wanted.has(v.name)));
    }
    const runs = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    // Rounds interleave the variants, so slow drift of the machine spreads over all of them.
    for (let round = 1; round <= opts.rounds; round++) {
        for (const variant of variants) {
            try {
                const rate = await measure(variant, hub, opts.count, opts.warmup);
                runs.get(variant.name)!.push(rate);
                opts.log(`  round ${round}: ${variant.name.padEnd(8)} ${Math.round(rate).toLocaleString('en-US')} msgs/s`);
            } catch (err) {
                // One broken path must not hide the others' figures.
                opts.onError(`${variant.label}: ${(err as Error).message}`);
                opts.log(`  round ${round}: ${variant.name.padEnd(8)} FAILED: ${(err as Error).message}`);
                await runtime.deploy([]).catch(() => undefined);
            }
        }
    }
    return variants.filter((v) => runs.get(v.name)!.length > 0).map((v) => {
        const rates = runs.get(v.name)!;
        // The median of the rounds: one disturbed round (a cron job, a GC storm) does not decide the figure.
        const sorted = [...rates].sort((a, b) => a - b);
        const mid = Math.floor(sorted.length / 2);
        const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return { variant: v.name, label: v.label, msgsPerSec: median, runs: rates };
    });
}
