#!/usr/bin/env node
// `npx print-events-simulators` (the package's bin): both vendor simulators with the demo settings the
// examples expect, for a palette install where `npm run sim:*` does not exist (no clone, no scripts/).
//   PrintFactory: ws://127.0.0.1:27489, MisKey demo-mis-key, one notification every 2 s
//   Durst:        http://127.0.0.1:8090, API login workflow / workflow-sim-password (DURST_SIM_LOGIN, as Durst wants
//                 a login), one event every 3 s, callbacks to the hostUri of each
//                 registered subscriber (the examples leave hostUri empty: the Node-RED that registers them)
//   MQTT broker:  mqtt://127.0.0.1:1883 (Aedes), the `local broker` of examples 05 and 07; a port already in use is
//                 taken for a broker that runs there (one line says so), --no-mqtt starts none
// Runs until SIGINT/SIGTERM.
import { PrintFactorySimulator } from './printfactory/index';
import { DURST_SIM_LOGIN, DurstSimulator } from './durst/index';
import { failUsage, msOption, portOption, readArgs } from './cli-args';
import { MQTT_PORT, startMqttBroker, type MqttBroker } from './mqtt-broker';

export const DEMO = Object.freeze({ pfPort: 27489, durstPort: 8090, misKey: 'demo-mis-key', pfTrickleMs: 2000, durstTrickleMs: 3000 });

const USAGE = `usage: print-events-simulators [--host 127.0.0.1] [--pf-port ${DEMO.pfPort}] [--durst-port ${DEMO.durstPort}]
                              [--mqtt-port ${MQTT_PORT} | --no-mqtt] [--pf-gap-after <ms>] [--quiet]
Starts the PrintFactory and Durst Workflow simulators with the settings the package's examples use
(MisKey ${DEMO.misKey}; Durst API login ${DURST_SIM_LOGIN.user} / ${DURST_SIM_LOGIN.password}) and a steady trickle of
events, and an MQTT broker for examples 05 and 07 (if --mqtt-port is in use, the broker listening there is used;
--no-mqtt starts none). --pf-gap-after <ms>: drop the PrintFactory connections once, this long after the first
client connected, so example 07 shows a gap and its re-sync. Ctrl+C stops all.
`;

interface Options { host: string; pfPort: number; durstPort: number; mqttPort: number | null; pfGapAfterMs: number; quiet: boolean }

const OPTIONS = {
    host: { type: 'string' }, 'pf-port': { type: 'string' }, 'durst-port': { type: 'string' },
    'mqtt-port': { type: 'string' }, 'no-mqtt': { type: 'boolean' }, 'pf-gap-after': { type: 'string' }, quiet: { type: 'boolean' }
} as const;

function parse(argv: string[]): Options {
    const args = readArgs(argv, OPTIONS, USAGE, 'print-events-simulators');
    return {
        host: args.host ?? '127.0.0.1',
        pfPort: portOption(args['pf-port'], DEMO.pfPort, 'pf-port'),
        durstPort: portOption(args['durst-port'], DEMO.durstPort, 'durst-port'),
        mqttPort: args['no-mqtt'] ? mqttOff(args['mqtt-port']) : portOption(args['mqtt-port'], MQTT_PORT, 'mqtt-port'),
        pfGapAfterMs: msOption(args['pf-gap-after'], 0, 'pf-gap-after'),
        quiet: args.quiet === true
    };
}

function mqttOff(port: string | undefined): null {
    if (port !== undefined) { throw new Error('--mqtt-port and --no-mqtt exclude each other'); }
    return null;
}

/**
 * The examples' broker. A port in use is most likely a broker already running there (Mosquitto, another demo):
 * the examples then use that one, and this says so in one line instead of failing.
 */
async function startBroker(host: string, port: number): Promise<{ broker: MqttBroker | null; line: string }> {
    try {
        const broker = await startMqttBroker({ host, port });
        return { broker, line: `MQTT broker: ${broker.url}  (examples 05 and 07)` };
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') { throw err; }
        return { broker: null, line: `MQTT broker: ${host}:${port} is already in use: examples 05 and 07 use the broker that listens there (--mqtt-port or --no-mqtt to change)` };
    }
}

async function main(): Promise<void> {
    let opts: Options;
    try { opts = parse(process.argv.slice(2)); } catch (err) { failUsage('print-events-simulators', err, USAGE); }
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
    let mqttLine = 'MQTT broker: none started (--no-mqtt)';
    if (opts.mqttPort !== null) {
        try {
            const { broker, line } = await startBroker(opts.host, opts.mqttPort);
            if (broker) { started.push(broker); }
            mqttLine = line;
        } catch (err) {
            process.stderr.write(`print-events-simulators: the MQTT broker cannot start on ${opts.host}:${opts.mqttPort}: ${(err as Error).message}\n`);
            await stopAll();
            process.exit(1);
        }
    }
    pf.startTrickle(DEMO.pfTrickleMs);
    let gapTimer: NodeJS.Timeout | undefined;
    if (opts.pfGapAfterMs > 0) {
        pf.once('connection', () => {
            gapTimer = setTimeout(() => { console.log('PrintFactory: dropping every connection once (--pf-gap-after): a gap for example 07'); pf.dropAll(); }, opts.pfGapAfterMs);
        });
    }
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
        mqttLine,
        'Import the examples (Menu > Import > Examples > node-red-contrib-print-events) and deploy. Ctrl+C stops.'
    ].join('\n'));
    let stopping = false;
    const stop = (): void => {
        if (stopping) { process.exit(130); }
        stopping = true;
        pf.stopTrickle();
        durst.stopTrickle();
        if (gapTimer) { clearTimeout(gapTimer); }
        stopAll().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
}

if (require.main === module) { void main(); }
