// Scenario 4: printfactory-api under a notification burst. The sender process (sim-worker.ts) owns the floor's
// jobs and the REST API; it writes `count` job.updated frames ({ JobGUID } only, as the vendor sends them) for
// `jobs` jobs round robin, as fast as the socket takes them. Node-RED (this process) runs
// notification -> printfactory-api (job, cacheSeconds 2, concurrency 4) -> counter, and the simulator counts the
// REST calls it got: the bound is one call per job within the cache window.
import { performance } from 'perf_hooks';
import { RemotePrintFactorySimulator } from './sim-client';
import { BENCH_MIS_KEY } from './flows';
import type { BenchHub } from './hub';
import type { BenchRuntime, FlowNode } from './runtime';

export interface ApiBurstResult {
    label: string;
    notifications: number;
    jobs: number;
    /** Simulated REST API latency per answer, ms. */
    apiLatencyMs: number;
    /** GET /api/v2/job/{guid}/status calls the simulator answered during the run. */
    restCalls: number;
    /** Cache windows (2 s) the run spanned: the bound is jobs x windows. */
    windows: number;
    elapsedMs: number;
    msgsPerSec: number;
    peakInFlight: number;
    errors: number;
}

const TAB: FlowNode = { id: 'bench.api.tab', type: 'tab', label: 'bench api', disabled: false, info: '' };
const CACHE_SECONDS = 2;

function apiFlow(url: string, apiUrl: string, counterName: string, errorCounter: string): FlowNode[] {
    return [
        TAB,
        { id: 'bench.api.cfg', type: 'printfactory-config', name: 'bench', url, apiUrl, credentials: { misKey: BENCH_MIS_KEY } },
        { id: 'bench.api.in', type: 'printfactory-notification', z: TAB.id, name: '', account: 'bench.api.cfg', events: [], x: 100, y: 100, wires: [['bench.api.ask']] },
        { id: 'bench.api.ask', type: 'printfactory-api', z: TAB.id, name: '', account: 'bench.api.cfg', action: 'job',
            cacheSeconds: CACHE_SECONDS, concurrency: 4, queueSize: 100, timeout: 10, x: 300, y: 100, wires: [['bench.api.counter']] },
        { id: 'bench.api.counter', type: 'bench-counter', z: TAB.id, name: counterName, latency: false, x: 500, y: 100, wires: [] },
        { id: 'bench.api.catch', type: 'catch', z: TAB.id, name: '', scope: ['bench.api.ask'], uncaught: false, x: 100, y: 200, wires: [['bench.api.errors']] },
        { id: 'bench.api.errors', type: 'bench-counter', z: TAB.id, name: errorCounter, latency: false, x: 300, y: 200, wires: [] }
    ];
}

export async function printfactoryApiBurst(runtime: BenchRuntime, hub: BenchHub, opts: {
    runs: Array<{ label: string; count: number; jobs: number }>; apiLatencyMs: number; log: (s: string) => void;
}): Promise<ApiBurstResult[]> {
    const sim = new RemotePrintFactorySimulator([BENCH_MIS_KEY]);
    await sim.start();
    const results: ApiBurstResult[] = [];
    try {
        for (const run of opts.runs) {
            const counter = hub.counter('api');
            const errors = hub.counter('api-errors');
            counter.reset();
            errors.reset();
            const connected = sim.nextConnection(15000);
            await runtime.deploy(apiFlow(sim.url, sim.apiUrl, 'api', 'api-errors'));
            await connected;
            await sim.apiPrepare(run.jobs, opts.apiLatencyMs);
            const started = performance.now();
            await sim.apiBurst(run.count);
            // Every msg ends at one of the two counters; wait for the sum.
            const deadline = Date.now() + 120000;
            while (counter.count + errors.count < run.count) {
                if (Date.now() > deadline) { throw new Error(`${counter.count} answers + ${errors.count} errors of ${run.count} within 120 s`); }
                await new Promise((resolve) => setTimeout(resolve, 5));
            }
            const elapsedMs = performance.now() - started;
            const stats = await sim.apiStats();
            const result: ApiBurstResult = {
                label: run.label, notifications: run.count, jobs: run.jobs, apiLatencyMs: opts.apiLatencyMs,
                restCalls: stats.calls, windows: Math.max(1, Math.ceil(elapsedMs / (CACHE_SECONDS * 1000))),
                elapsedMs: Math.round(elapsedMs), msgsPerSec: Math.round(run.count / (elapsedMs / 1000)),
                peakInFlight: stats.peakInFlight, errors: errors.count
            };
            results.push(result);
            opts.log(`  ${run.label}: ${result.restCalls} REST calls for ${run.count} notifications / ${run.jobs} jobs in ${result.elapsedMs} ms ` +
                `(${result.msgsPerSec} msgs/s, ${result.windows} cache window(s), at most ${result.peakInFlight} calls at once, ${result.errors} errors)`);
            await runtime.deploy([]);
        }
    } finally {
        await sim.stop();
    }
    return results;
}
