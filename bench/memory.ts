// Scenario 3: memory and resources over time (notifications, reconnects, redeploys).
import path from 'path';
import { RemotePrintFactorySimulator } from './sim-client';
import { BENCH_MIS_KEY, everyNodeFlow, printfactoryFlow } from './flows';
import type { BenchHub } from './hub';
import type { BenchRuntime } from './runtime';

export interface Sample { after: number; rssMB: number; heapMB: number; handles: number; listeners: number; routes: number }
export interface MemoryResult {
    phase: string; label: string; samples: Sample[];
    /** Growth from the first sample after warm-up to the last, in percent. */
    rssGrowthPct: number; heapGrowthPct: number;
    handlesBefore: number; handlesAfter: number; listenersBefore: number; listenersAfter: number;
    routesBefore: number; routesAfter: number; flat: boolean; note?: string;
}

const MB = 1024 * 1024;

function settle(): void {
    const gc = (globalThis as any).gc as (() => void) | undefined;
    if (gc) { gc(); gc(); }
}

function listenerTotal(emitter: NodeJS.EventEmitter): number {
    return emitter.eventNames().reduce((sum, name) => sum + emitter.listenerCount(name), 0);
}

function sample(runtime: BenchRuntime, after: number): Sample {
    settle();
    const mem = process.memoryUsage();
    return {
        after,
        rssMB: +(mem.rss / MB).toFixed(1),
        heapMB: +(mem.heapUsed / MB).toFixed(1),
        handles: (process as any)._getActiveHandles().length,
        // process and Node-RED runtime events: what a node that forgets to unsubscribe leaks into.
        listeners: listenerTotal(process) + listenerTotal(runtime.RED.events),
        routes: runtime.routeCount()
    };
}

function summarise(phase: string, label: string, samples: Sample[], warmupSamples: number, baseline: Sample, end: Sample,
    note?: string, extraOk = true): MemoryResult {
    const steady = samples.slice(Math.min(warmupSamples, samples.length - 1));
    const first = steady[0];
    const last = steady[steady.length - 1];
    const growth = (a: number, b: number): number => +((b - a) / a * 100).toFixed(1);
    const rssGrowthPct = growth(first.rssMB, last.rssMB);
    const heapGrowthPct = growth(first.heapMB, last.heapMB);
    return {
        phase, label, samples, rssGrowthPct, heapGrowthPct,
        handlesBefore: baseline.handles, handlesAfter: end.handles,
        listenersBefore: baseline.listeners, listenersAfter: end.listeners,
        routesBefore: baseline.routes, routesAfter: end.routes,
        // Steady state: no growth from the first sample after warm-up to the last one. After the
        // teardown, handles and listeners are back to where the phase started. (Routes are only
        // compared in the steady state: the webhook dispatcher installs its one route, and its body
        // capture at the front of the root app, on first use and keeps both for the life of the runtime,
        // by design.)
        flat: rssGrowthPct <= 10 && heapGrowthPct <= 10 && last.handles <= first.handles &&
            last.listeners <= first.listeners && last.routes <= first.routes &&
            end.handles <= baseline.handles && end.listeners <= baseline.listeners && extraOk,
        note
    };
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) { throw new Error(`timed out waiting for ${what}`); }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

