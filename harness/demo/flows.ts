// The example flows as the demo deploys them: every examples/*.json merged into one flow set (one tab each),
// pointed at the local simulators and broker, and which debug nodes show which source.
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { ROOT } from '../user-dir';
import type { FlowNode } from '../node-red';

export const EXAMPLES_DIR = path.join(ROOT, 'examples');

// Well-known demo secrets: the simulators accept them, nothing real is protected by them.
export const DEMO_MIS_KEY = 'demo-mis-key';
export const DEMO_DURST_CREDENTIALS = {
    jwtKey: 'demo-jwt-signing-key',
    xAuthPassword: 'demo-xauth-password'
};
// The demo's Durst Workflow API login: its simulator requires one, as Durst does, and the demo's durst-subscriber
// logs in with it like a user would (apiAuth 'login', x-auth-token on every call).
export const DEMO_DURST_LOGIN = { user: 'demo', password: 'demo-durst-login' };

// Sources whose debug messages the check mode waits for: both simulators, and the MQTT fan-out
// (events that made the round trip through the demo broker).
export const OUR_SOURCE_TYPES = {
    printfactory: 'printfactory-notification',
    durst: 'durst-webhook-in',
    mqtt: 'mqtt in'
} as const;
export type Source = keyof typeof OUR_SOURCE_TYPES;

// FlowFuse Dashboard 2.0: a devDependency of this package, linked into the demo's user directory.
export const DASHBOARD_MODULE = '@flowfuse/node-red-dashboard';
const isDashboardType = (type: unknown): boolean => typeof type === 'string' && type.startsWith('ui-');

export interface DemoTab { id: string; file: string; label: string; disabled: boolean; dashboard: boolean }

export function exampleFiles(dir = EXAMPLES_DIR): string[] {
    if (!fs.existsSync(dir)) { return []; }
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

function isConfigNode(n: FlowNode): boolean {
    // Config nodes have neither a position nor wires in an export.
    return n.type !== 'tab' && n.type !== 'group' && n.type !== 'subflow' && n.x === undefined && n.wires === undefined;
}

const shortHash = (text: string): string => crypto.createHash('sha1').update(text).digest('hex').slice(0, 16);

// Replaces every string that is exactly an old id (wires, z, g, links, config references).
function renameIds<T>(value: T, renames: Map<string, string>): T {
    if (typeof value === 'string') { return (renames.get(value) ?? value) as T; }
    if (Array.isArray(value)) { return value.map((v) => renameIds(v, renames)) as T; }
    if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameIds(v, renames)])) as T;
    }
    return value;
}

/**
 * Merges example files into one flow array. Config nodes shared by id between examples are kept once; any
 * other id clash is renamed so no example overwrites another.
 */
export function mergeExamples(files: string[], { hasDashboard = true } = {}): { flows: FlowNode[]; tabs: DemoTab[] } {
    const flows: FlowNode[] = [];
    const byId = new Map<string, FlowNode>();
    // An example's title: its first comment's name up to a colon ("Device ink monitoring: low-ink alerts ...").
    const exampleTitle = (nodes: FlowNode[]): string => String(nodes.find((n) => n.type === 'comment')?.name ?? '').split(':')[0].trim();
    const tabs: DemoTab[] = [];
    for (const file of files) {
        const base = path.basename(file, '.json');
        let nodes = JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[];
        if (!Array.isArray(nodes)) { throw new Error(`${file}: an example must be a JSON array of nodes`); }

        const renames = new Map<string, string>();
        for (const n of nodes) {
            if (byId.has(n.id) && !isConfigNode(n)) { renames.set(n.id, shortHash(base + ':' + n.id)); }
        }
        if (renames.size > 0) { nodes = renameIds(nodes, renames); }

        let tab = nodes.find((n) => n.type === 'tab');
        if (!tab) {
            // Examples imported into "the current tab" carry no tab node: give them one.
            tab = { id: shortHash('tab:' + base), type: 'tab', label: exampleTitle(nodes) || base, disabled: false, info: '' };
            for (const n of nodes) {
                if (!isConfigNode(n) && n.type !== 'tab') { n.z = tab.id; }
            }
            nodes.unshift(tab);
        }
        const needsDashboard = nodes.some((n) => isDashboardType(n.type));
        if (needsDashboard && !hasDashboard) {
            // Unknown ui-* types would stop the whole deploy: keep the tab, switched off, and say why.
            tab.disabled = true;
            tab.label = `${tab.label || base} (disabled: needs ${DASHBOARD_MODULE})`;
        }
        tabs.push({ id: tab.id, file: path.basename(file), label: String(tab.label), disabled: !!tab.disabled, dashboard: needsDashboard });

        for (const n of nodes) {
            if (byId.has(n.id)) { continue; } // a shared config node already taken from an earlier example
            byId.set(n.id, n);
            flows.push(n);
        }
    }
    // Tabs first keeps the editor's tab order equal to the example file order.
    flows.sort((a, b) => (a.type === 'tab' ? 0 : 1) - (b.type === 'tab' ? 0 : 1));
    return { flows, tabs };
}

