// The one WebSocket per PrintFactory account. A printfactory-config node owns one
// PrintFactoryConnection; every printfactory-notification node using that config node
// registers with it. The socket opens when the first user registers and closes when the
// last one leaves (the pattern of Node-RED's core MQTT broker node).
//
// PrintFactory allows one simultaneous connection per organisation, so:
//  - a module-level registry keyed by a hash of the MisKey lets only one connection per
//    MisKey in this runtime connect; a second one reports `duplicate` and waits;
//  - a new socket is never opened before the previous one has emitted 'close'.
//  - across Node-RED instances, an optional HoldGate (the HA lease, ./lease.ts) decides whether this one may
//    open its socket at all; without one the connection always may.
// The proxy policy lives in ../net/proxy.ts (shared with Durst), event classification in ./classify.ts.
import { createHash } from 'crypto';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { describe, PrintFactoryEvent } from './classify';
import { BadFrameReason, MAX_FRAME_BYTES, readFrame } from './frames';
import { Problem, problemOfError, problemOfStatus, retryAfterSeconds } from './problems';
import { describeProxy, proxyFor, tunnelAgent } from '../net/proxy';
import type { TlsOptions } from '../net/tls';
import { MAX_JSON_DEPTH, jsonDeeperThan } from '../json-limits';
import { RateLimitedLog } from '../rate-limited-log';
import type { HoldDecision, HoldGate } from './lease';
import { backoffDelay } from '../backoff';

// Re-exported: the frame limits are part of this module's documented behaviour.
export { MAX_JSON_DEPTH, jsonDeeperThan, MAX_FRAME_BYTES };
export type { BadFrameReason };

export interface ConnectionTimings {
    /** Heartbeat: a ping every this many ms; no pong before the next one means terminate + reconnect. */
    pingIntervalMs: number;
    /** The opening handshake (TCP, proxy tunnel, TLS, upgrade) must finish within this. */
    handshakeTimeoutMs: number;
    /** Backoff: first retry delay (before jitter) and cap. */
    reconnectMinMs: number;
    reconnectMaxMs: number;
    /** A connection open this long resets the backoff. */
    stableAfterMs: number;
    /** Retry delay after the server refused the MisKey (HTTP 401/403). */
    authRetryMs: number;
    /** A graceful close that takes longer than this is cut short with terminate(). */
    closeTimeoutMs: number;
}

export const DEFAULT_TIMINGS: Readonly<ConnectionTimings> = Object.freeze({
    pingIntervalMs: 30000,
    handshakeTimeoutMs: 15000,
    reconnectMinMs: 1000,
    reconnectMaxMs: 60000,
    stableAfterMs: 60000,
    authRetryMs: 300000,
    closeTimeoutMs: 3000
});

/**
 * ws closes the socket (code 1009) on frames above maxPayload, which means a reconnect.
 * It is set well above MAX_FRAME_BYTES so that a merely large frame is dropped, not fatal.
 */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/**
 * Frames taken from the socket before it pauses until the event loop has turned once (setImmediate); a frame
 * carrying several notifications (an array, NDJSON) counts as that many.
 * Node-RED delivers every msg on a later turn of the loop, so without this a burst (a reconnect backlog,
 * a busy server) would turn whole megabytes of frames into msgs before the first one is delivered: all of
 * them alive at once, which the garbage collector pays for (about half the CPU per notification in
 * `npm run bench`), and nothing else in the runtime gets a turn. It bounds work per turn, not what is
 * received: frames wait in the kernel's socket buffer and TCP slows the sender.
 */
export const FRAMES_PER_TURN = 256;
/**
 * Server closes (with a close frame) in a row of sockets younger than the flap window (max(stableAfter, 2 × reconnectMax)) that mean
 * "displaced by another connection": one alone is a server restart; again and again is another client taking the
 * organisation's one connection each time this one opens (a last-wins server).
 */
export const FLAP_CLOSES = 2;

