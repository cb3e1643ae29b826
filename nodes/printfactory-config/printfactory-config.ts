// printfactory-config: one PrintFactory Cloud account (URL + MisKey) and the single WebSocket
// that every printfactory-notification node using it shares (see ../lib/printfactory/connection.ts).
import type { NodeAPI, Node, NodeDef } from 'node-red';
import {
    ConnectionTimings, ConnectionUser, DEFAULT_TIMINGS, PrintFactoryConnection, normalMisKey, shareConnection
} from '../lib/printfactory/connection';
import type { Problem } from '../lib/printfactory/problems';
import { testConnection } from '../lib/printfactory/connection-test';
import { adminPost, AdminError } from '../lib/admin-routes';
import { editorSecrets } from '../lib/editor-secrets';
import { tlsOptionsFor } from '../lib/net/tls';
import { DEFAULT_TAKEOVER_MS, leaseOnBrokerNode } from '../lib/printfactory/lease';
import { DEFAULT_API_URL } from '../lib/printfactory/rest-client';
import { registerTwinsRoute } from '../lib/twins';

const DEFAULT_URL = 'wss://notification.aurelon.com:27489';

interface PrintFactoryConfigDef extends NodeDef {
    url: string;
    /** REST API base URL for printfactory-api (same MisKey, proxy policy and tls-config). */
    apiUrl?: string;
    /** Optional id of a core tls-config node (CA, client certificate, verify) for wss:// and the REST API. */
    tls?: string;
    // Advanced, in seconds (decimals allowed): heartbeat, handshake timeout, backoff, auth retry.
    pingInterval?: number | string;
    handshakeTimeout?: number | string;
    reconnectMin?: number | string;
    reconnectMax?: number | string;
    stableAfter?: number | string;
    authRetry?: number | string;
    /** Optional id of a core mqtt-broker config node: the HA lease among instances with this MisKey (lib/printfactory/lease.ts). */
    haBroker?: string;
    /** Seconds within which a standby takes over from a dead holder. */
    haTakeover?: number | string;
}

interface PrintFactoryCredentials { misKey?: string }

interface PrintFactoryConfigNode extends Node<PrintFactoryCredentials> {
    url: string;
    /** For printfactory-api: the REST base URL and the tls-config id (each api node opens its own client). */
    apiUrl: string;
    tlsId?: string;
    connection: PrintFactoryConnection;
    register(user: ConnectionUser): void;
    deregister(user: ConnectionUser): Promise<void>;
    problemText(problem: Problem): string;
}

function seconds(value: unknown, fallbackMs: number): number {
    const n = typeof value === 'string' ? Number(value.trim()) : value;
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : fallbackMs;
}

function timingsFrom(config: Partial<PrintFactoryConfigDef>): ConnectionTimings {
    const reconnectMinMs = seconds(config.reconnectMin, DEFAULT_TIMINGS.reconnectMinMs);
    return {
        pingIntervalMs: seconds(config.pingInterval, DEFAULT_TIMINGS.pingIntervalMs),
        handshakeTimeoutMs: seconds(config.handshakeTimeout, DEFAULT_TIMINGS.handshakeTimeoutMs),
        reconnectMinMs,
        reconnectMaxMs: Math.max(reconnectMinMs, seconds(config.reconnectMax, DEFAULT_TIMINGS.reconnectMaxMs)),
        stableAfterMs: seconds(config.stableAfter, DEFAULT_TIMINGS.stableAfterMs),
        authRetryMs: seconds(config.authRetry, DEFAULT_TIMINGS.authRetryMs),
        closeTimeoutMs: DEFAULT_TIMINGS.closeTimeoutMs
    };
}