/**
 * Points the merged examples at the local simulators (and MQTT broker, when given) and adds the demo
 * credentials. Node-RED extracts `credentials` from posted nodes into its encrypted credential store.
 */
export function pointAtSimulators(flows: FlowNode[], { pfUrl, pfApiUrl, durstUrl, callbackBase, mqttPort }:
    { pfUrl: string; pfApiUrl?: string; durstUrl: string; callbackBase: string; mqttPort?: number }): FlowNode[] {
    for (const n of flows) {
        if (n.type === 'mqtt-broker' && mqttPort !== undefined) {
            n.broker = '127.0.0.1';
            n.port = String(mqttPort);
            n.usetls = false;
        } else if (n.type === 'printfactory-config') {
            n.url = pfUrl;
            // The simulator serves the REST API on its notification port: ws://host:port -> http://host:port.
            n.apiUrl = pfApiUrl || pfUrl.replace(/^ws/i, 'http');
            n.credentials = { misKey: DEMO_MIS_KEY };
        } else if (n.type === 'durst-subscriber') {
            n.apiUrl = durstUrl;
            n.apiAuth = 'login';
            n.loginMethod = 'auto';
            n.hostUri = callbackBase;
            // The simulator starts empty on every run: a remembered id would not exist there.
            n.subscriberId = '';
            const creds: Record<string, string> = { apiUser: DEMO_DURST_LOGIN.user, apiPassword: DEMO_DURST_LOGIN.password };
            if (n.externalAuthType === 'JWT_SIGNING') { creds.jwtKey = DEMO_DURST_CREDENTIALS.jwtKey; }
            if (n.externalAuthType === 'XAUTH') {
                creds.xAuthPassword = DEMO_DURST_CREDENTIALS.xAuthPassword;
                if (!n.xAuthUser) { n.xAuthUser = 'demo'; }
            }
            n.credentials = creds;
        }
    }
    return flows;
}

/**
 * Debug node ids reachable by wires (and link nodes) from each of our source node types,
 * on enabled tabs only. A debug message from one of them proves that simulator's events flow.
 */
export function debugNodesBySource(flows: FlowNode[]): Record<Source, Set<string>> {
    const disabledTabs = new Set(flows.filter((n) => n.type === 'tab' && n.disabled).map((n) => n.id));
    const live = new Map(flows.filter((n) => !n.d && !disabledTabs.has(String(n.z))).map((n) => [n.id, n]));
    const next = (n: FlowNode): string[] => {
        const out: string[] = [];
        for (const port of (n.wires as string[][] | undefined) || []) { out.push(...port); }
        if (n.type === 'link out' && Array.isArray(n.links)) { out.push(...(n.links as string[])); }
        return out;
    };
    const result = {} as Record<Source, Set<string>>;
    for (const [source, type] of Object.entries(OUR_SOURCE_TYPES) as [Source, string][]) {
        const seen = new Set<string>();
        const queue = [...live.values()].filter((n) => n.type === type).map((n) => n.id);
        while (queue.length > 0) {
            const id = queue.shift() as string;
            if (seen.has(id) || !live.has(id)) { continue; }
            seen.add(id);
            queue.push(...next(live.get(id) as FlowNode));
        }
        result[source] = new Set([...seen].filter((id) => live.get(id)?.type === 'debug'));
    }
    return result;
}

/**
 * The dashboard's address, from the ui-base config node of an enabled dashboard tab
 * (Dashboard 2.0 serves it under Node-RED's HTTP node root); null when no dashboard is deployed.
 */
export function dashboardUrlOf(flows: FlowNode[], tabs: DemoTab[], baseUrl: string): string | null {
    if (!tabs.some((t) => t.dashboard && !t.disabled)) { return null; }
    const base = flows.find((n) => n.type === 'ui-base');
    const route = String(base?.path || '/dashboard').replace(/^\/+/, '');
    return baseUrl.replace(/\/$/, '') + '/' + route;
}