/** Why a socket closed or failed, as a short code (printfactory-notification turns it into its connection.down reason). */
export type DisconnectCause =
    | 'serverClosed'      // an open socket was closed by the server or the network, without an error
    | 'heartbeatMissed'   // no pong (and no frame) within a ping interval: a half-open socket, terminated
    | 'networkError'      // an open socket failed with an error (reset, ...)
    | 'frameTooLarge'     // a frame above MAX_PAYLOAD_BYTES made ws close the socket (1009)
    | 'unreachable'       // the socket never opened (refused, DNS, proxy, TLS)
    | 'handshakeTimeout'  // the opening handshake did not finish within handshakeTimeout
    | 'refused'           // the server answered the upgrade with an HTTP status other than 401/403 (e.g. 409, 429)
    | 'displaced';        // the server closed fresh connections again and again: another client holds the organisation

export type ConnectionStatus =
    | { state: 'idle' }
    | { state: 'connecting' }
    /** `disconnectedAt`: when the previous socket of this connection was lost (ms epoch), null on the first open. */
    /** `tookOver`: the first open after this instance gained the HA lease (the holder changed). */
    | { state: 'connected'; disconnectedAt: number | null; tookOver?: { previousHolder: string | null } }
    /** `problem`: the cause as a code for the status text (./problems.ts), the same the editor's Test connection uses. */
    | { state: 'reconnecting'; retryInMs: number; reason: string; cause: DisconnectCause; problem: Problem }
    | { state: 'authFailed'; statusCode: number; retryInMs: number }
    | { state: 'duplicate'; holder: string }
    /** Another instance holds the HA lease (`held`), it is not known yet (`joining`), or the lease's broker is out of reach. */
    | { state: 'standby'; holder: string | null; why: 'joining' | 'held' | 'brokerDown' }
    | { state: 'error'; reason: string };

export interface Notification {
    payload: unknown;
    event: PrintFactoryEvent;
    jobGuid?: string;
    deviceGuid?: string;
    receivedAt: string;
}

export interface ConnectionUser {
    onNotification(notification: Notification): void;
    onStatus(status: ConnectionStatus): void;
    onBadFrame(reason: BadFrameReason, bytes: number): void;
}

export interface ConnectionLogger {
    log(text: string): void;
    warn(text: string): void;
}

export interface ConnectionOptions {
    url: string;
    misKey: string;
    /** Shown in the duplicate warning of another connection (never the MisKey). */
    label: string;
    timings?: Partial<ConnectionTimings>;
    logger: ConnectionLogger;
    /** TLS options for wss:// (from a tls-config node: CA, client certificate, verify). */
    tlsOptions?: TlsOptions;
    /** A configuration problem found by the config node (e.g. its TLS configuration is missing): never connect, show it. */
    setupError?: string;
    /** For tests: replaces Math.random in the backoff jitter. */
    random?: () => number;
    /**
     * The HA lease: called at each start (first user), it returns the gate that decides whether this connection may
     * open its socket; left (after the socket closed) at each stop. Throwing = a configuration error: never connect.
     */
    gate?: () => HoldGate;
}

// ---------------------------------------------------------------------------
// Pure helpers


// toISOString costs about a microsecond; at tens of thousands of frames per second most share a millisecond.
let lastIsoMs = 0;
let lastIso = '';
function isoNow(): string {
    const now = Date.now();
    if (now !== lastIsoMs) {
        lastIsoMs = now;
        lastIso = new Date(now).toISOString();
    }
    return lastIso;
}

/** The MisKey as it is sent: surrounding white space trimmed (the server trims it too, so " k" and "k" are one key). */
export function normalMisKey(misKey: unknown): string {
    return String(misKey ?? '').trim();
}

export function misKeyHash(misKey: string): string {
    return createHash('sha256').update('printfactory-miskey:' + normalMisKey(misKey)).digest('hex');
}

