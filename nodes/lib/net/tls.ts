// TLS options from Node-RED's core `tls-config` node (CA, client certificate and key, passphrase, verify server
// certificate, server name), the way the core WebSocket, MQTT and HTTP request nodes use it:
// RED.nodes.getNode(config.tls).addTLSOptions(options).
import type { NodeAPI } from 'node-red';

export interface TlsOptions {
    ca?: string | Buffer | Array<string | Buffer>;
    cert?: string | Buffer;
    key?: string | Buffer;
    passphrase?: string;
    rejectUnauthorized?: boolean;
    servername?: string;
    ALPNProtocols?: string[];
}

interface TlsConfigNode {
    valid?: boolean;
    addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}

export type TlsLookup = { options?: TlsOptions; error?: string };

/**
 * The TLS options of the tls-config node `tlsId`. No id: no options (Node's defaults: system CAs, verify).
 * An id that is not deployed, or a tls-config node whose files could not be read, is an error: connecting
 * without the configured CA or client certificate would fail later with a less clear message.
 */
export function tlsOptionsFor(RED: NodeAPI, tlsId: unknown): TlsLookup {
    if (typeof tlsId !== 'string' || tlsId.trim() === '' || tlsId === '_ADD_') { return {}; }
    const tlsNode = RED.nodes.getNode(tlsId.trim()) as unknown as TlsConfigNode | null;
    if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') {
        return { error: `TLS configuration ${tlsId} is not deployed (deploy it first)` };
    }
    if (tlsNode.valid === false) {
        return { error: `TLS configuration ${tlsId} is invalid (its certificate, key or CA could not be read; see the log)` };
    }
    const options: Record<string, unknown> = {};
    tlsNode.addTLSOptions(options);
    const picked: TlsOptions = {};
    for (const key of ['ca', 'cert', 'key', 'passphrase', 'servername', 'ALPNProtocols'] as const) {
        if (options[key] !== undefined) { (picked as Record<string, unknown>)[key] = options[key]; }
    }
    // tls-config leaves it undefined when "verify server certificate" was never set: keep Node's default (verify).
    if (options.rejectUnauthorized === false) { picked.rejectUnauthorized = false; }
    return { options: picked };
}
