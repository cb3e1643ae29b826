// Flow definitions the bench deploys: the package's nodes and the core baselines,
// each ending in a bench-counter.
import type { FlowNode } from './runtime';

export const BENCH_MIS_KEY = 'bench-mis-key';
export const JWT_KEY = 'bench-jwt-signing-key';
export const XAUTH_PASSWORD = 'bench-xauth-password';

const TAB: FlowNode = { id: 'bench.tab', type: 'tab', label: 'bench', disabled: false, info: '' };

function counter(id: string, name: string, x = 600, latency = false): FlowNode {
    return { id, type: 'bench-counter', z: TAB.id, name, latency, x, y: 100, wires: [] };
}

/** Every job.* event name the classifier knows: the realistic flow keeps these and routes them by type. */
export const JOB_EVENTS = ['job.created', 'job.updated', 'job.copyAdded', 'job.reprint', 'job.reroute', 'job.resubmit'];

/** `timings`: printfactory-config advanced settings in seconds (pingInterval, reconnectMin, ...). */
export function printfactoryFlow(url: string, counterName: string, timings: Record<string, number> = {}, latency = false): FlowNode[] {
    return [
        TAB,
        { id: 'bench.pf.cfg', type: 'printfactory-config', name: 'bench', url, ...timings, credentials: { misKey: BENCH_MIS_KEY } },
        { id: 'bench.pf.in', type: 'printfactory-notification', z: TAB.id, name: '', account: 'bench.pf.cfg',
            events: [], x: 100, y: 100, wires: [['bench.counter']] },
        counter('bench.counter', counterName, 600, latency)
    ];
}

/**
 * Realistic flow, package side: the node's own event filter keeps the job.* events, then one core
 * `switch` on msg.topic routes each type to its output (all outputs end in the same counter).
 */
export function printfactoryJobsFlow(url: string, counterName: string): FlowNode[] {
    return [
        TAB,
        { id: 'bench.pf.cfg', type: 'printfactory-config', name: 'bench', url, credentials: { misKey: BENCH_MIS_KEY } },
        { id: 'bench.pf.in', type: 'printfactory-notification', z: TAB.id, name: '', account: 'bench.pf.cfg',
            events: JOB_EVENTS, x: 100, y: 100, wires: [['bench.route']] },
        { id: 'bench.route', type: 'switch', z: TAB.id, name: 'by type', property: 'topic', propertyType: 'msg',
            rules: JOB_EVENTS.map((v) => ({ t: 'eq', v, vt: 'str' })), checkall: 'false', repair: false,
            outputs: JOB_EVENTS.length, x: 300, y: 100, wires: JOB_EVENTS.map(() => ['bench.counter']) },
        counter('bench.counter', counterName)
    ];
}

/**
 * Realistic flow, core side: `websocket in` -> `json` -> `switch`. A switch tests one property, and the
 * notifications carry no type field, so the classifier's order (docs/printfactory.md, "Event names") takes three switches with native
 * rules (no JSONata): Event -> Reprint/ReRoute/ReSubmit; else the payload's keys -> drop nester
 * (NestGUID) and device (DeviceGUID) frames, StatusRIP = copyAdded; else Status "Created" = created, anything
 * else = updated (the classifier's "exactly one key" check is left out: cheaper than exact, in core's favour).
 */
export function coreJobsFlow(url: string, counterName: string): FlowNode[] {
    const sw = (id: string, property: string, rules: object[], wires: string[][], y: number): FlowNode => ({
        id, type: 'switch', z: TAB.id, name: '', property, propertyType: 'msg', rules, checkall: 'false', repair: false,
        outputs: rules.length, x: 500, y, wires
    });
    const c = 'bench.counter';
    return [
        ...coreWebsocketFlow(url, counterName).map((n) => n.id === 'bench.json' ? { ...n, wires: [['bench.sw.event']] } : n),
        sw('bench.sw.event', 'payload.Event', [{ t: 'eq', v: 'Reprint', vt: 'str' }, { t: 'eq', v: 'ReRoute', vt: 'str' },
            { t: 'eq', v: 'ReSubmit', vt: 'str' }, { t: 'else' }], [[c], [c], [c], ['bench.sw.keys']], 100),
        sw('bench.sw.keys', 'payload', [{ t: 'hask', v: 'NestGUID', vt: 'str' }, { t: 'hask', v: 'DeviceGUID', vt: 'str' },
            { t: 'hask', v: 'StatusRIP', vt: 'str' }, { t: 'else' }], [[], [], [c], ['bench.sw.status']], 200),
        sw('bench.sw.status', 'payload.Status', [{ t: 'eq', v: 'Created', vt: 'str' }, { t: 'else' }], [[c], [c]], 300)
    ];
}

/** Core chain: `websocket in` (client mode, MisKey as an upgrade header) -> `json` -> counter. */
export function coreWebsocketFlow(url: string, counterName: string, latency = false): FlowNode[] {
    return [
        TAB,
        { id: 'bench.ws.client', type: 'websocket-client', path: url, tls: '', wholemsg: 'false', hb: '0',
            subprotocol: '', headers: [{ keyType: 'other', keyValue: 'MisKey', valueType: 'other', valueValue: BENCH_MIS_KEY }] },
        { id: 'bench.ws.in', type: 'websocket in', z: TAB.id, name: '', server: '', client: 'bench.ws.client',
            x: 100, y: 100, wires: [['bench.json']] },
        { id: 'bench.json', type: 'json', z: TAB.id, name: '', property: 'payload', action: 'obj', pretty: false,
            x: 300, y: 100, wires: [['bench.counter']] },
        counter('bench.counter', counterName, 600, latency)
    ];
}