// ---------------------------------------------------------------------------
// Registry: which connection holds which MisKey in this runtime.

const holders = new Map<string, PrintFactoryConnection>();
const waiting = new Set<PrintFactoryConnection>();

/** The connection of this runtime that currently holds `misKey`, if any (for the editor's test button). */
export function connectionHolding(misKey: string): PrintFactoryConnection | undefined {
    const hash = misKeyHash(misKey);
    // A connection in the HA lease counts too: while it stands by, another instance holds the organisation's slot.
    return holders.get(hash) ?? [...inLease].find(([, h]) => h === hash)?.[0];
}

/** Connections of this runtime that take part in an HA lease, with their MisKey hash. */
const inLease = new Map<PrintFactoryConnection, string>();

// ---------------------------------------------------------------------------
// Twins: config nodes for the same account with the same settings (URL, MisKey, and whatever else the
// caller puts in `settings`), e.g. one imported with each example, share one connection instead of the
// second one waiting as a `duplicate`. A twin that differs in any setting keeps a connection of its own
// (and so waits as a duplicate), because a shared socket can run with one set of settings only.

interface Shared { key: string; connection: PrintFactoryConnection; owners: Map<object, Set<ConnectionUser>> }
const shared = new Map<string, Shared>();

/** One config node's share of a connection: register/deregister its users, close() its share. */
export interface ConnectionShare {
    readonly connection: PrintFactoryConnection;
    register(user: ConnectionUser): void;
    deregister(user: ConnectionUser): Promise<void>;
    /** Deregisters this owner's users; closes the connection when no other owner is left. Never rejects. */
    close(): Promise<void>;
}

/**
 * The connection for `options` shared by every owner with the same URL, MisKey and `settings` text.
 * The connection keeps the label and logger of the owner that created it; later owners add their users.
 */
export function shareConnection(owner: object, options: ConnectionOptions, settings: string): ConnectionShare {
    const key = createHash('sha256').update([String(options.url ?? '').trim(), misKeyHash(String(options.misKey ?? '')),
        options.setupError ?? '', settings].join('\n')).digest('hex');
    let entry = shared.get(key);
    if (!entry) {
        entry = { key, connection: new PrintFactoryConnection(options), owners: new Map() };
        shared.set(key, entry);
    }
    const users = new Set<ConnectionUser>();
    entry.owners.set(owner, users);
    const mine = entry;
    return {
        connection: mine.connection,
        register(user) { users.add(user); mine.connection.register(user); },
        deregister(user) { users.delete(user); return mine.connection.deregister(user); },
        close() {
            if (mine.owners.get(owner) !== users) { return Promise.resolve(); }
            mine.owners.delete(owner);
            if (mine.owners.size > 0) {
                const leaving = [...users];
                users.clear();
                return Promise.all(leaving.map((user) => mine.connection.deregister(user))).then(() => undefined, () => undefined);
            }
            // The last owner: a config node created later (a redeploy) gets a new connection.
            if (shared.get(mine.key) === mine) { shared.delete(mine.key); }
            return mine.connection.close();
        }
    };
}

// ---------------------------------------------------------------------------

