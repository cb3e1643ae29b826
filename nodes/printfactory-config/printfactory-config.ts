// printfactory-config: one PrintFactory Cloud account (URL + MisKey) and the single WebSocket
// that every printfactory-notification node using it shares (see ../lib/printfactory/connection.ts).
import type { NodeAPI, Node, NodeDef } from 'node-red';
import WebSocket from 'ws';
import {
    ConnectionStatus, ConnectionTimings, ConnectionUser, DEFAULT_TIMINGS, PrintFactoryConnection, connectionHolding, normalMisKey, shareConnection
} from '../lib/printfactory/connection';
import { Problem, problemOfError, problemOfStatus } from '../lib/printfactory/problems';
import { answerEditorErrorsAsJson, editorSecrets, isJsonRequest, NOT_JSON_ERROR } from '../lib/editor-secrets';
import { proxyFor, tunnelAgent } from '../lib/net/proxy';
import { TlsOptions, tlsOptionsFor } from '../lib/net/tls';
import { DEFAULT_TAKEOVER_MS, leaseOnBrokerNode } from '../lib/printfactory/lease';
import { DEFAULT_API_URL } from '../lib/printfactory/rest-client';
import { registerTwinsRoute } from '../lib/twins';
import type { Request, Response } from 'express';

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

/** How a test handshake ended: opened (101), or the problem (./problems.ts, the same codes as the node status). */
type Handshake = { opened: true } | { opened: false; problem: Problem };

/**
 * Opens a short-lived socket and reports how the server answered. `misKey` undefined sends none (a reachability
 * probe that cannot take the organisation's slot). Never rejects.
 */
function testHandshake(url: string, misKey: string | undefined, tlsOptions: TlsOptions | undefined): Promise<Handshake> {
    return new Promise((resolve) => {
        let settled = false;
        let statusCode = 0;
        let error: (Error & { code?: unknown }) | undefined;
        let ws: WebSocket;
        let agent: import('http').Agent | undefined;
        try {
            const target = new URL(url);
            const proxy = proxyFor(target);
            agent = proxy ? tunnelAgent(proxy, { secureTarget: target.protocol === 'wss:', keepAlive: false, connectTimeoutMs: TEST_TIMEOUT_MS }) : undefined;
            ws = new WebSocket(url, {
                headers: misKey === undefined ? {} : { MisKey: misKey },
                handshakeTimeout: TEST_TIMEOUT_MS,
                perMessageDeflate: false,
                followRedirects: false,
                agent,
                ...tlsOptions
            });
        } catch (err) {
            resolve({ opened: false, problem: problemOfError(err as Error) });
            return;
        }
        const finish = (result: Handshake): void => { if (!settled) { settled = true; resolve(result); } };
        ws.on('unexpected-response', (_req, res) => {
            statusCode = res.statusCode ?? 0;
            res.resume();
            ws.terminate();
        });
        ws.on('error', (err) => { error = err; });
        ws.on('open', () => {
            finish({ opened: true });
            // Give the organisation's single connection slot back at once.
            ws.close(1000, 'connection test');
        });
        ws.on('close', () => {
            agent?.destroy();
            if (statusCode) { finish({ opened: false, problem: problemOfStatus(statusCode) }); }
            finish({ opened: false, problem: error ? problemOfError(error) : { code: 'serverClosed' } });
        });
    });
}

/** The problem a live connection's status shows, if any (the same words as its nodes' status). */
function problemOfLive(status: ConnectionStatus): Problem | undefined {
    if (status.state === 'reconnecting') { return status.problem; }
    if (status.state === 'authFailed') { return problemOfStatus(status.statusCode); }
    return undefined;
}

/** A URL in one spelling, to compare a form's URL with a live connection's. */
function sameUrl(a: string, b: string): boolean {
    try { return new URL(a).href === new URL(b).href; } catch { return a.trim() === b.trim(); }
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

    // Editor "Test connection". The vendor allows one connection per organisation, so while this runtime holds
    // the account's connection no second handshake with the MisKey is made (it would be refused or, worse, push the
    // live one out): for the same URL the live connection's state is the answer; for another URL the URL is tried
    // without the MisKey and the answer says so. Otherwise the test holds the slot for a moment only. Every answer
    // names its outcome as `result` and its cause as `code` (./problems.ts), which the editor turns into catalogue text. Which MisKey
    // it may use (a stored one only with the deployed URL, `${VAR}` resolved) is ../lib/editor-secrets.ts.
    answerEditorErrorsAsJson(RED.httpAdmin);
    RED.httpAdmin.post('/print-events/printfactory/test', RED.auth.needsPermission('printfactory-config.write'), (req: Request, res: Response) => {
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
            // Trimmed as the connection sends it (the server trims it too).
            const misKey = normalMisKey(secrets.credentials.misKey);
            if (!misKey) { invalid('no MisKey: enter one, or deploy the node first'); return; }
            // The tls-config node chosen in the form; it must be deployed, like the core nodes' config nodes.
            const tls = tlsOptionsFor(RED, body.tls);
            if (tls.error) { invalid(tls.error); return; }
            const answer = (promise: Promise<object>): void => {
                promise.then((result) => res.json(result), (err: Error) => {
                    res.status(500).json({ ok: false, result: 'failed', error: err.message });
                });
            };
            // The organisation's one connection: this Node-RED holds it, so a second handshake with the MisKey would be
            // refused or (on a last-wins server) push the live one out. Say what is known, and what was not tested.
            const holder = connectionHolding(misKey);
            // In HA standby another instance holds the slot: no handshake with the MisKey, from here, to anywhere.
            if (holder && holder.status.state === 'standby') {
                res.json({ ok: false, result: 'standby', holder: holder.status.holder ?? '?' });
                return;
            }
            if (holder && sameUrl(holder.url, url)) {
                // The live connection to this very URL with this MisKey is the test.
                const live = holder.status;
                const problem = problemOfLive(live);
                if (live.state === 'connected') { res.json({ ok: true, result: 'liveConnected' }); return; }
                if (problem) { res.json({ ok: false, result: 'liveFailing', ...problem }); return; }
                res.json({ ok: false, result: 'liveState', state: live.state });
                return;
            }
            if (holder) {
                // Another URL: test that something answers there, without the MisKey (no slot is taken).
                answer(testHandshake(url, undefined, tls.options).then((probe) => {
                    if (probe.opened) { return { ok: true, result: 'probeOpened', holderUrl: holder.url }; }
                    const { problem } = probe;
                    // A notification server asks for the MisKey it did not get.
                    if (problem.code === 'rejected') { return { ok: true, result: 'probeAnswered', statusCode: problem.statusCode, holderUrl: holder.url }; }
                    return { ok: false, result: 'probeFailed', holderUrl: holder.url, ...problem };
                }));
                return;
            }
            answer(testHandshake(url, misKey, tls.options).then((handshake) => handshake.opened
                ? { ok: true, result: 'accepted' }
                : { ok: false, result: 'problem', ...handshake.problem }));
        } catch (err) {
            res.status(500).json({ ok: false, result: 'failed', error: (err as Error).message });
        }
    });
};
