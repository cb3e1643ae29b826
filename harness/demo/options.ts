// The demo's options, from its command line and environment (see harness/demo.ts for the list).
import path from 'path';
import { ROOT } from '../user-dir';

export interface DemoOptions {
    host: string;
    port: number;
    pfSimPort: number;
    durstSimPort: number;
    mqttPort: number;
    userDir: string;
    keepFlows: boolean;
    pfTrickleMs: number;
    durstTrickleMs: number;
    /** 0 = off: the simulator drops the PrintFactory connection this often, so tab 07 shows a gap. */
    pfDropEveryMs: number;
    logLevel: string;
    check: boolean;
    checkTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

function envInt(env: Env, name: string, fallback: number): number {
    const raw = env[name];
    if (raw === undefined || raw === '') { return fallback; }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
        throw new Error(`${name} must be an integer between 0 and 65535, got "${raw}"`);
    }
    return value;
}

function envMs(env: Env, name: string, fallback: number): number {
    const raw = env[name];
    if (raw === undefined || raw === '') { return fallback; }
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 50) {
        throw new Error(`${name} must be a number of milliseconds (at least 50), got "${raw}"`);
    }
    return value;
}

const envFlag = (env: Env, name: string): boolean => /^(1|true|yes|on)$/i.test(env[name] || '');

export function readOptions(argv: string[], env: Env): DemoOptions {
    const exitAfter = env.DEMO_EXIT_AFTER ? Number(env.DEMO_EXIT_AFTER) : undefined;
    if (exitAfter !== undefined && !(exitAfter > 0)) {
        throw new Error(`DEMO_EXIT_AFTER must be a positive number of seconds, got "${env.DEMO_EXIT_AFTER}"`);
    }
    return {
        host: env.HOST || '127.0.0.1',
        port: envInt(env, 'PORT', 1880),
        pfSimPort: envInt(env, 'PF_SIM_PORT', 27489),
        durstSimPort: envInt(env, 'DURST_SIM_PORT', 8090),
        mqttPort: envInt(env, 'MQTT_PORT', 1883),
        userDir: path.resolve(env.DEMO_USER_DIR || path.join(ROOT, '.node-red-demo')),
        keepFlows: envFlag(env, 'DEMO_KEEP_FLOWS'),
        pfTrickleMs: envMs(env, 'PF_TRICKLE_MS', 2000),
        durstTrickleMs: envMs(env, 'DURST_TRICKLE_MS', 3000),
        pfDropEveryMs: envMs(env, 'PF_DROP_EVERY_MS', 0),
        logLevel: env.NODE_RED_LOG_LEVEL || 'info',
        check: argv.includes('--check') || exitAfter !== undefined,
        checkTimeoutMs: (exitAfter || 90) * 1000
    };
}
