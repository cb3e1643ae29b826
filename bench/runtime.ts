// One embedded Node-RED 4 runtime for the whole bench: every figure is measured in it,
// so machine noise hits the package and the core baselines alike.
import fs from 'fs';
import os from 'os';
import path from 'path';
import http from 'http';
import type { AddressInfo } from 'net';
import { writeBenchNodes } from './bench-nodes';
import type { BenchHub } from './hub';

export const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_NAME: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).name;

export interface FlowNode { id: string; type: string; [key: string]: unknown }

/**
 * `node-only`: the server hands every request to RED.httpNode (no editor).
 * `stock`: wired like Node-RED's own red.js: one express app, the editor's admin app (with its JSON and
 * urlencoded body parsers) and then RED.httpNode, both mounted on `/`, the default of every install.
 */
export type BenchLayout = 'node-only' | 'stock';

export interface BenchRuntime {
    RED: any;
    layout: BenchLayout;
    /** http://127.0.0.1:<port>: httpNode is mounted at `/`. */
    baseUrl: string;
    /** Deploys (full) after checking that every node type in it loaded. */
    deploy(flows: FlowNode[]): Promise<void>;
    routeCount(): number;
    stop(): Promise<void>;
}

function prepareUserDir(): string {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-bench-'));
    // Installed the way a user installs it: a package in the user dir's node_modules.
    fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({
        name: 'print-events-bench', version: '0.0.0', private: true,
        dependencies: { [PACKAGE_NAME]: 'file:' + ROOT }
    }));
    fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', PACKAGE_NAME), 'dir');
    return userDir;
}

function nextFlowsStarted(RED: any, timeoutMs = 60000): Promise<void> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            RED.events.removeListener('flows:started', onStarted);
            reject(new Error(`Node-RED did not start the flows within ${timeoutMs} ms`));
        }, timeoutMs);
        const onStarted = (): void => { clearTimeout(timer); resolve(); };
        RED.events.once('flows:started', onStarted);
    });
}

export async function startRuntime(hub: BenchHub, layout: BenchLayout = 'node-only'): Promise<BenchRuntime> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const RED = require('node-red');
    const userDir = prepareUserDir();
    const benchNodesDir = writeBenchNodes(path.join(userDir, 'bench-nodes'));
    // Node-RED's own express, as red.js uses it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = layout === 'stock' ? require(require.resolve('express', { paths: [path.dirname(require.resolve('node-red'))] })) : null;
    const app = express ? express() : null;
    const server = app ? http.createServer(app) : http.createServer((req, res) => {
        RED.httpNode(req, res, () => { res.statusCode = 404; res.end('Not found'); });
    });
    server.keepAliveTimeout = 10000;
    const settings = {
        userDir,
        flowFile: 'flows.json',
        nodesDir: [benchNodesDir],
        httpAdminRoot: layout === 'stock' ? '/' : false,
        httpNodeRoot: '/',
        credentialSecret: false,
        telemetry: { enabled: false, updateNotification: false },
        functionExternalModules: false,
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
    };
    RED.init(server, settings);
    if (app) {
        app.use('/', RED.httpAdmin);
        app.use('/', RED.httpNode);
    }
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
    });
    // RED.start() resolves before the stored flows are loaded and started; a deploy before that
    // would race the load (which replaces the credential cache).
    const firstStart = nextFlowsStarted(RED);
    await RED.start();
    await firstStart;
    const nodeSets: any[] = await RED.runtime.nodes.getNodeList({});
    const ours = nodeSets.filter((s) => s.module === PACKAGE_NAME);
    if (ours.length === 0) {
        throw new Error(`package ${PACKAGE_NAME} was not found by Node-RED (was \`npm run build\` run?)`);
    }
    const loadErrors = new Map<string, string>();
    for (const set of ours.filter((s) => s.err)) {
        loadErrors.set(set.name, String(set.err).split('\n')[0]);
    }
    const loadedTypes = new Set<string>(nodeSets.filter((s) => !s.err).flatMap((s) => s.types || []));
    const port = (server.address() as AddressInfo).port;

    const runtime: BenchRuntime = {
        RED,
        layout,
        baseUrl: `http://127.0.0.1:${port}`,
        async deploy(flows: FlowNode[]): Promise<void> {
            const missing = [...new Set(flows.map((n) => n.type))].filter((t) => t !== 'tab' && !loadedTypes.has(t));
            if (missing.length > 0) {
                throw new Error(`node type(s) not loaded: ${missing.map((t) => loadErrors.has(t) ? `${t} (${loadErrors.get(t)})` : t).join(', ')}`);
            }
            // The runtime API takes credentials as a separate map by node id (the editor posts them inline).
            const credentials: Record<string, unknown> = {};
            const plain = flows.map(({ credentials: creds, ...rest }) => {
                if (creds) { credentials[rest.id] = creds; }
                return rest;
            });
            const started = nextFlowsStarted(RED);
            await RED.runtime.flows.setFlows({ flows: { flows: plain, credentials }, deploymentType: 'full' });
            // setFlows resolves once the old nodes stopped; the new ones start after that.
            await started;
        },
        routeCount(): number {
            const app = RED.httpNode;
            // Express 4 creates `_router` on the first route, and its `app.router` getter throws ("deprecated");
            // Express 5 has `app.router`. No router yet = no routes.
            let router = app._router;
            if (!router) {
                try { router = app.router; } catch { router = undefined; }
            }
            return router && Array.isArray(router.stack) ? router.stack.length : 0;
        },
        async stop(): Promise<void> {
            await runtime.deploy([]);
            await RED.stop();
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            fs.rmSync(userDir, { recursive: true, force: true });
        }
    };
    return runtime;
}
