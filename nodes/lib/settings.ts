// What this package reads from Node-RED's settings (settings.js): one declared type, read through one function,
// instead of a cast at every use. Every value is `unknown`: settings.js is user-written, so each reader checks
// what it gets.
import type { NodeAPI } from 'node-red';

export interface PackageSettings {
    // Node-RED's own settings that the package takes into account.
    userDir?: unknown;
    credentialSecret?: unknown;
    uiPort?: unknown;
    uiHost?: unknown;
    https?: unknown;
    httpNodeRoot?: unknown;
    httpNodeMiddleware?: unknown;
    httpNodeCors?: unknown;
    apiMaxLength?: unknown;
    /** Node-RED's settings accessor (credentialSecret generated at first start lives behind it). */
    get?: (name: string) => unknown;
    // The package's own tuning (documented in docs/durst.md and docs/faults.md).
    durstApiTimeout?: unknown;
    durstApiAttempts?: unknown;
    durstApiRetryDelay?: unknown;
    durstEnsureRetryDelay?: unknown;
    durstWebhookTimeout?: unknown;
}

/** RED.settings as the package reads it (@types/node-red types it as Node-RED's own settings only). */
export function packageSettings(RED: Pick<NodeAPI, 'settings'>): PackageSettings {
    return RED.settings as unknown as PackageSettings;
}
