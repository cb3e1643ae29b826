#!/usr/bin/env node
// `npx print-events-simulators` (the package's bin): both vendor simulators with the demo settings the
// examples expect, for a palette install where `npm run sim:*` does not exist (no clone, no scripts/).
//   PrintFactory: ws://127.0.0.1:27489, MisKey demo-mis-key, one notification every 2 s
//   Durst:        http://127.0.0.1:8090, API login workflow / workflow-sim-password (DURST_SIM_LOGIN, as Durst wants
//                 a login), one event every 3 s, callbacks to the hostUri of each
//                 registered subscriber (the examples leave hostUri empty: the Node-RED that registers them)
// Runs until SIGINT/SIGTERM.
import { PrintFactorySimulator } from './printfactory/index';
import { DURST_SIM_LOGIN, DurstSimulator } from './durst/index';

export const DEMO = Object.freeze({ pfPort: 27489, durstPort: 8090, misKey: 'demo-mis-key', pfTrickleMs: 2000, durstTrickleMs: 3000 });

const USAGE = `usage: print-events-simulators [--host 127.0.0.1] [--pf-port ${DEMO.pfPort}] [--durst-port ${DEMO.durstPort}] [--quiet]
Starts the PrintFactory and Durst Workflow simulators with the settings the package's examples use
(MisKey ${DEMO.misKey}; Durst API login ${DURST_SIM_LOGIN.user} / ${DURST_SIM_LOGIN.password}) and a steady trickle of
events. Ctrl+C stops both.
`;

interface Options { host: string; pfPort: number; durstPort: number; quiet: boolean }

function parse(argv: string[]): Options {
    const out: Options = { host: '127.0.0.1', pfPort: DEMO.pfPort, durstPort: DEMO.durstPort, quiet: false };
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
        const value = (): string => {
            const v = inline ?? argv[++i];
            if (v === undefined) { throw new Error(`${flag} needs a value`); }
            return v;
        };
        const port = (): number => {
            const n = Number(value());
            if (!Number.isInteger(n) || n < 0 || n > 65535) { throw new Error(`${flag} must be 0..65535`); }
            return n;
        };
        switch (flag) {
            case '--host': out.host = value(); break;
            case '--pf-port': out.pfPort = port(); break;
            case '--durst-port': out.durstPort = port(); break;
            case '--quiet': out.quiet = true; break;
            default: throw new Error(`unknown option ${argv[i]}`);
        }
    }
    return out;
}

async function main(): Promise<void> {
    const argv = process.argv.slice(2);
    if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(USAGE); return; }
    let opts: Options;
    try { opts = parse(argv); } catch (err) {
        process.stderr.write(`print-events-simulators: ${(err as Error).message}\n${USAGE}`);
        process.exit(2);
    }
    const pf = new PrintFactorySimulator({ port: opts.pfPort, host: opts.host, misKeys: [DEMO.misKey] });
    // No API login: the examples (apiAuth none) run against it as imported; the demo and the tests log in.
    // The login the examples carry (the simulator's published one): Durst wants a login, so the examples show one.
    const durst = new DurstSimulator({ port: opts.durstPort, host: opts.host, apiAuth: { type: 'login', ...DURST_SIM_LOGIN } });
    const started: Array<{ stop(): Promise<void> }> = [];
    const stopAll = (): Promise<unknown> => Promise.allSettled(started.map((sim) => sim.stop()));
    for (const [name, sim, port] of [['PrintFactory', pf, opts.pfPort], ['Durst', durst, opts.durstPort]] as const) {
        try {
            await sim.start();
            started.push(sim);
        } catch (err) {
            const e = err as NodeJS.ErrnoException;
            process.stderr.write(`print-events-simulators: the ${name} simulator cannot listen on ${opts.host}:${port}: ` +
                `${e.code === 'EADDRINUSE' ? 'the port is in use (are the simulators already running?)' : e.message}\n`);
            await stopAll();
            process.exit(1);
        }
    }
    pf.startTrickle(DEMO.pfTrickleMs);
    durst.startTrickle(DEMO.durstTrickleMs);
    if (!opts.quiet) {
        pf.on('connection', () => console.log(`PrintFactory: client connected (${pf.connectionCount} open)`));
        pf.on('rejected', (reason: string) => console.log(`PrintFactory: handshake rejected (${reason === 'auth' ? `MisKey is not ${DEMO.misKey}` : reason})`));
        durst.on('delivery', (d: { topic: string; url: string; status?: number; error?: string }) => {
            if (!d.status || d.status >= 300) { console.log(`Durst: callback ${d.topic} -> ${d.url}: ${d.status || d.error}`); }
        });
    }
    console.log([
        `PrintFactory simulator: ${pf.url}  (MisKey ${DEMO.misKey}, a notification every ${DEMO.pfTrickleMs / 1000} s)`,
        `Durst Workflow simulator: ${durst.url}  (API login ${DURST_SIM_LOGIN.user} / ${DURST_SIM_LOGIN.password}, an event every ${DEMO.durstTrickleMs / 1000} s)`,
        'Import the examples (Menu > Import > Examples > node-red-contrib-print-events) and deploy. Ctrl+C stops.'
    ].join('\n'));
    let stopping = false;
    const stop = (): void => {
        if (stopping) { process.exit(130); }
        stopping = true;
        pf.stopTrickle();
        durst.stopTrickle();
        stopAll().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
}

if (require.main === module) { void main(); }
