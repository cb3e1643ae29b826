#!/usr/bin/env node
// `npm run sim:printfactory -- --port 27489 --mis-key demo-mis-key --trickle 2000`
// Runs the PrintFactory notification simulator (and its REST API on the same port) until SIGINT/SIGTERM.
import { PrintFactorySimulator, SECOND_CONNECTION_MODES, SecondConnectionMode, TrickleMode } from './index';

function usage(): string {
    return 'usage: node dist/simulators/printfactory/cli.js [--port 27489] [--host 127.0.0.1] ' +
        '[--mis-key demo-mis-key]... [--trickle <ms>, 0 = off] [--trickle-mode floor|examples] ' +
        '[--second-connection refuse|lastWins|split] [--api-latency <ms>] [--device-array (device status answers wrapped in an array)]';
}

interface CliOptions {
    port: number; host: string; misKeys: string[]; trickle: number; trickleMode: TrickleMode; secondConnection: SecondConnectionMode;
    apiLatency: number; deviceArray: boolean;
}

function parse(argv: string[]): CliOptions {
    const out: CliOptions = {
        port: 27489, host: '127.0.0.1', misKeys: [], trickle: 2000, trickleMode: 'floor', secondConnection: 'refuse', apiLatency: 0, deviceArray: false
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
        const value = (): string => {
            const v = inline ?? argv[++i];
            if (v === undefined) { throw new Error(`${flag} needs a value`); }
            return v;
        };
        switch (flag) {
            case '--port': out.port = Number(value()); break;
            case '--host': out.host = value(); break;
            case '--mis-key': out.misKeys.push(value()); break;
            case '--trickle': out.trickle = Number(value()); break;
            case '--trickle-mode': out.trickleMode = value() as TrickleMode; break;
            case '--second-connection': out.secondConnection = value() as SecondConnectionMode; break;
            case '--api-latency': out.apiLatency = Number(value()); break;
            case '--device-array': out.deviceArray = true; break;
            case '--help': case '-h': console.log(usage()); process.exit(0); break;
            default: throw new Error(`unknown option ${arg}`);
        }
    }
    if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) { throw new Error('--port must be 0..65535'); }
    if (!Number.isFinite(out.trickle) || out.trickle < 0) { throw new Error('--trickle must be a number of milliseconds >= 0'); }
    if (!Number.isFinite(out.apiLatency) || out.apiLatency < 0) { throw new Error('--api-latency must be a number of milliseconds >= 0'); }
    if (out.trickleMode !== 'floor' && out.trickleMode !== 'examples') { throw new Error('--trickle-mode must be floor or examples'); }
    if (!SECOND_CONNECTION_MODES.includes(out.secondConnection)) { throw new Error(`--second-connection must be ${SECOND_CONNECTION_MODES.join(', ')}`); }
    if (out.misKeys.length === 0) { out.misKeys.push('demo-mis-key'); }
    return out;
}

async function main(): Promise<void> {
    let opts;
    try { opts = parse(process.argv.slice(2)); } catch (err) {
        console.error(`printfactory simulator: ${(err as Error).message}\n${usage()}`);
        process.exit(2);
    }
    const sim = new PrintFactorySimulator({ port: opts.port, host: opts.host, misKeys: opts.misKeys, secondConnection: opts.secondConnection });
    sim.api.latencyMs = opts.apiLatency;
    sim.api.deviceAnswerAsArray = opts.deviceArray;
    try { await sim.start(); } catch (err) {
        const e = err as NodeJS.ErrnoException;
        console.error(`printfactory simulator: cannot listen on ${opts.host}:${opts.port}: ${e.code === 'EADDRINUSE' ? 'port in use' : e.message}`);
        process.exit(1);
    }
    sim.on('connection', () => console.log(`client connected (${sim.connectionCount} open)`));
    sim.on('disconnection', () => console.log(`client disconnected (${sim.connectionCount} open)`));
    sim.on('rejected', (reason: string) => console.log(`handshake rejected: ${reason}`));
    sim.on('displaced', () => console.log('older connection closed: a newer one of the same MisKey opened (lastWins)'));
    if (opts.trickle > 0) { sim.startTrickle(opts.trickle, opts.trickleMode); }
    console.log(`PrintFactory simulator listening on ${sim.url} (${opts.misKeys.length} MisKey(s) accepted` +
        `${opts.trickle > 0 ? `, one notification every ${opts.trickle} ms` : ''}); REST API on ${sim.apiUrl}/api/v2/`);
    let stopping = false;
    const stop = (signal: string): void => {
        if (stopping) { process.exit(130); }
        stopping = true;
        console.log(`${signal}: stopping`);
        sim.stop().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
}

main();
