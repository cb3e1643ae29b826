// The one way this repository starts Node-RED: embedded in the calling process and wired as its own
// red.js wires it. The demo, the bench, the real-process tests (through harness/child.ts) and the package
// check all start it here, so what they test is what users run.
//
// `stock` (red.js, the default of every install): one express app, the editor's admin app (with its JSON and
// urlencoded body parsers for every request) mounted first, then RED.httpNode, both on httpAdminRoot /
// httpNodeRoot (`/`). `node-only`: the server hands every request to RED.httpNode (no editor), for the bench's
// baseline. `admin-only`: the editor's app alone (the package check reads /nodes from it).
import fs from 'fs';
import http from 'http';
import path from 'path';
import type { AddressInfo } from 'net';
import type { Express } from 'express';
import type { NodeRedApp } from 'node-red';
import type { LocalSettings } from '@node-red/runtime';

/** Node-RED's settings (what settings.js takes); the few this harness sets itself are named. */
export interface Settings {
    userDir: string;
    uiPort: number;
    uiHost: string;
    httpAdminRoot: string | false;
    httpNodeRoot: string | false;
    [setting: string]: unknown;
}

export type Layout = 'stock' | 'node-only' | 'admin-only';

export interface StartOptions {
    userDir: string;
    /** Merged over the red.js-like defaults below. */
    settings?: Partial<Settings>;
    layout?: Layout;
    port?: number;
    host?: string;
    /**
     * Which Node-RED: a path that `require.resolve` takes (a package directory or its main file), or a
     * directory to resolve `node-red` from. Default: PRINT_EVENTS_NODE_RED, else this checkout's `node-red`.
     */
    nodeRed?: string;
    /** Wait this long for the stored flows to start (kept flows with a missing type never start). */
    flowsStartTimeoutMs?: number;
}

export interface FlowNode { id: string; type: string; credentials?: Record<string, unknown>; [key: string]: unknown }

export interface EmbeddedNodeRed {
    RED: NodeRedApp;
    /** The root app (undefined in `node-only`). */
    app?: Express;
    server: http.Server;
    port: number;
    /** http://host:port/ with a trailing slash: editor and httpNode routes both live under it. */
    baseUrl: string;
    settings: Settings;
    nodeRedVersion: string;
    /** Resolves on the next `flows:started` (rejects after `timeoutMs`). */
    nextFlowsStarted(timeoutMs?: number): Promise<void>;
    /** A full deploy through the runtime API (credentials inline, as the editor posts them); resolves once started. */
    deploy(flows: FlowNode[]): Promise<void>;
    /** Layers on RED.httpNode's router: a deploy must not add any. */
    nodeRouteCount(): number;
    /** Stops the runtime and the server (every open connection is closed). */
    stop(): Promise<void>;
}

/** The main file of the Node-RED to embed (see StartOptions.nodeRed). */
export function nodeRedMain(nodeRed = process.env.PRINT_EVENTS_NODE_RED): string {
    if (!nodeRed) { return require.resolve('node-red'); }
    try { return require.resolve(nodeRed); } catch { return require.resolve('node-red', { paths: [nodeRed] }); }
}

/** A module from Node-RED's own dependency tree (express, @node-red/registry), as red.js gets it. */
export function fromNodeRed<T = unknown>(name: string, main = nodeRedMain()): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve(name, { paths: [path.dirname(main)] })) as T;
}

function versionOf(main: string): string {
    let dir = path.dirname(main);
    for (let i = 0; i < 4; i++) {
        const file = path.join(dir, 'package.json');
        if (fs.existsSync(file)) {
            const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
            if (pkg.name === 'node-red' && pkg.version) { return pkg.version; }
        }
        dir = path.dirname(dir);
    }
    return 'unknown';
}

/** Listens on port/host; rejects with the server's error (EADDRINUSE) instead of throwing it later. */
export function listen(server: http.Server | import('net').Server, port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const onError = (err: Error): void => { server.removeListener('listening', onListening); reject(err); };
        const onListening = (): void => { server.removeListener('error', onError); resolve((server.address() as AddressInfo).port); };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
    });
}

