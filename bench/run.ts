// `npm run bench`: receiver CPU, throughput, latency and memory of the package against Node-RED's core
// nodes, all in one embedded Node-RED runtime (its own process: every sender runs in another one),
// as ratios measured in the same run.
//
// Options (argument --name=value or environment BENCH_NAME):
//   --quick               fewer notifications, rounds and seconds (about 1.5 minutes; noisier) (BENCH_QUICK=1)
//   --only=printfactory,latency,webhook,memory,api   scenarios to run (default: all)
//   --count=100000        notifications per throughput run        (BENCH_COUNT)
//   --rounds=3            interleaved throughput rounds, median kept (BENCH_ROUNDS)
//   --variants=package,core,ceiling,ceiling-yield,bare,package-jobs,core-jobs   PrintFactory paths to measure (BENCH_VARIANTS)
//   --rate=1000           latency: notifications per second        (BENCH_RATE)
//   --latencySeconds=5    latency: seconds of samples per path     (BENCH_LATENCYSECONDS)
//   --duration=4          autocannon seconds per endpoint and round (BENCH_DURATION)
//   --webhookRounds=3     interleaved webhook rounds, median kept  (BENCH_WEBHOOKROUNDS)
//   --connections=50      autocannon connections                   (BENCH_CONNECTIONS)
//   --notifications=1000000  memory: notifications (quick: 200000)                (BENCH_NOTIFICATIONS)
//   --reconnects=500      memory: simulator drops                  (BENCH_RECONNECTS)
//   --redeploys=200       memory: full redeploys of every node     (BENCH_REDEPLOYS)
//   --apiCount=40000      api: notifications of the sustained run (quick: 10000); the burst is 1,000 for 50 jobs (BENCH_APICOUNT)
//   --apiLatency=20       api: ms the simulated REST API takes per answer (BENCH_APILATENCY)
//   --layout=stock        stock (wired like red.js: editor and HTTP nodes both on `/`, the editor's
//                         body parsers first; the default) or node-only (RED.httpNode alone) (BENCH_LAYOUT)
//   --out=bench-results/latest.json
// The memory figures need --expose-gc: without it the script re-runs itself with the flag.
import path from 'path';
import { spawnSync } from 'child_process';
import { installHub } from './hub';
import { ROOT, startRuntime, type BenchLayout } from './runtime';
import { printfactoryLatency, printfactoryThroughput } from './printfactory';
import { webhookThroughput } from './webhook';
import { notificationsMemory, reconnectMemory, redeployMemory } from './memory';
import { printfactoryApiBurst } from './api';
import { computeTargets, machine, renderMarkdown, save, type BenchReport } from './report';

function option(name: string, fallback: string): string {
    const prefix = `--${name}=`;
    const arg = process.argv.find((a) => a.startsWith(prefix));
    if (arg) { return arg.slice(prefix.length); }
    return process.env[`BENCH_${name.toUpperCase()}`] ?? fallback;
}

function intOption(name: string, fallback: number): number {
    const raw = option(name, String(fallback));
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) { throw new Error(`--${name} must be a non-negative integer, got "${raw}"`); }
    return value;
}

const log = (s: string): void => { process.stdout.write(s + '\n'); };

