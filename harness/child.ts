// A Node-RED process for the real-process tests (test/lib/stock-node-red.js) and the package check
// (scripts/check-package.js): startNodeRed() in a child, told what to do through its environment, reporting
// over IPC.
//   USER_DIR, PORT (0 = ephemeral), LAYOUT (default stock), SETTINGS (JSON merged over the harness defaults),
//   PRINT_EVENTS_NODE_RED (which Node-RED).
// IPC: sends { port, nodeRed } once the flows started; answers { cmd: 'state', seq } with what the process saw
// (msgs recorded by test-recorder nodes, node statuses, log lines, router layer counts) and
// { cmd: 'moduleInfo', seq, module } with where the registry loaded a module from. SIGTERM stops it cleanly.
import path from 'path';
import { startNodeRed, fromNodeRed, nodeRedMain, type Layout } from './node-red';

interface LogLine { level: number; type?: string; id?: string; msg: string }
const statuses: { id: string; status: unknown }[] = [];
const logs: LogLine[] = [];
const RECORDED_MSGS = Symbol.for('print-events.test.recorded-msgs');

async function main(): Promise<void> {
    const extra = JSON.parse(process.env.SETTINGS || '{}') as Record<string, unknown>;
    const settings = {
        credentialSecret: false,
        logging: {
            console: { level: 'warn' },
            test: {
                level: 'warn', metrics: false, audit: false,
                handler: () => (entry: { level: number; type?: string; id?: string; msg?: unknown }) => {
                    if (logs.length < 20000) {
                        const msg = entry.msg as { stack?: string } | undefined;
                        logs.push({ level: entry.level, type: entry.type, id: entry.id, msg: String(msg?.stack || entry.msg) });
                    }
                }
            }
        },
        ...extra
    };
    const nr = await startNodeRed({
        userDir: String(process.env.USER_DIR),
        port: Number(process.env.PORT || 0),
        layout: (process.env.LAYOUT || 'stock') as Layout,
        settings
    });
    nr.RED.events.on('node-status', (event: { id: string; status: unknown }) => {
        if (statuses.length < 50000) { statuses.push({ id: event.id, status: event.status }); }
    });
    process.on('message', (m: { cmd?: string; seq?: number; module?: string }) => {
        if (m?.cmd === 'state') {
            const msgs = (globalThis as Record<symbol, unknown>)[RECORDED_MSGS] || [];
            const rootRouter = (nr.app as unknown as { _router?: { stack: unknown[] } } | undefined)?._router;
            process.send?.({ reply: m.seq, msgs, statuses, logs, rootLayers: rootRouter?.stack.length ?? 0, nodeLayers: nr.nodeRouteCount() });
        } else if (m?.cmd === 'moduleInfo') {
            const registry = fromNodeRed<{ getModuleInfo(name: string): { path?: string } | null }>('@node-red/registry');
            const info = registry.getModuleInfo(String(m.module));
            process.send?.({ reply: m.seq, path: info?.path ?? null });
        }
    });
    process.on('SIGTERM', () => { nr.stop().then(() => process.exit(0), () => process.exit(1)); });
    process.send?.({ port: nr.port, nodeRed: nr.nodeRedVersion, nodeRedDir: path.dirname(nodeRedMain()) });
}

main().catch((err: Error) => {
    console.error(err?.stack || String(err));
    process.exit(1);
});
