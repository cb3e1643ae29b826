// Runs the PrintFactory simulator in its own process, so that on a 2-core machine the
// sender does not share the event loop it is measuring. Driven over IPC by sim-client.ts.
import path from 'path';

interface Request { id: number; cmd: string; args?: any }

// eslint-disable-next-line @typescript-eslint/no-require-imports
const simModule = require(path.join(__dirname, '..', 'simulators', 'printfactory'));
const PrintFactorySimulator = simModule.PrintFactorySimulator || simModule.default || simModule;

let sim: any = null;

async function handle(req: Request): Promise<unknown> {
    switch (req.cmd) {
        case 'start':
            sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: req.args.misKeys });
            sim.on('connection', (misKey: string) => process.send?.({ event: 'connection', misKey }));
            sim.on('rejected', (reason: string) => process.send?.({ event: 'rejected', reason }));
            await sim.start();
            return { url: sim.url };
        case 'blast': {
            const started = Date.now();
            await sim.blast(req.args.count);
            return { writeMs: Date.now() - started };
        }
        case 'dropAll':
            sim.dropAll();
            return null;
        case 'connectionCount':
            return sim.connectionCount;
        case 'peakConnections':
            return sim.peakConnections ?? null;
        case 'stop':
            await sim.stop();
            return null;
        default:
            throw new Error(`unknown command ${req.cmd}`);
    }
}

process.on('message', (req: Request) => {
    handle(req).then(
        (result) => process.send?.({ id: req.id, result }),
        (err: Error) => process.send?.({ id: req.id, error: err.message }));
});
process.on('disconnect', () => process.exit(0));
