// Ratio table and JSON output.
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { LatencyResult, ThroughputResult } from './printfactory';
import type { WebhookResult } from './webhook';
import type { MemoryResult } from './memory';
import type { ApiBurstResult } from './api';

export interface Target { name: string; figure: string; value: number | null; target: string; met: boolean | null; note?: string }

export interface BenchReport {
    date: string;
    machine: { cpus: number; cpuModel: string; node: string; nodeRed: string; platform: string; loadStart: string[]; loadEnd?: string[] };
    options: Record<string, unknown>;
    printfactory?: ThroughputResult[];
    latency?: LatencyResult[];
    webhook?: WebhookResult[];
    memory?: MemoryResult[];
    api?: ApiBurstResult[];
    targets: Target[];
    errors: string[];
    runtimeLogs: { level: string; msg: string }[];
}

export function machine(nodeRedVersion: string): BenchReport['machine'] {
    const cpus = os.cpus();
    return { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', node: process.version, nodeRed: nodeRedVersion,
        platform: `${os.platform()} ${os.release()}`, loadStart: os.loadavg().map((x) => x.toFixed(2)) };
}

function median(values: number[]): number {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Median of the per-round ratios: each round measures both paths back to back, so a burst of
 * load from elsewhere on the machine hits one round's pair, not one path's whole figure.
 */
function pairedRatio(a: number[] | undefined, b: number[] | undefined): number | null {
    if (!a || !b || a.length === 0 || a.length !== b.length) { return null; }
    return +median(a.map((x, i) => x / b[i])).toFixed(2);
}

export function computeTargets(r: BenchReport): Target[] {
    const targets: Target[] = [];
    const pf = (v: string): number[] | undefined => r.printfactory?.find((x) => x.variant === v)?.runs;
    const pfCpu = (v: string): number[] | undefined => r.printfactory?.find((x) => x.variant === v)?.cpuRuns;
    const wh = (v: string): number[] | undefined => r.webhook?.find((x) => x.variant === v)?.runs;
    const check = (name: string, figure: string, value: number | null, min: number): void => {
        targets.push({ name, figure, value, target: `>= ${min}x`, met: value === null ? null : value >= min });
    };
    const checkMax = (name: string, figure: string, value: number | null, max: number, unit = 'x'): void => {
        targets.push({ name, figure, value, target: `<= ${max}${unit}`, met: value === null ? null : value <= max });
    };
    const scale = (name: string, figure: string, value: number | null): void => {
        targets.push({ name, figure, value, target: 'shown for scale', met: null });
    };
    if (r.printfactory) {
        checkMax('PrintFactory CPU per msg vs core websocket in -> json', 'median per-round CPU/msg ratio', pairedRatio(pfCpu('package'), pfCpu('core')), 0.6);
        checkMax('PrintFactory CPU per msg vs the ceiling node', 'median per-round CPU/msg ratio', pairedRatio(pfCpu('package'), pfCpu('ceiling')), 1.25);
        scale('PrintFactory CPU per msg vs the ceiling node with the same flow control', 'median per-round CPU/msg ratio', pairedRatio(pfCpu('package'), pfCpu('ceiling-yield')));
        scale('PrintFactory CPU per msg vs bare ws + JSON.parse', 'median per-round CPU/msg ratio', pairedRatio(pfCpu('package'), pfCpu('bare')));
        scale('Realistic flow (job.* by type): CPU per notification vs core', 'median per-round CPU/msg ratio', pairedRatio(pfCpu('package-jobs'), pfCpu('core-jobs')));
        scale('PrintFactory msgs/s vs core websocket in -> json', 'median per-round msgs/s ratio', pairedRatio(pf('package'), pf('core')));
        scale('PrintFactory msgs/s vs the ceiling node', 'median per-round msgs/s ratio', pairedRatio(pf('package'), pf('ceiling')));
        scale('Realistic flow (job.* by type): notifications/s vs core', 'median per-round msgs/s ratio', pairedRatio(pf('package-jobs'), pf('core-jobs')));
    }
    for (const l of r.latency ?? []) {
        if (l.variant === 'package') {
            checkMax(`PrintFactory p99 latency at ${l.rate}/s`, 'ms, frame written -> msg at the counter', l.p99, 5, ' ms');
        }
    }
    if (r.webhook) {
        check('Webhook NONE vs core http in -> http response', 'median per-round req/s ratio', pairedRatio(wh('package-none'), wh('core')), 1.5);
        check('Webhook NONE vs Node-RED HTTP ceiling', 'median per-round req/s ratio', pairedRatio(wh('package-none'), wh('ceiling')), 0.7);
        check('Webhook JWT_SIGNING vs core http in -> http response', 'median per-round req/s ratio', pairedRatio(wh('package-jwt'), wh('core')), 1.1);
        scale('Webhook NONE vs the ceiling handler sent as JSON (editor parses it)', 'median per-round req/s ratio', pairedRatio(wh('package-none'), wh('ceiling-json')));
        scale('Webhook JWT_SIGNING vs Node-RED HTTP ceiling', 'median per-round req/s ratio', pairedRatio(wh('package-jwt'), wh('ceiling')));
        scale('Webhook NONE vs bare Node http', 'median per-round req/s ratio', pairedRatio(wh('package-none'), wh('bare')));
        // autocannon stops counting with up to one request per connection still in flight; the
        // server answers (and emits) those too, so msgs may exceed the counted 200s by that much.
        // (Summed over the rounds: up to connections x rounds in flight.)
        const inFlight = (Number(r.options.connections) || 0) * (Number(r.options.webhookRounds) || 1);
        for (const w of r.webhook) {
            if (w.emitted !== null && (w.emitted < w.ok || w.emitted > w.ok + inFlight)) {
                targets.push({ name: `Webhook ${w.variant}: one msg per 200`, figure: 'msgs vs 200s',
                    value: w.emitted, target: `${w.ok}..${w.ok + inFlight}`, met: false });
            }
        }
    }
    for (const a of r.api ?? []) {
        // The bound: at most one REST call per job within each cache window the run spans.
        checkMax(`printfactory-api: REST calls for ${fmt(a.notifications)} job.updated / ${a.jobs} jobs`, `calls (${a.windows} cache window(s) of 2 s)`,
            a.restCalls, a.jobs * a.windows, '');
        if (a.errors > 0) { targets.push({ name: `printfactory-api: ${a.label} without errors`, figure: 'errors', value: a.errors, target: '0', met: false }); }
    }
    for (const m of r.memory ?? []) {
        targets.push({ name: `Memory flat after ${m.label}`, figure: 'RSS / heap growth %',
            value: Math.max(m.rssGrowthPct, m.heapGrowthPct), target: '<= 10%, no handle/listener/route growth', met: m.flat,
            note: `rss ${m.rssGrowthPct}%, heap ${m.heapGrowthPct}%, handles ${m.handlesBefore}->${m.handlesAfter}, ` +
                `listeners ${m.listenersBefore}->${m.listenersAfter}, routes ${m.routesBefore}->${m.routesAfter}` + (m.note ? `; ${m.note}` : '') });
    }
    return targets;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function table(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
    return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

/** Markdown tables: printed to the console and pasted into docs/benchmarks.md. */
export function renderMarkdown(r: BenchReport): string {
    const parts: string[] = [];
    parts.push(`Machine: ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, Node-RED ${r.machine.nodeRed}, ${r.date}; ` +
        `load average at start ${r.machine.loadStart.join(' ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (r.printfactory) {
        const group = (g: 'all' | 'jobs'): ThroughputResult[] => r.printfactory!.filter((x) => x.group === g);
        const render = (rows: ThroughputResult[], coreName: string): string => {
            const core = rows.find((x) => x.variant === coreName);
            return table(['Path', 'receiver CPU us/notification', 'vs core', 'notifications/s', 'vs core', 'sender CPU us/frame', 'rounds (CPU us)', 'rounds (notifications/s)'],
                rows.map((x) => [x.label, x.cpuUsPerMsg.toFixed(2), core ? (x.cpuUsPerMsg / core.cpuUsPerMsg).toFixed(2) + 'x' : '-',
                    fmt(x.msgsPerSec), core ? (x.msgsPerSec / core.msgsPerSec).toFixed(2) + 'x' : '-', x.senderCpuUsPerFrame.toFixed(2),
                    x.cpuRuns.map((c) => c.toFixed(2)).join(' / '), x.runs.map(fmt).join(' / ')]));
        };
        const count = Number(r.options.count) || 0;
        if (group('all').length > 0) {
            parts.push(`PrintFactory: every notification -> counting node (${fmt(count)} per round; median of the rounds; lower CPU is better)\n\n` + render(group('all'), 'core'));
        }
        if (group('jobs').length > 0) {
            const jobs = group('jobs')[0].delivered;
            parts.push(`PrintFactory, realistic flow: only job.* events, routed by type (${fmt(jobs)} of ${fmt(count)} notifications are job.*; ` +
                'CPU per notification received)\n\n' + render(group('jobs'), 'core-jobs'));
        }
    }
    if (r.latency && r.latency.length > 0) {
        parts.push(`PrintFactory end-to-end latency: frame written by the sender -> msg at the counter (${r.latency[0].rate}/s, ${r.latency[0].sent} frames per path)\n\n` +
            table(['Path', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'received'],
                r.latency.map((l) => [l.label, String(l.p50), String(l.p90), String(l.p99), String(l.max), `${l.received}/${l.sent}`])));
    }
    if (r.webhook) {
        const core = r.webhook.find((x) => x.variant === 'core')?.reqPerSec ?? 0;
        const ceiling = r.webhook.find((x) => x.variant === 'ceiling')?.reqPerSec ?? 0;
        const layout = r.options.layout === 'stock' ? 'stock layout: editor and HTTP nodes on /' : 'node-only layout';
        parts.push(`Durst callbacks (${layout}; autocannon in a separate process; median of the rounds)\n\n` + table(['Endpoint', 'req/s', 'p50 ms', 'p99 ms', 'vs core', 'of ceiling', 'non-2xx', 'rounds (req/s)'],
            r.webhook.map((x) => [x.label, fmt(x.reqPerSec), String(x.p50), String(x.p99), core ? (x.reqPerSec / core).toFixed(2) + 'x' : '-',
                ceiling ? (x.reqPerSec / ceiling).toFixed(2) + 'x' : '-', String(x.non2xx),
                x.runs.map(fmt).join(' / ')])));
    }
    if (r.memory && r.memory.length > 0) {
        parts.push('Memory and resources (after warm-up; gc before each sample)\n\n' + table(
            ['Phase', 'RSS MB (samples)', 'heap MB (samples)', 'RSS growth*', 'heap growth*', 'handles (steady; phase before->after)',
                'process listeners (steady; before->after)', 'httpNode routes (steady; before->after)'],
            r.memory.map((m) => {
                const s = m.samples;
                const steady = s.slice(Math.min(2, s.length - 1));
                const span = (key: 'rssMB' | 'heapMB'): string => `${s[0]?.[key]} .. ${s[s.length - 1]?.[key]}`;
                const res = (key: 'handles' | 'listeners' | 'routes', before: number, after: number): string =>
                    `${steady[0]?.[key]}->${steady[steady.length - 1]?.[key]}; ${before}->${after}`;
                return [m.label, span('rssMB'), span('heapMB'), `${m.rssGrowthPct}%`, `${m.heapGrowthPct}%`,
                    res('handles', m.handlesBefore, m.handlesAfter), res('listeners', m.listenersBefore, m.listenersAfter),
                    res('routes', m.routesBefore, m.routesAfter)];
            })) + '\n\n*growth from the first sample after warm-up (2 samples) to the last');
    }
    if (r.api && r.api.length > 0) {
        parts.push(`printfactory-api: job.updated notifications ({ JobGUID } only) -> printfactory-api (job, cache 2 s, 4 at once) -> counter; ` +
            `simulated REST API answering after ${r.api[0].apiLatencyMs} ms\n\n` +
            table(['Run', 'notifications', 'jobs', 'REST calls', 'cache windows', 'ms', 'msgs/s', 'most calls at once', 'errors'],
                r.api.map((a) => [a.label, fmt(a.notifications), String(a.jobs), String(a.restCalls), String(a.windows), fmt(a.elapsedMs),
                    fmt(a.msgsPerSec), String(a.peakInFlight), String(a.errors)])));
    }
    parts.push('Targets\n\n' + table(['Target', 'Measured', 'Wanted', 'Met'],
        r.targets.map((t) => [t.name, t.value === null ? 'n/a' : String(t.value), t.target, t.met === null ? '-' : t.met ? 'yes' : 'NO'])));
    if (r.errors.length > 0) { parts.push('Errors\n\n' + r.errors.map((e) => `- ${e}`).join('\n')); }
    return parts.join('\n\n') + '\n';
}

export function save(r: BenchReport, file: string): void {
    r.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
}