export class PrintFactoryConnection {
    readonly url: string;
    readonly label: string;
    private readonly misKey: string;
    private readonly keyHash: string;
    private readonly timings: ConnectionTimings;
    private readonly logger: ConnectionLogger;
    private readonly random: () => number;
    private readonly tlsOptions: ConnectionOptions['tlsOptions'];
    private readonly setupError?: string;
    private readonly users = new Set<ConnectionUser>();
    private current: ConnectionStatus = { state: 'idle' };
    private running = false;
    private socket: WebSocket | null = null;
    private socketClosed: Promise<void> = Promise.resolve();
    private reconnectTimer: NodeJS.Timeout | null = null;
    private heartbeatTimer: NodeJS.Timeout | null = null;
    private stableTimer: NodeJS.Timeout | null = null;
    // Flap detection (another client displacing this one): server closes of sockets younger than flapWindowMs in a
    // row, and whether that happened often enough to retry at most once per reconnectMax (`displaced`).
    private freshCloses = 0;
    private displaced = false;
    /** The last close was a fresh server close (not a restart's): the next attempt waits a whole reconnectMax. */
    private closedFresh = false;
    private flapTimer: NodeJS.Timeout | null = null;
    private failures = 0;
    private lastFailureWarned = '';
    private stopping: Promise<void> | null = null;
    // One warning at once, then at most one every 10 s with a count, so a garbage storm cannot flood the log.
    private readonly badFrameLog: RateLimitedLog;
    /** When an open socket was last lost while running (not by our own stop); null while none was. */
    private lostAt: number | null = null;
    /** Sockets opened over this connection's life (tests use it to prove there is no tight loop). */
    attempts = 0;
    private readonly gateFactory?: () => HoldGate;
    private gate: HoldGate | null = null;
    /** Whether the HA lease lets this connection hold (always true without one). */
    private holding = true;
    private tookOver: { previousHolder: string | null } | null = null;