export = function (RED: NodeAPI): void {
    function PrintFactoryConfig(this: PrintFactoryConfigNode, config: PrintFactoryConfigDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        node.url = String(config.url ?? '').trim() || DEFAULT_URL;
        node.apiUrl = String(config.apiUrl ?? '').trim() || DEFAULT_API_URL;
        node.tlsId = config.tls;
        const tls = tlsOptionsFor(RED, config.tls);
        if (tls.error) { node.error(tls.error); }
        const timings = timingsFrom(config);
        const misKey = node.credentials?.misKey ?? '';
        const logger = { log: (text: string) => node.log(text), warn: (text: string) => node.warn(text) };
        const haBroker = String(config.haBroker ?? '').trim();
        const takeoverMs = seconds(config.haTakeover, DEFAULT_TAKEOVER_MS);
        // Twins (same URL, MisKey, TLS node, timings and HA lease, e.g. one per imported example) share one connection.
        const share = shareConnection(node, {
            url: node.url,
            misKey,
            tlsOptions: tls.options,
            setupError: tls.error,
            label: config.name ? `"${config.name}" (${node.id})` : node.id,
            timings,
            logger,
            // With haBroker the lease on that broker decides whether this instance may connect at all.
            gate: haBroker ? () => leaseOnBrokerNode(RED.nodes.getNode(haBroker), haBroker, { misKey, takeoverMs, logger }) : undefined
        }, JSON.stringify([config.tls ?? '', timings, haBroker, haBroker ? takeoverMs : 0]));
        node.connection = share.connection;
        node.register = (user) => share.register(user);
        // Status causes in words for the notification nodes: this catalogue, which Test connection uses too.
        node.problemText = (problem) => RED._(`printfactory-config.cause.${problem.code}`,
            { status: problem.statusCode ?? '', detail: problem.detail ?? '' });
        node.deregister = (user) => share.deregister(user);

        node.on('close', (_removed: boolean, done: () => void) => {
            // Awaiting 'close' of the socket here is what keeps a redeploy from overlapping two sockets.
            share.close().then(() => done(), () => done());
        });
    }

    RED.nodes.registerType<PrintFactoryConfigNode, PrintFactoryConfigDef, unknown, PrintFactoryCredentials>('printfactory-config', PrintFactoryConfig, {
        credentials: { misKey: { type: 'password' } }
    });
    // The editor's twin finder asks which printfactory-configs carry the same MisKey (../lib/twins.ts).
    registerTwinsRoute(RED, 'printfactory-config', ['misKey']);

    // Editor "Test connection" (../lib/printfactory/connection-test.ts: what it tries, the codes it answers). Which
    // MisKey it may use (a stored one only with the deployed URL, `${VAR}` resolved) is ../lib/editor-secrets.ts.
    adminPost(RED, '/print-events/printfactory/test', 'printfactory-config.write', (req) => {
        const body = (req.body ?? {}) as { id?: unknown; url?: unknown; misKey?: unknown; tls?: unknown };
        const secrets = editorSecrets(RED, {
            type: 'printfactory-config',
            id: body.id,
            url: String(body.url ?? '').trim() || DEFAULT_URL,
            deployedUrl: (deployed) => (deployed as PrintFactoryConfigNode).url,
            // An emptied field means "not entered": the stored MisKey, if it may be used.
            form: { misKey: body.misKey === '' ? undefined : body.misKey },
            fields: ['misKey']
        });
        if (!secrets.ok) { throw new AdminError(400, secrets.code, secrets.error, { error: secrets.error }); }
        const url = secrets.url;
        if (!/^wss?:\/\/[^/]+/i.test(url)) { throw new AdminError(400, 'urlScheme', 'url must start with ws:// or wss://'); }
        // Trimmed as the connection sends it (the server trims it too).
        const misKey = normalMisKey(secrets.credentials.misKey);
        if (!misKey) { throw new AdminError(400, 'misKeyRequired', 'no MisKey: enter one, or deploy the node first'); }
        // The tls-config node chosen in the form; it must be deployed, like the core nodes' config nodes.
        const tls = tlsOptionsFor(RED, body.tls);
        if (tls.error) { throw new AdminError(400, 'invalid', tls.error, { error: tls.error }); }
        return testConnection(url, misKey, tls.options);
    });
};