export async function notificationsMemory(runtime: BenchRuntime, hub: BenchHub,
    opts: { total: number; chunk: number; warmupChunks: number; log: (s: string) => void }): Promise<MemoryResult> {
    const baseline = sample(runtime, 0);
    const sim = new RemotePrintFactorySimulator([BENCH_MIS_KEY]);
    await sim.start();
    const counter = hub.counter('memory.notifications');
    counter.reset();
    const samples: Sample[] = [];
    try {
        const connected = sim.nextConnection(15000);
        await runtime.deploy(printfactoryFlow(sim.url, 'memory.notifications'));
        await connected;
        await new Promise((resolve) => setTimeout(resolve, 200));
        let sent = 0;
        while (sent < opts.total) {
            const n = Math.min(opts.chunk, opts.total - sent);
            sent += n;
            await Promise.all([sim.blast(n), counter.waitFor(sent, 300000)]);
            samples.push(sample(runtime, sent));
            const s = samples[samples.length - 1];
            opts.log(`  ${sent.toLocaleString('en-US').padStart(9)} notifications: rss ${s.rssMB} MB, heap ${s.heapMB} MB, handles ${s.handles}`);
        }
    } finally {
        await runtime.deploy([]);
        await sim.stop();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const end = sample(runtime, opts.total);
    return summarise('notifications', `${opts.total.toLocaleString('en-US')} notifications`, samples, opts.warmupChunks, baseline, end);
}

export async function reconnectMemory(runtime: BenchRuntime, _hub: BenchHub,
    opts: { reconnects: number; every: number; warmupSamples: number; timeoutPerReconnectMs: number; log: (s: string) => void }): Promise<MemoryResult> {
    const baseline = sample(runtime, 0);
    const sim = new RemotePrintFactorySimulator([BENCH_MIS_KEY]);
    await sim.start();
    const samples: Sample[] = [];
    const started = Date.now();
    let done = 0;
    try {
        const connected = sim.nextConnection(15000);
        // A short backoff (20..100 ms) so 500 reconnects take seconds, not the default 1 s each.
        await runtime.deploy(printfactoryFlow(sim.url, 'memory.reconnects', { reconnectMin: 0.02, reconnectMax: 0.1 }));
        await connected;
        for (; done < opts.reconnects; done++) {
            const again = sim.nextConnection(opts.timeoutPerReconnectMs);
            await sim.dropAll();
            await again;
            if ((done + 1) % opts.every === 0) {
                samples.push(sample(runtime, done + 1));
                const s = samples[samples.length - 1];
                opts.log(`  ${String(done + 1).padStart(4)} reconnects: rss ${s.rssMB} MB, heap ${s.heapMB} MB, handles ${s.handles}`);
            }
        }
        await waitUntil(async () => (await sim.connectionCount()) === 1, 5000, 'exactly one connection');
    } finally {
        await runtime.deploy([]);
        await sim.stop();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const end = sample(runtime, done);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    return summarise('reconnects', `${done} reconnects (simulator drops, ${seconds} s)`, samples, opts.warmupSamples, baseline, end);
}

export async function redeployMemory(runtime: BenchRuntime, _hub: BenchHub,
    opts: { redeploys: number; every: number; warmupSamples: number; log: (s: string) => void }): Promise<MemoryResult> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const durstModule = require(path.join(__dirname, '..', 'simulators', 'durst'));
    const DurstSimulator = durstModule.DurstSimulator || durstModule.default || durstModule;
    const durst = new DurstSimulator({ port: 0, host: '127.0.0.1', apiAuth: { type: 'none' } });
    await durst.start();
    const sim = new RemotePrintFactorySimulator([BENCH_MIS_KEY]);
    await sim.start();
    const baseline = sample(runtime, 0);
    const samples: Sample[] = [];
    let maxConnections = 0;
    let peak: number | null = null;
    let subscribers = 0;
    let activeSubscriptions = 0;
    // Registration is lazy: only the subscriber with a durst-subscription (ensureOnDeploy) registers.
    const activeCount = (): number => durst.subscribers().flatMap((s: { id: number }) => durst.subscriptions(s.id))
        .filter((s: { status: string }) => s.status === 'ACTIVE').length;
    try {
        for (let i = 1; i <= opts.redeploys; i++) {
            await runtime.deploy(everyNodeFlow(sim.url, durst.url, runtime.baseUrl + '/', i));
            maxConnections = Math.max(maxConnections, await sim.connectionCount());
            if (i % opts.every === 0) {
                samples.push(sample(runtime, i));
                const s = samples[samples.length - 1];
                opts.log(`  ${String(i).padStart(4)} redeploys: rss ${s.rssMB} MB, heap ${s.heapMB} MB, handles ${s.handles}, routes ${s.routes}`);
            }
        }
        peak = await sim.peakConnections();
        // Counted while the last flow is deployed: the empty deploy of the teardown removes the subscription
        // node, and the package then rightly switches its subscription off. Ensure-on-deploy runs after the
        // deploy, so give it a moment.
        await waitUntil(() => activeCount() >= 1, 5000, 'the ensured subscription').catch(() => undefined);
        subscribers = durst.subscribers().length;
        activeSubscriptions = activeCount();
    } finally {
        await runtime.deploy([]);
        await sim.stop();
        await durst.stop();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const end = sample(runtime, opts.redeploys);
    return summarise('redeploys', `${opts.redeploys} full redeploys of every node`, samples, opts.warmupSamples, baseline, end,
        `Durst subscribers: ${subscribers}, ACTIVE subscriptions: ${activeSubscriptions} (want 1 and 1); ` +
        `PrintFactory sockets open at once: at most ${peak ?? maxConnections} (want 1)`,
        subscribers === 1 && activeSubscriptions === 1 && (peak ?? maxConnections) <= 1);
}