    constructor(options: ConnectionOptions) {
        this.url = String(options.url ?? '').trim();
        this.misKey = normalMisKey(options.misKey);
        this.keyHash = misKeyHash(this.misKey);
        this.label = options.label;
        this.logger = options.logger;
        this.random = options.random ?? Math.random;
        this.tlsOptions = options.tlsOptions;
        this.setupError = options.setupError;
        this.gateFactory = options.gate;
        this.timings = { ...DEFAULT_TIMINGS };
        this.badFrameLog = new RateLimitedLog((text) => this.logger.warn(text), 10000,
            (count, seconds) => `dropped ${count} more bad frames in the last ${seconds} s; the connection stays open`);
        for (const [key, value] of Object.entries(options.timings ?? {})) {
            if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
                (this.timings as unknown as Record<string, number>)[key] = value;
            }
        }
    }

    get status(): ConnectionStatus { return this.current; }
    get userCount(): number { return this.users.size; }

    register(user: ConnectionUser): void {
        this.users.add(user);
        user.onStatus(this.current);
        if (this.users.size === 1) { this.start(); }
    }

    /** Resolves once the socket is closed if `user` was the last one. Never rejects. */
    deregister(user: ConnectionUser): Promise<void> {
        this.users.delete(user);
        if (this.users.size > 0) { return Promise.resolve(); }
        return this.stop();
    }

    /** Closes the socket and forgets every user (the config node's close). Never rejects. */
    close(): Promise<void> {
        this.users.clear();
        return this.stop();
    }

    private setStatus(status: ConnectionStatus): void {
        this.current = status;
        for (const user of this.users) {
            try { user.onStatus(status); } catch (err) { this.logger.warn(`status update failed: ${(err as Error).message}`); }
        }
    }

    private start(): void {
        this.running = true;
        // A start after a stop is a new life: no displacement known yet.
        this.freshCloses = 0;
        this.displaced = false;
        this.closedFresh = false;
        if (!this.url || !/^wss?:\/\//i.test(this.url)) {
            this.setStatus({ state: 'error', reason: 'badUrl' });
            return;
        }
        if (!this.misKey) {
            this.setStatus({ state: 'error', reason: 'noMisKey' });
            return;
        }
        if (this.setupError) {
            this.setStatus({ state: 'error', reason: this.setupError });
            return;
        }
        if (this.gateFactory && !this.gate) {
            this.holding = false;
            try {
                this.gate = this.gateFactory();
                inLease.set(this, this.keyHash);
            } catch (err) {
                // Fail closed: without a working lease another instance may hold the connection.
                this.setStatus({ state: 'error', reason: (err as Error).message });
                return;
            }
            this.gate.join((decision) => this.onHoldDecision(decision));
            return;
        }
        if (!this.holding) { return; }
        this.tryAcquire();
    }

    /** The HA lease changed its mind: open (through the local registry), or close and stand by. */
    private onHoldDecision(decision: HoldDecision): void {
        if (!this.running) { return; }
        if (decision.hold) {
            this.holding = true;
            this.tookOver = { previousHolder: decision.previousHolder };
            this.tryAcquire();
            return;
        }
        this.holding = false;
        this.tookOver = null;
        this.clearReconnect();
        waiting.delete(this);
        this.setStatus({ state: 'standby', holder: decision.holder, why: decision.why });
        this.closeSocket().then(() => { if (!this.holding) { this.release(); } });
    }

    private tryAcquire(): void {
        if (!this.running || !this.holding) { return; }
        const holder = holders.get(this.keyHash);
        if (holder && holder !== this) {
            waiting.add(this);
            this.setStatus({ state: 'duplicate', holder: holder.label });
            this.logger.warn(`another printfactory-config node (${holder.label}) already connects with the same MisKey. ` +
                'PrintFactory allows one connection per organisation, so this one stays disconnected until that one closes. ' +
                'Use one printfactory-config node per account (config nodes with the same URL, MisKey, TLS and timings share one connection).');
            return;
        }
        waiting.delete(this);
        holders.set(this.keyHash, this);
        this.connect();
    }

    private release(): void {
        if (holders.get(this.keyHash) !== this) { return; }
        holders.delete(this.keyHash);
        for (const next of waiting) {
            if (next.keyHash === this.keyHash) {
                waiting.delete(next);
                next.tryAcquire();
                break;
            }
        }
    }

    private stop(): Promise<void> {
        this.running = false;
        this.badFrameLog.dispose();
        waiting.delete(this);
        this.clearReconnect();
        if (this.stopping) { return this.stopping; }
        const stopping = this.closeSocket().then(() => {
            if (this.stopping === stopping) { this.stopping = null; }
            // A user may have registered again while the socket was closing: then keep the MisKey.
            if (!this.running) {
                this.release();
                this.current = { state: 'idle' };
                // Closing on purpose is no outage: the next open is a first connection again.
                this.lostAt = null;
                // The HA lease is given up only now that the socket is closed, so two holders never overlap.
                const gate = this.gate;
                this.gate = null;
                inLease.delete(this);
                this.holding = true;
                this.tookOver = null;
                if (gate) { return gate.leave(); }
            }
            return undefined;
        });
        this.stopping = stopping;
        return stopping;
    }

    /** Closes the current socket, if any, and resolves on its 'close' event. */
    private closeSocket(): Promise<void> {
        const ws = this.socket;
        if (!ws) { return this.socketClosed; }
        if (ws.readyState === WebSocket.OPEN) {
            const cutShort = setTimeout(() => ws.terminate(), this.timings.closeTimeoutMs);
            ws.once('close', () => clearTimeout(cutShort));
            ws.close(1000, 'closing');
        } else if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.CLOSING) {
            ws.terminate();
        }
        return this.socketClosed;
    }

    private connect(): void {
        if (!this.running || this.socket) { return; }
        // Whatever socket came before must be gone first: never two at once.
        this.socketClosed.then(() => {
            try {
                this.openSocket();
            } catch (err) {
                // Not expected: every step of openSocket handles its own errors. Retry rather than stall.
                this.socket = null;
                this.scheduleReconnect((err as Error).message, 'unreachable', problemOfError(err as Error));
            }
        });
    }

    private openSocket(): void {
        if (!this.running || !this.holding || this.socket || holders.get(this.keyHash) !== this) { return; }
        this.setStatus({ state: 'connecting' });
        let target: URL;
        try {
            target = new URL(this.url);
        } catch {
            this.setStatus({ state: 'error', reason: 'badUrl' });
            return;
        }
        let proxy: URL | undefined;
        let agent: import('http').Agent | undefined;
        let ws: WebSocket;
        try {
            proxy = proxyFor(target);
            agent = proxy ? tunnelAgent(proxy, {
                secureTarget: target.protocol === 'wss:', keepAlive: false, connectTimeoutMs: this.timings.handshakeTimeoutMs
            }) : undefined;
            ws = new WebSocket(this.url, {
                headers: { MisKey: this.misKey },
                handshakeTimeout: this.timings.handshakeTimeoutMs,
                maxPayload: MAX_PAYLOAD_BYTES,
                perMessageDeflate: false,
                followRedirects: false,
                agent,
                ...this.tlsOptions
            });
        } catch (err) {
            // E.g. an invalid proxy URL in the environment: a configuration error, not retried.
            this.setStatus({ state: 'error', reason: (err as Error).message });
            this.logger.warn(`cannot connect to ${this.url}: ${(err as Error).message}`);
            return;
        }
        this.attempts += 1;
        this.socket = ws;
        let resolveClosed!: () => void;
        this.socketClosed = new Promise<void>((resolve) => { resolveClosed = resolve; });
        let rejectedWith = 0;
        let retryAfter: number | undefined;
        let lastError = '';
        let lastErrorObject: (Error & { code?: unknown }) | undefined;
        let openedAt = 0;
        let opened = false;
        let awaitingPong = false;
        let heartbeatMissed = false;
        let framesThisTurn = 0;
        const resumeAfterTurn = (): void => { framesThisTurn = 0; ws.resume(); };

        ws.on('unexpected-response', (_req, res) => {
            rejectedWith = res.statusCode ?? 0;
            // The vendor's (or a proxy's) own wait, on "too many requests" and "unavailable".
            if (rejectedWith === 429 || rejectedWith === 503) { retryAfter = retryAfterSeconds(res.headers['retry-after']); }
            res.resume();
            ws.terminate();
        });
        ws.on('error', (err) => { lastError = err.message; lastErrorObject = err; });
        ws.on('open', () => {
            opened = true;
            if (!this.running) { ws.close(1000, 'closing'); return; }
            this.lastFailureWarned = '';
            const disconnectedAt = this.lostAt;
            this.lostAt = null;
            const tookOver = this.tookOver;
            this.tookOver = null;
            this.setStatus(tookOver ? { state: 'connected', disconnectedAt, tookOver } : { state: 'connected', disconnectedAt });
            this.logger.log(`connected to ${this.url}${proxy ? ` through proxy ${describeProxy(proxy)}` : ''}`);
            openedAt = Date.now();
            this.stableTimer = setTimeout(() => { this.stableTimer = null; if (!this.displaced) { this.failures = 0; } }, this.timings.stableAfterMs);
            // Open for a whole flap window: whoever displaced this connection before is gone.
            this.flapTimer = setTimeout(() => { this.flapTimer = null; this.freshCloses = 0; this.displaced = false; this.failures = 0; }, this.flapWindowMs());
            this.heartbeatTimer = setInterval(() => {
                if (awaitingPong) {
                    lastError = `no pong within ${this.timings.pingIntervalMs} ms`;
                    heartbeatMissed = true;
                    ws.terminate();
                    return;
                }
                awaitingPong = true;
                ws.ping();
            }, this.timings.pingIntervalMs);
        });
        ws.on('pong', () => { awaitingPong = false; });
        ws.on('message', (data, isBinary) => {
            // Any frame proves the socket is alive.
            awaitingPong = false;
            framesThisTurn += Math.max(1, this.onFrame(data, isBinary));
            // resume() is a no-op on a closed socket; a closing one must read on to get the close frame.
            if (framesThisTurn >= FRAMES_PER_TURN && ws.readyState === WebSocket.OPEN && !ws.isPaused) {
                ws.pause();
                setImmediate(resumeAfterTurn);
            }
        });
        ws.on('close', (code) => {
            if (this.heartbeatTimer) { clearInterval(this.heartbeatTimer); this.heartbeatTimer = null; }
            if (this.stableTimer) { clearTimeout(this.stableTimer); this.stableTimer = null; }
            if (this.flapTimer) { clearTimeout(this.flapTimer); this.flapTimer = null; }
            if (this.socket === ws) { this.socket = null; }
            // Also ends a proxy tunnel that was still being opened when the socket was terminated.
            agent?.destroy();
            ws.removeAllListeners();
            // Errors after this point (none are expected) must not be unhandled 'error' events.
            ws.on('error', () => undefined);
            resolveClosed();
            // Closed on purpose: a stop, or the HA lease went to another instance (no reconnect, no outage).
            if (!this.running || !this.holding) { return; }
            if (opened && this.lostAt === null) { this.lostAt = Date.now(); }
            if (rejectedWith === 401 || rejectedWith === 403) {
                this.scheduleAuthRetry(rejectedWith);
                return;
            }
            let reason: string;
            let cause: DisconnectCause;
            let problem: Problem;
            if (rejectedWith) {
                problem = problemOfStatus(rejectedWith);
                if (retryAfter !== undefined) { problem.retryAfterSeconds = retryAfter; }
                reason = rejectedWith === 409
                    ? 'HTTP 409: another connection for this organisation is already open'
                    : `HTTP ${rejectedWith}${retryAfter !== undefined ? ` (Retry-After ${retryAfter} s)` : ''}`;
                cause = 'refused';
            } else if (opened) {
                reason = lastError || `closed by server (code ${code})`;
                cause = heartbeatMissed ? 'heartbeatMissed'
                    : code === 1009 || /max payload/i.test(lastError) ? 'frameTooLarge'
                        : lastError ? 'networkError' : 'serverClosed';
                problem = cause === 'networkError' ? problemOfError(lastErrorObject) : { code: cause };
                // A socket the server closes on purpose (a close frame: not 1006, which is a drop or a reset) soon after
                // it opened, again and again: someone else takes the slot. Drops of a flaky network do not count.
                const fresh = cause === 'serverClosed' && code !== 1006 && Date.now() - openedAt < this.flapWindowMs();
                this.freshCloses = fresh ? this.freshCloses + 1 : 0;
                // Already the first such close waits a whole reconnectMax, so a pair of instances never displaces each
                // other faster than that, even while noticing; a server that says it restarts (1001, 1012, 1013) does not.
                this.closedFresh = fresh && ![1001, 1012, 1013].includes(code);
                if (this.freshCloses >= FLAP_CLOSES) {
                    if (!this.displaced) {
                        this.displaced = true;
                        this.logger.warn(`displaced by another connection? The server closed this connection ${this.freshCloses} times in a row ` +
                            `within ${Math.round(this.flapWindowMs() / 1000)} s of opening it: another client (another Node-RED instance?) ` +
                            'probably holds this organisation\'s one connection. Retrying at most once per reconnectMax ' +
                            `(${Math.round(this.timings.reconnectMaxMs / 1000)} s); let one instance hold it (haBroker, see docs/several-instances.md)`);
                    }
                    reason = 'displaced by another connection? (the server closed it soon after it opened, again)';
                    // Warned above, once per episode: not again as a changed reason.
                    this.lastFailureWarned = reason;
                    cause = 'displaced';
                    problem = { code: 'displaced' };
                }
            } else {
                reason = lastError || 'connection failed';
                problem = lastErrorObject ? problemOfError(lastErrorObject) : { code: 'network', detail: reason };
                // ws's own handshake timeout, or the proxy tunnel's (proxy.ts)
                cause = problem.code === 'timeout' ? 'handshakeTimeout' : 'unreachable';
            }
            this.scheduleReconnect(reason, cause, problem);
        });
    }

    /** Delivers the notifications of one frame (./frames.ts reads it) to every user; returns how many. */
    private onFrame(data: RawData, isBinary: boolean): number {
        const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        const frame = readFrame(buffer, isBinary);
        for (const reason of frame.bad) { this.badFrame(reason, buffer.length); }
        const values = frame.values;
        if (values.length === 0) { return 0; }
        const receivedAt = isoNow();
        const described = values.map((value) => describe(value));
        let copies: unknown[] | null = values;
        for (const user of this.users) {
            // Each user gets its own copy, so one flow changing msg.payload cannot affect another.
            const payloads = copies ?? frame.copy();
            copies = null;
            for (let i = 0; i < payloads.length; i++) {
                const { event, jobGuid, deviceGuid } = described[i];
                const notification: Notification = { payload: payloads[i], event, receivedAt };
                if (jobGuid !== undefined) { notification.jobGuid = jobGuid; }
                if (deviceGuid !== undefined) { notification.deviceGuid = deviceGuid; }
                try {
                    user.onNotification(notification);
                } catch (err) {
                    this.logger.warn(`a notification could not be delivered: ${(err as Error).message}`);
                }
            }
        }
        return values.length;
    }

    private badFrame(reason: BadFrameReason, bytes: number): void {
        for (const user of this.users) {
            try { user.onBadFrame(reason, bytes); } catch { /* a status update must not stop the socket */ }
        }
        const why: Record<BadFrameReason, string> = {
            binary: 'a binary frame that is not UTF-8 text',
            tooLarge: `a frame of ${bytes} bytes (limit ${MAX_FRAME_BYTES})`,
            notJson: 'a frame (or a part of one) that is not JSON',
            tooDeep: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
            protoKey: 'a JSON value with a "__proto__" key'
        };
        this.badFrameLog.log(`dropped ${why[reason]}; the connection stays open`);
    }

    private clearReconnect(): void {
        if (this.reconnectTimer) { clearTimeout(this.reconnectTimer); this.reconnectTimer = null; }
    }

    /** A server close within this long after the open counts as "fresh" for flap detection. */
    private flapWindowMs(): number {
        return Math.max(this.timings.stableAfterMs, 2 * this.timings.reconnectMaxMs);
    }

    private scheduleReconnect(reason: string, cause: DisconnectCause, problem: Problem): void {
        this.failures += 1;
        let delay = backoffDelay(this.failures, this.timings.reconnectMinMs, this.timings.reconnectMaxMs, this.random);
        // Displaced: at most one attempt per reconnectMax (a quarter more at random, so two instances drift apart).
        if (this.displaced || (cause === 'serverClosed' && this.closedFresh)) { delay = Math.round(this.timings.reconnectMaxMs * (1 + this.random() / 4)); }
        if (problem.retryAfterSeconds !== undefined) { delay = Math.max(delay, problem.retryAfterSeconds * 1000); }
        this.setStatus({ state: 'reconnecting', retryInMs: delay, reason, cause, problem });
        // Warn when the reason changes, not on every attempt of an outage.
        if (reason !== this.lastFailureWarned) {
            this.lastFailureWarned = reason;
            this.logger.warn(`connection to ${this.url} lost or failed (${reason}); retrying with backoff, next in ${Math.round(delay / 100) / 10} s`);
        }
        this.clearReconnect();
        this.reconnectTimer = setTimeout(() => { this.reconnectTimer = null; this.connect(); }, delay);
    }

    private scheduleAuthRetry(statusCode: number): void {
        const delay = this.timings.authRetryMs;
        this.setStatus({ state: 'authFailed', statusCode, retryInMs: delay });
        const reason = `auth ${statusCode}`;
        if (reason !== this.lastFailureWarned) {
            this.lastFailureWarned = reason;
            this.logger.warn(`PrintFactory refused the MisKey (HTTP ${statusCode}). Check the MisKey at ` +
                `https://app.printfactory.cloud/settings/external-api; next attempt in ${Math.round(delay / 1000)} s`);
        }
        this.clearReconnect();
        this.reconnectTimer = setTimeout(() => { this.reconnectTimer = null; this.connect(); }, delay);
    }
}
