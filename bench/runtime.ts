// One embedded Node-RED runtime for the whole bench (started by harness/node-red.ts, as the demo and the tests
// start it): every figure is measured in it, so machine noise hits the package and the core baselines alike.
import fs from 'fs';
import path from 'path';
import { writeBenchNodes } from './bench-nodes';
import type { BenchHub } from './hub';
import { startNodeRed, type EmbeddedNodeRed, type FlowNode } from '../harness/node-red';
import { makeUserDir, PACKAGE_NAME, ROOT } from '../harness/user-dir';

export { ROOT };
export type { FlowNode };

/**
 * `node-only`: the server hands every request to RED.httpNode (no editor).
 * `stock`: wired like Node-RED's own red.js (the editor's admin app with its body parsers, then RED.httpNode,
 * both on `/`), the default of every install.
 */
export type BenchLayout = 'node-only' | 'stock';

export interface BenchRuntime {
    RED: EmbeddedNodeRed['RED'];
    layout: BenchLayout;
    /** http://127.0.0.1:<port>: httpNode is mounted at `/`. */
    baseUrl: string;
    /** Deploys (full) after checking that every node type in it loaded. */
    deploy(flows: FlowNode[]): Promise<void>;
    routeCount(): number;
    stop(): Promise<void>;
}

interface NodeSet { module: string; name: string; err?: unknown; types?: string[] }

export async function startRuntime(hub: BenchHub, layout: BenchLayout = 'node-only'): Promise<BenchRuntime> {
    const userDir = makeUserDir('print-events-bench-');
    const benchNodesDir = writeBenchNodes(path.join(userDir, 'bench-nodes'));
    const nr = await startNodeRed({
        userDir,
        layout,
        settings: {
            nodesDir: [benchNodesDir],
            credentialSecret: false,
            // The console stays quiet; warnings and errors are kept for the report.
            logging: {
                console: { level: 'off' },
                bench: {
                    level: 'warn', metrics: false, audit: false,
                    handler: () => (entry: { level: number; msg: unknown }) => {
                        if (hub.logs.length < 200) {
                            hub.logs.push({ level: entry.level <= 20 ? 'error' : 'warn', msg: String(entry.msg) });
                        }
                    }
                }
            }
        }
    });
    nr.server.keepAliveTimeout = 10000;
    const runtimeApi = (nr.RED as unknown as { runtime: { nodes: { getNodeList(o: object): Promise<NodeSet[]> } } }).runtime;
    const nodeSets = await runtimeApi.nodes.getNodeList({});
    const ours = nodeSets.filter((s) => s.module === PACKAGE_NAME);
    if (ours.length === 0) {
        throw new Error(`package ${PACKAGE_NAME} was not found by Node-RED (was \`npm run build\` run?)`);
    }
    const loadErrors = new Map<string, string>();
    for (const set of ours.filter((s) => s.err)) {
        loadErrors.set(set.name, String(set.err).split('\n')[0]);
    }
    const loadedTypes = new Set<string>(nodeSets.filter((s) => !s.err).flatMap((s) => s.types || []));

    const runtime: BenchRuntime = {
        RED: nr.RED,
        layout,
        baseUrl: nr.baseUrl.replace(/\/$/, ''),
        async deploy(flows: FlowNode[]): Promise<void> {
            const missing = [...new Set(flows.map((n) => n.type))].filter((t) => t !== 'tab' && !loadedTypes.has(t));
            if (missing.length > 0) {
                throw new Error(`node type(s) not loaded: ${missing.map((t) => loadErrors.has(t) ? `${t} (${loadErrors.get(t)})` : t).join(', ')}`);
            }
            await nr.deploy(flows);
        },
        routeCount: () => nr.nodeRouteCount(),
        async stop(): Promise<void> {
            await nr.deploy([]);
            await nr.stop();
            fs.rmSync(userDir, { recursive: true, force: true });
        }
    };
    return runtime;
}