export async function startNodeRed(options: StartOptions): Promise<EmbeddedNodeRed> {
    const { userDir, layout = 'stock', port = 0, host = '127.0.0.1' } = options;
    const main = nodeRedMain(options.nodeRed);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const RED = require(main) as NodeRedApp;
    const app = layout === 'node-only' ? undefined : fromNodeRed<() => Express>('express', main)();
    const server = http.createServer(app ?? ((req, res) => {
        (RED.httpNode as unknown as (q: http.IncomingMessage, s: http.ServerResponse, next: () => void) => void)(req, res, () => {
            res.statusCode = 404;
            res.end('Not found');
        });
    }));
    const settings: Settings = {
        userDir,
        flowFile: 'flows.json',
        uiHost: host,
        uiPort: port,
        httpAdminRoot: layout === 'node-only' ? false : '/',
        httpNodeRoot: '/',
        telemetry: { enabled: false, updateNotification: false },
        editorTheme: { tours: false, projects: { enabled: false } },
        functionExternalModules: false,
        ...options.settings
    };
    // @types/node-red (1.3) lacks settings of 4.x and 5.x (editorTheme.tours, logging handlers, ...).
    RED.init(server, settings as unknown as LocalSettings);
    if (app) {
        app.use(String(settings.httpAdminRoot), RED.httpAdmin);
        if (layout === 'stock') { app.use(String(settings.httpNodeRoot), RED.httpNode); }
    }

    const nextFlowsStarted = (timeoutMs = 60000): Promise<void> => new Promise((resolve, reject) => {
        const onStarted = (): void => { clearTimeout(timer); resolve(); };
        const timer = setTimeout(() => {
            RED.events.removeListener('flows:started', onStarted);
            reject(new Error(`Node-RED did not start the flows within ${timeoutMs} ms`));
        }, timeoutMs);
        RED.events.once('flows:started', onStarted);
    });

    const actualPort = await listen(server, port, host);
    // RED.start() resolves before the stored flows are loaded and started; a deploy before that would race
    // the load (which replaces the credential cache), so wait for the first start too.
    const firstStart = nextFlowsStarted(options.flowsStartTimeoutMs ?? 60000);
    firstStart.catch(() => undefined);
    await RED.start();
    if (options.flowsStartTimeoutMs !== undefined) {
        await firstStart.catch(() => undefined); // kept flows with a missing type: go on without them
    } else {
        await firstStart;
    }
    const browserHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const baseUrl = `http://${browserHost.includes(':') ? `[${browserHost}]` : browserHost}:${actualPort}/`;

    return {
        RED,
        app,
        server,
        port: actualPort,
        baseUrl,
        settings,
        nodeRedVersion: versionOf(main),
        nextFlowsStarted,
        async deploy(flows: FlowNode[]): Promise<void> {
            // The runtime API takes credentials as a separate map by node id (the editor posts them inline).
            const credentials: Record<string, unknown> = {};
            const plain = flows.map(({ credentials: creds, ...rest }) => {
                if (creds) { credentials[rest.id] = creds; }
                return rest;
            });
            const started = nextFlowsStarted();
            const runtimeApi = (RED as unknown as { runtime: { flows: { setFlows(o: unknown): Promise<unknown> } } }).runtime;
            await runtimeApi.flows.setFlows({ flows: { flows: plain, credentials }, deploymentType: 'full' });
            await started; // setFlows resolves once the old nodes stopped; the new ones start after that
        },
        nodeRouteCount(): number {
            // Express 4 creates `_router` on the first route and its `app.router` getter throws; Express 5 has `router`.
            const nodeApp = RED.httpNode as unknown as { _router?: { stack: unknown[] }; router?: { stack: unknown[] } };
            let router = nodeApp._router;
            if (!router) { try { router = nodeApp.router; } catch { router = undefined; } }
            return router && Array.isArray(router.stack) ? router.stack.length : 0;
        },
        async stop(): Promise<void> {
            await RED.stop();
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    };
}