async function main(): Promise<number> {
    const only = new Set(option('only', 'printfactory,latency,webhook,memory,api').split(',').map((s) => s.trim()));
    const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
    const opts = {
        quick,
        count: intOption('count', quick ? 40000 : 100000),
        rounds: Math.max(1, intOption('rounds', 3)),
        rate: Math.max(1, intOption('rate', 1000)),
        latencySeconds: Math.max(1, intOption('latencySeconds', quick ? 3 : 5)),
        duration: intOption('duration', quick ? 2 : 4),
        webhookRounds: Math.max(1, intOption('webhookRounds', quick ? 2 : 3)),
        connections: intOption('connections', 50),
        notifications: intOption('notifications', quick ? 200000 : 1000000),
        reconnects: intOption('reconnects', quick ? 100 : 500),
        redeploys: intOption('redeploys', quick ? 50 : 200),
        apiCount: intOption('apiCount', quick ? 10000 : 40000),
        apiLatency: intOption('apiLatency', 20),
        layout: option('layout', 'stock') as BenchLayout,
        variants: option('variants', 'package,core,ceiling,ceiling-yield,bare,package-jobs,core-jobs').split(',').map((s) => s.trim()).filter(Boolean),
        out: path.resolve(ROOT, option('out', 'bench-results/latest.json'))
    };
    if (opts.layout !== 'node-only' && opts.layout !== 'stock') { throw new Error(`--layout must be node-only or stock, got "${opts.layout}"`); }
    const hub = installHub();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeRedVersion: string = require('node-red/package.json').version;
    const report: BenchReport = {
        date: new Date().toISOString(), machine: machine(nodeRedVersion), options: opts,
        targets: [], errors: [], runtimeLogs: hub.logs
    };
    log(`bench: ${report.machine.cpus} cores, Node ${report.machine.node}, Node-RED ${nodeRedVersion}, layout ${opts.layout}`);
    const runtime = await startRuntime(hub, opts.layout);
    const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
        log(`\n${what}`);
        try { await fn(); } catch (err) {
            const message = `${what}: ${(err as Error).message}`;
            report.errors.push(message);
            log(`  FAILED: ${(err as Error).message}`);
            try { await runtime.deploy([]); } catch { /* the next scenario deploys again */ }
        }
    };
    try {
        if (only.has('printfactory')) {
            await attempt(`1. PrintFactory: receiver CPU and throughput (${opts.count.toLocaleString('en-US')} notifications x ${opts.rounds} rounds, pre-encoded batched frames from a sender process)`, async () => {
                report.printfactory = await printfactoryThroughput(runtime, hub, { count: opts.count, warmup: Math.min(20000, opts.count), rounds: opts.rounds, log, variants: opts.variants,
                    onError: (e) => report.errors.push(`1. PrintFactory throughput: ${e}`) });
            });
        }
        if (only.has('latency')) {
            await attempt(`1b. PrintFactory end-to-end latency (${opts.rate}/s for ${opts.latencySeconds} s per path, after 1 s warm-up)`, async () => {
                report.latency = await printfactoryLatency(runtime, hub, { rate: opts.rate, seconds: opts.latencySeconds, warmupSeconds: 1, log });
            });
        }
        if (only.has('webhook')) {
            await attempt(`2. Durst webhook throughput (${opts.duration} s, ${opts.connections} connections, per endpoint x ${opts.webhookRounds} rounds)`, async () => {
                report.webhook = await webhookThroughput(runtime, hub, { duration: opts.duration, connections: opts.connections, rounds: opts.webhookRounds, warmupSeconds: 1, log });
            });
        }
        if (only.has('api')) {
            await attempt(`4. printfactory-api: bursts of job.updated through notification -> api (REST API latency ${opts.apiLatency} ms)`, async () => {
                report.api = await printfactoryApiBurst(runtime, hub, {
                    runs: [
                        { label: 'burst: 1,000 notifications for 50 jobs', count: 1000, jobs: 50 },
                        { label: `sustained: ${opts.apiCount.toLocaleString('en-US')} notifications for 50 jobs`, count: opts.apiCount, jobs: 50 }
                    ],
                    apiLatencyMs: opts.apiLatency,
                    log
                });
            });
        }
        if (only.has('memory')) {
            report.memory = [];
            if (!(globalThis as any).gc) { log('\n(no --expose-gc: memory samples include garbage not yet collected)'); }
            await attempt(`3a. Memory: ${opts.notifications.toLocaleString('en-US')} notifications`, async () => {
                const chunk = Math.max(1, Math.floor(opts.notifications / 10));
                report.memory!.push(await notificationsMemory(runtime, hub, { total: opts.notifications, chunk, warmupChunks: 2, log }));
            });
            await attempt(`3b. Memory: ${opts.reconnects} reconnects`, async () => {
                const every = Math.max(1, Math.floor(opts.reconnects / 10));
                report.memory!.push(await reconnectMemory(runtime, hub, { reconnects: opts.reconnects, every, warmupSamples: 2, timeoutPerReconnectMs: 90000, log }));
            });
            await attempt(`3c. Memory: ${opts.redeploys} redeploys`, async () => {
                const every = Math.max(1, Math.floor(opts.redeploys / 10));
                report.memory!.push(await redeployMemory(runtime, hub, { redeploys: opts.redeploys, every, warmupSamples: 2, log }));
            });
        }
    } finally {
        await runtime.stop();
    }
    report.targets = computeTargets(report);
    log('\n' + renderMarkdown(report));
    const problems = hub.logs.filter((l) => l.level === 'error');
    if (problems.length > 0) { log(`Node-RED logged ${problems.length} error(s); first: ${problems[0].msg}`); }
    save(report, opts.out);
    log(`saved ${path.relative(ROOT, opts.out)}`);
    return report.errors.length > 0 ? 1 : 0;
}

if (!(globalThis as any).gc && !process.env.PRINT_EVENTS_BENCH_CHILD) {
    // Re-run with the garbage collector exposed, so memory samples measure live data only.
    const child = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], {
        stdio: 'inherit', env: { ...process.env, PRINT_EVENTS_BENCH_CHILD: '1' }
    });
    process.exit(child.status ?? 1);
} else {
    main().then((code) => process.exit(code), (err) => {
        console.error(err && err.stack || err);
        process.exit(1);
    });
}