export function ceilingFlow(url: string, counterName: string, yieldEvery = 0): FlowNode[] {
    return [
        TAB,
        { id: 'bench.ceiling', type: 'bench-ceiling', z: TAB.id, url, misKey: BENCH_MIS_KEY, yieldEvery, x: 100, y: 100,
            wires: [['bench.counter']] },
        counter('bench.counter', counterName)
    ];
}

export type WebhookAuth = 'NONE' | 'JWT_SIGNING' | 'XAUTH';

function subscriber(id: string, apiUrl: string, hostUri: string, auth: WebhookAuth): FlowNode {
    const credentials: Record<string, string> = {};
    if (auth === 'JWT_SIGNING') { credentials.jwtKey = JWT_KEY; }
    if (auth === 'XAUTH') { credentials.xAuthPassword = XAUTH_PASSWORD; }
    return {
        id, type: 'durst-subscriber', name: `bench ${auth}`, apiUrl, apiAuth: 'none', hostUri,
        externalAuthType: auth, xAuthUser: auth === 'XAUTH' ? 'bench' : '', jwtHeaderName: 'x-jwt-token',
        jwtMethod: 'HS256', subscriberId: '', credentials
    };
}

/** durst-webhook-in at /bench/none (NONE) and /bench/jwt (JWT_SIGNING), and core http in at /bench/core. */
export function webhookFlow(durstApiUrl: string, hostUri: string): FlowNode[] {
    return [
        TAB,
        subscriber('bench.sub.none', durstApiUrl, hostUri, 'NONE'),
        subscriber('bench.sub.jwt', durstApiUrl, hostUri, 'JWT_SIGNING'),
        // The load repeats one body (one signed token, as the simulator signs it); repeat suppression would rightly
        // answer all but the first as repeats, so it is off here: the figure is the cost of a delivered callback.
        { id: 'bench.wh.none', type: 'durst-webhook-in', z: TAB.id, name: '', subscriber: 'bench.sub.none',
            url: '/bench/none', dedupeWindow: 0, x: 100, y: 100, wires: [['bench.counter.none']] },
        { id: 'bench.wh.jwt', type: 'durst-webhook-in', z: TAB.id, name: '', subscriber: 'bench.sub.jwt',
            url: '/bench/jwt', dedupeWindow: 0, x: 100, y: 200, wires: [['bench.counter.jwt']] },
        counter('bench.counter.none', 'webhook.none'),
        counter('bench.counter.jwt', 'webhook.jwt'),
        { id: 'bench.http.in', type: 'http in', z: TAB.id, name: '', url: '/bench/core', method: 'post',
            upload: false, swaggerDoc: '', x: 100, y: 300, wires: [['bench.http.res', 'bench.counter.core']] },
        { id: 'bench.http.res', type: 'http response', z: TAB.id, name: '', statusCode: '200', headers: {},
            x: 300, y: 300, wires: [] },
        counter('bench.counter.core', 'webhook.core')
    ];
}

/**
 * Every node of the package, wired to counters: what the redeploy-leak test deploys.
 * `variant` changes a name so consecutive deploys are real changes.
 */
export function everyNodeFlow(pfUrl: string, durstApiUrl: string, hostUri: string, variant: number): FlowNode[] {
    return [
        TAB,
        { id: 'bench.pf.cfg', type: 'printfactory-config', name: `bench ${variant}`, url: pfUrl, credentials: { misKey: BENCH_MIS_KEY } },
        { id: 'bench.pf.in', type: 'printfactory-notification', z: TAB.id, name: '', account: 'bench.pf.cfg',
            events: [], x: 100, y: 100, wires: [['bench.counter']] },
        { id: 'bench.pf.in2', type: 'printfactory-notification', z: TAB.id, name: 'jobs', account: 'bench.pf.cfg',
            events: ['job.created', 'job.updated'], x: 100, y: 150, wires: [['bench.counter']] },
        subscriber('bench.sub.jwt', durstApiUrl, hostUri, 'JWT_SIGNING'),
        subscriber('bench.sub.xauth', durstApiUrl, hostUri, 'XAUTH'),
        { id: 'bench.subscription', type: 'durst-subscription', z: TAB.id, name: '', subscriber: 'bench.sub.jwt',
            topic: 'STATUS/PRODUCTION_JOB/*', path: 'bench/jwt', publishInitialState: false, ensureOnDeploy: true,
            x: 100, y: 200, wires: [['bench.counter']] },
        { id: 'bench.wh.jwt', type: 'durst-webhook-in', z: TAB.id, name: '', subscriber: 'bench.sub.jwt',
            url: '/bench/jwt', x: 100, y: 250, wires: [['bench.counter']] },
        { id: 'bench.wh.xauth', type: 'durst-webhook-in', z: TAB.id, name: '', subscriber: 'bench.sub.xauth',
            url: '/bench/xauth', x: 100, y: 300, wires: [['bench.counter']] },
        counter('bench.counter', 'redeploy')
    ];
}
