// printfactory-config: one PrintFactory Cloud account (URL + MisKey) and the single WebSocket
// that every printfactory-notification node using it shares (see ../lib/printfactory/connection.ts).
import type { NodeAPI, Node, NodeDef } from 'node-red';
import WebSocket from 'ws';
import {
    ConnectionTimings, ConnectionUser, DEFAULT_TIMINGS, PrintFactoryConnection, connectionHolding, shareConnection
} from '../lib/printfactory/connection';
import { answerEditorErrorsAsJson, editorSecrets, isJsonRequest, NOT_JSON_ERROR } from '../lib/editor-secrets';
import { describeProxy, proxyFor, tunnelAgent } from '../lib/net/proxy';
import { TlsOptions, tlsOptionsFor } from '../lib/net/tls';
import { DEFAULT_TAKEOVER_MS, leaseOnBrokerNode } from '../lib/printfactory/lease';
import { DEFAULT_API_URL } from '../lib/printfactory/rest-client';

const DEFAULT_URL = 'wss://notification.aurelon.com:27489';
const TEST_TIMEOUT_MS = 10000;

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

type TestResult =
    | { result: 'accepted' }
    | { result: 'rejected'; statusCode: number }
    | { result: 'busy'; statusCode: number }
    | { result: 'unreachable'; error: string }
    | { result: 'inUse'; state: string }
    | { result: 'standby'; holder: string };

/** Opens a short-lived socket with the MisKey and reports how the server answered. Never rejects. */
function testConnection(url: string, misKey: string, tlsOptions: TlsOptions | undefined): Promise<TestResult> {
    return new Promise((resolve) => {
        let settled = false;
        let statusCode = 0;
        let error = '';
        let ws: WebSocket;
        let agent: import('http').Agent | undefined;
        try {
            const target = new URL(url);
            const proxy = proxyFor(target);
            agent = proxy ? tunnelAgent(proxy, { secureTarget: target.protocol === 'wss:', keepAlive: false, connectTimeoutMs: TEST_TIMEOUT_MS }) : undefined;
            ws = new WebSocket(url, {
                headers: { MisKey: misKey },
                handshakeTimeout: TEST_TIMEOUT_MS,
                perMessageDeflate: false,
                followRedirects: false,
                agent,
                ...tlsOptions
            });
            if (proxy) { error = ` (through proxy ${describeProxy(proxy)})`; }
        } catch (err) {
            resolve({ result: 'unreachable', error: (err as Error).message });
            return;
        }
        const viaProxy = error;
        const finish = (result: TestResult): void => { if (!settled) { settled = true; resolve(result); } };
        ws.on('unexpected-response', (_req, res) => {
            statusCode = res.statusCode ?? 0;
            res.resume();
            ws.terminate();
        });
        // A proxy's own error already names it.
        ws.on('error', (err) => { error = err.message + ((err as { code?: string }).code === 'EPROXY' ? '' : viaProxy); });
        ws.on('open', () => {
            finish({ result: 'accepted' });
            // Give the organisation's single connection slot back at once.
            ws.close(1000, 'connection test');
        });
        ws.on('close', () => {
            agent?.destroy();
            if (statusCode === 401 || statusCode === 403) { finish({ result: 'rejected', statusCode }); }
            if (statusCode) { finish({ result: 'busy', statusCode }); }
            finish({ result: 'unreachable', error: error || 'closed during the handshake' });
        });
    });
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
        node.deregister = (user) => share.deregister(user);

        node.on('close', (_removed: boolean, done: () => void) => {
            // Awaiting 'close' of the socket here is what keeps a redeploy from overlapping two sockets.
            share.close().then(() => done(), () => done());
        });
    }

    RED.nodes.registerType<PrintFactoryConfigNode, PrintFactoryConfigDef, unknown, PrintFactoryCredentials>('printfactory-config', PrintFactoryConfig, {
        credentials: { misKey: { type: 'password' } }
    });

    // Editor "Test connection". The vendor allows one connection per organisation, so a test
    // while this runtime holds the account's connection is skipped (it would be refused or,
    // worse, disturb the live one); otherwise the test holds the slot for a moment only. Which MisKey
    // it may use (a stored one only with the deployed URL, `${VAR}` resolved) is ../lib/editor-secrets.ts.
    answerEditorErrorsAsJson(RED.httpAdmin);
    RED.httpAdmin.post('/print-events/printfactory/test', RED.auth.needsPermission('printfactory-config.write'), (req: any, res: any) => {
        const invalid = (error: string, code?: string) => res.status(400).json({ ok: false, result: 'invalid', error, code });
        if (!isJsonRequest(req)) { res.status(415).json({ ok: false, result: 'invalid', error: NOT_JSON_ERROR }); return; }
        try {
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
            if (!secrets.ok) { invalid(secrets.error, secrets.code); return; }
            const url = secrets.url;
            if (!/^wss?:\/\/[^/]+/i.test(url)) { invalid('url must start with ws:// or wss://'); return; }
            const misKey = secrets.credentials.misKey ?? '';
            if (!misKey) { invalid('no MisKey: enter one, or deploy the node first'); return; }
            // The organisation's one connection: report it instead of opening a second handshake.
            const holder = connectionHolding(misKey);
            if (holder) {
                const status = holder.status;
                // In HA standby another instance holds the slot: a test handshake could throw it out.
                res.json((status.state === 'standby' ? { result: 'standby', holder: status.holder ?? '?' }
                    : { result: 'inUse', state: status.state }) satisfies TestResult);
                return;
            }
            // The tls-config node chosen in the form; it must be deployed, like the core nodes' config nodes.
            const tls = tlsOptionsFor(RED, body.tls);
            if (tls.error) { invalid(tls.error); return; }
            testConnection(url, misKey, tls.options).then((result) => res.json(result), (err: Error) => {
                res.status(500).json({ ok: false, result: 'unreachable', error: err.message });
            });
        } catch (err) {
            res.status(500).json({ ok: false, result: 'unreachable', error: (err as Error).message });
        }
    });
};
