#!/usr/bin/env node
// `npm run sim:printfactory -- --port 27489 --mis-key demo-mis-key --trickle 2000`
// Runs the PrintFactory notification simulator (and its REST API on the same port) until SIGINT/SIGTERM.
import { PrintFactorySimulator, SECOND_CONNECTION_MODES, SecondConnectionMode, TrickleMode } from './index';
import { failUsage, msOption, portOption, readArgs } from '../cli-args';

const USAGE = 'usage: node dist/simulators/printfactory/cli.js [--port 27489] [--host 127.0.0.1] ' +
    '[--mis-key demo-mis-key]... [--trickle <ms>, 0 = off] [--trickle-mode floor|examples] ' +
    '[--second-connection refuse|lastWins|split] [--api-latency <ms>] [--device-array (device status answers wrapped in an array)]\n';

const OPTIONS = {
    port: { type: 'string' }, host: { type: 'string' }, 'mis-key': { type: 'string', multiple: true }, trickle: { type: 'string' },
    'trickle-mode': { type: 'string' }, 'second-connection': { type: 'string' }, 'api-latency': { type: 'string' }, 'device-array': { type: 'boolean' }
} as const;

interface CliOptions {
    port: number; host: string; misKeys: string[]; trickle: number; trickleMode: TrickleMode; secondConnection: SecondConnectionMode;
    apiLatency: number; deviceArray: boolean;
}

function parse(argv: string[]): CliOptions {
    const args = readArgs(argv, OPTIONS, USAGE, 'printfactory simulator');
    const out: CliOptions = {
        port: portOption(args.port, 27489, 'port'),
        host: args.host ?? '127.0.0.1',
        misKeys: args['mis-key'] ?? [],
        trickle: msOption(args.trickle, 2000, 'trickle'),
        trickleMode: (args['trickle-mode'] ?? 'floor') as TrickleMode,
        secondConnection: (args['second-connection'] ?? 'refuse') as SecondConnectionMode,
        apiLatency: msOption(args['api-latency'], 0, 'api-latency'),
        deviceArray: args['device-array'] === true
    };
    if (out.trickleMode !== 'floor' && out.trickleMode !== 'examples') { throw new Error('--trickle-mode must be floor or examples'); }
    if (!SECOND_CONNECTION_MODES.includes(out.secondConnection)) { throw new Error(`--second-connection must be ${SECOND_CONNECTION_MODES.join(', ')}`); }
    if (out.misKeys.length === 0) { out.misKeys.push('demo-mis-key'); }
    return out;
}

async function main(): Promise<void> {
    let opts: CliOptions;
    try { opts = parse(process.argv.slice(2)); } catch (err) { failUsage('printfactory simulator', err, USAGE); }
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
