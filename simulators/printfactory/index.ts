// PrintFactory Cloud notification simulator: a real `ws` server on loopback that behaves
// like wss://notification.aurelon.com:27489 as far as the vendor documents it, plus the
// faults the tests need (drops, half-open sockets, hung handshakes, garbage frames).
//
// Handshake answers:
//   401  no MisKey header              403  a MisKey that is not in `misKeys`
//   409  that MisKey already has an open connection (the vendor allows one per organisation)
// The vendor does not document what it does with a second connection of an organisation, so the answer
// is a choice (`secondConnection`): 'refuse' (the 409 above, the default), 'lastWins' (accept the new one
// and close the older one with 1000 "replaced by a newer connection": what a client cannot tell from an
// ordinary close), or 'split' (keep both and send each event to one of them in turn).
// Rejections are plain HTTP answers to the upgrade request, so a client sees them as an
// "unexpected response" with that status code, never as an opened socket.
// Plain HTTP requests on the same port get the REST API (./rest.ts, `apiUrl`), answered from `floor`.
import http from 'http';
import https from 'https';
import { SimulatorTls, serverTlsOptions } from '../tls';
import type { Duplex } from 'stream';
import { EventEmitter } from 'events';
import { WebSocketServer, WebSocket } from 'ws';
import { EXAMPLE_NAMES, PrintFactoryExampleName, freshExample, isExampleName } from './examples';
import { PrintFloor } from './floor';
import { PrintFactoryRestApi } from './rest';
import { FrameForm, KeepAliveKind, encodeFrames, keepAliveText } from './frames';

export { PRINTFACTORY_EXAMPLES, expectedEvent, EXAMPLE_NAMES, freshExample } from './examples';
export type { PrintFactoryExampleName } from './examples';
export { PrintFloor, FLOOR_DEVICE_GUIDS, ACTIVE_JOB_STATUSES, JOB_STATUSES } from './floor';
export type { FloorJob, FloorJobStatus, FloorDeviceInfo } from './floor';
export { PrintFactoryRestApi } from './rest';
export type { ApiRequestRecord, InjectedFailure } from './rest';
export { FRAME_FORMS, KEEP_ALIVE_KINDS, SHAPE_VARIANTS, encodeFrames, shapeVariant } from './frames';
export type { FrameForm, KeepAliveKind, ShapeVariant } from './frames';

export interface PrintFactorySimulatorOptions {
    port?: number;
    host?: string;
    misKeys?: string[];
    /** Serve wss:// with this key and certificate (PEM) instead of ws://. */
    tls?: SimulatorTls;
    /** What a second connection of the same MisKey gets (see above). Default 'refuse'. */
    secondConnection?: SecondConnectionMode;
}

export type SecondConnectionMode = 'refuse' | 'lastWins' | 'split';
export const SECOND_CONNECTION_MODES: readonly SecondConnectionMode[] = Object.freeze(['refuse', 'lastWins', 'split']);
/** The close code and reason a 'lastWins' simulator closes the older connection with. */
export const DISPLACED_CLOSE = Object.freeze({ code: 1000, reason: 'replaced by a newer connection for this organisation' });

export type GarbageKind = 'text' | 'binary' | 'huge' | 'array' | 'deep';
/**
 * 'floor' (default): a simulated print floor, device.status and job/nester notifications taking turns
 * (devices move between Printing, Idle and Error, inks drain and are refilled, jobs recur).
 * 'examples': every documented shape in turn, with fresh GUIDs and random device values.
 */
export type TrickleMode = 'floor' | 'examples';

// Above this many unsent bytes on a client, blast() waits for the socket to flush.
const BLAST_HIGH_WATER = 1024 * 1024;
// What an 'examples' trickle sends, in a realistic mix: device updates are the most frequent.
const TRICKLE_MIX: PrintFactoryExampleName[] = [
    'jobCreated', 'deviceStatus', 'jobUpdated', 'jobStatusChanged', 'deviceStatus', 'jobDeviceSet',
    'jobCopyAddedJournal', 'deviceStatus', 'jobReprint', 'nesterAutomationJobAdded', 'nesterDocumentsProcessed',
    'nesterJobCreated', 'deviceStatus', 'jobReroute', 'jobResubmit', 'jobResend', 'jobCopyAddedNoJournal'
];

export class PrintFactorySimulator extends EventEmitter {
    readonly host: string;
    private readonly requestedPort: number;
    private readonly misKeys: Set<string>;
    private readonly tls?: SimulatorTls;
    private server: http.Server | null = null;
    private wss: WebSocketServer | null = null;
    private readonly clients = new Map<WebSocket, string>();
    /** Open sockets per MisKey (more than one only in 'lastWins' for a moment, or in 'split'). */
    private readonly byMisKey = new Map<string, Set<WebSocket>>();
    /** Upgrades under way per MisKey: in 'refuse' mode a second upgrade racing the first must see the key taken. */
    private readonly upgrading = new Map<string, number>();
    private secondConnection: SecondConnectionMode = 'refuse';
    /** 'split': which of a MisKey's connections gets the next frame. */
    private readonly splitTurn = new Map<string, number>();
    private readonly hungSockets = new Set<Duplex>();
    private answerPings = true;
    private hangHandshake = false;
    private trickleTimer: NodeJS.Timeout | null = null;
    private trickleIndex = 0;
    /** The simulated floor behind the 'floor' trickle (its devices, for tests and tools). */
    readonly floor = new PrintFloor();
    /** The REST API on the same port (`apiUrl`): request log, latency, array-wrapped device answers, failures. */
    readonly api: PrintFactoryRestApi;
    private boundPort = 0;
    /** Most connections that were open at the same time since start(). */
    peakConnections = 0;
    /** Older connections closed because a newer one of the same MisKey opened ('lastWins'), since construction. */
    displacements = 0;

    constructor(options: PrintFactorySimulatorOptions = {}) {
        super();
        this.requestedPort = options.port ?? 0;
        this.host = options.host ?? '127.0.0.1';
        this.misKeys = new Set(options.misKeys ?? ['demo-mis-key']);
        this.tls = options.tls;
        this.api = new PrintFactoryRestApi(this.floor, this.misKeys);
        this.setSecondConnection(options.secondConnection ?? 'refuse');
    }

    /** How a second connection of the same MisKey is answered from now on (open connections stay as they are). */
    setSecondConnection(mode: SecondConnectionMode): void {
        if (!SECOND_CONNECTION_MODES.includes(mode)) {
            throw new Error(`unknown second-connection mode "${String(mode)}"; use ${SECOND_CONNECTION_MODES.join(', ')}`);
        }
        this.secondConnection = mode;
    }

    get port(): number { return this.boundPort; }
    get url(): string { return `${this.tls ? 'wss' : 'ws'}://${this.hostPort}`; }
    /** The REST API's base URL (printfactory-config `apiUrl`): same host and port, http(s). */
    get apiUrl(): string { return `${this.tls ? 'https' : 'http'}://${this.hostPort}`; }
    private get hostPort(): string { return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.boundPort}`; }
    get connectionCount(): number { return this.clients.size; }

    async start(): Promise<void> {
        if (this.server) { return; }
        // autoPong off: pings are answered by hand, so setAnswerPings(false) can fake a half-open socket.
        const wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 64 * 1024 });
        const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => this.api.handle(req, res);
        const server: http.Server = this.tls ? https.createServer(serverTlsOptions(this.tls), answer) : http.createServer(answer);
        server.on('upgrade', (req, socket, head) => this.onUpgrade(wss, req, socket, head));
        await new Promise<void>((resolve, reject) => {
            const onError = (err: Error): void => { server.removeListener('listening', onListening); reject(err); };
            const onListening = (): void => { server.removeListener('error', onError); resolve(); };
            server.once('error', onError);
            server.once('listening', onListening);
            server.listen(this.requestedPort, this.host);
        });
        this.server = server;
        this.wss = wss;
        const address = server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : this.requestedPort;
    }

    async stop(): Promise<void> {
        this.stopTrickle();
        this.api.stop();
        const server = this.server;
        const wss = this.wss;
        if (!server || !wss) { return; }
        this.server = null;
        this.wss = null;
        const closing = [...this.clients.keys()].map((ws) => new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            ws.terminate();
        }));
        for (const socket of this.hungSockets) { socket.destroy(); }
        this.hungSockets.clear();
        await Promise.all(closing);
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    private onUpgrade(wss: WebSocketServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
        socket.on('error', () => { /* a client that vanishes mid-handshake is not our problem */ });
        if (this.hangHandshake) {
            // Accept the TCP connection and never answer the upgrade: the client's handshake timeout must fire.
            this.hungSockets.add(socket);
            socket.once('close', () => this.hungSockets.delete(socket));
            return;
        }
        const header = req.headers.miskey;
        const misKey = Array.isArray(header) ? header[0] : header;
        if (!misKey) { this.reject(socket, 401, 'Unauthorized', 'auth'); return; }
        if (!this.misKeys.has(misKey)) { this.reject(socket, 403, 'Forbidden', 'auth'); return; }
        if (this.secondConnection === 'refuse' && (this.byMisKey.get(misKey)?.size || this.upgrading.get(misKey))) {
            this.reject(socket, 409, 'Conflict', 'duplicate');
            return;
        }
        // Reserve the key now: a second upgrade racing this one must see it taken. ws answers a malformed
        // upgrade with 400 and never calls back, so the reservation also ends with that socket.
        let reserved = true;
        const unreserve = (): void => {
            if (!reserved) { return; }
            reserved = false;
            const left = (this.upgrading.get(misKey) ?? 1) - 1;
            if (left > 0) { this.upgrading.set(misKey, left); } else { this.upgrading.delete(misKey); }
        };
        this.upgrading.set(misKey, (this.upgrading.get(misKey) ?? 0) + 1);
        socket.once('close', unreserve);
        wss.handleUpgrade(req, socket, head, (ws) => {
            unreserve();
            if (!this.server) { ws.terminate(); return; }
            const older = [...(this.byMisKey.get(misKey) ?? [])];
            const open = this.byMisKey.get(misKey) ?? new Set<WebSocket>();
            this.byMisKey.set(misKey, open);
            open.add(ws);
            this.clients.set(ws, misKey);
            this.peakConnections = Math.max(this.peakConnections, this.clients.size);
            ws.on('ping', (data) => { if (this.answerPings) { ws.pong(data); } });
            ws.on('error', () => { /* the close event follows */ });
            ws.once('close', () => {
                this.clients.delete(ws);
                open.delete(ws);
                if (open.size === 0 && this.byMisKey.get(misKey) === open) { this.byMisKey.delete(misKey); }
                this.emit('disconnection', misKey);
            });
            this.emit('connection', misKey);
            if (this.secondConnection === 'lastWins') {
                for (const previous of older) {
                    this.displacements += 1;
                    this.emit('displaced', misKey);
                    previous.close(DISPLACED_CLOSE.code, DISPLACED_CLOSE.reason);
                }
            }
        });
    }

    private reject(socket: Duplex, status: number, text: string, reason: 'auth' | 'duplicate'): void {
        socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
            `Content-Length: ${text.length}\r\n\r\n${text}`);
        this.emit('rejected', reason);
    }

    /**
     * Sends one frame to every open client. Objects are sent as JSON text, Buffers as binary frames, unless
     * `options.binary` is false: then a Buffer goes out as a text frame as it is (even if it is not UTF-8).
     */
    broadcast(payload: object | string | Buffer, options: { binary?: boolean } = {}): number {
        let data: string | Buffer;
        let binary = false;
        if (Buffer.isBuffer(payload)) { data = payload; binary = options.binary ?? true; } else if (typeof payload === 'string') { data = payload; } else { data = JSON.stringify(payload); }
        let sent = 0;
        for (const ws of this.receivers()) {
            ws.send(data, { binary });
            sent += 1;
        }
        return sent;
    }

    /** The open sockets the next frame goes to: all, or in 'split' mode one per MisKey, taking turns. */
    private receivers(): WebSocket[] {
        const open = (ws: WebSocket): boolean => ws.readyState === WebSocket.OPEN;
        if (this.secondConnection !== 'split') { return [...this.clients.keys()].filter(open); }
        const chosen: WebSocket[] = [];
        for (const [misKey, sockets] of this.byMisKey) {
            const candidates = [...sockets].filter(open);
            if (candidates.length === 0) { continue; }
            const turn = this.splitTurn.get(misKey) ?? 0;
            this.splitTurn.set(misKey, turn + 1);
            chosen.push(candidates[turn % candidates.length]);
        }
        return chosen;
    }

    sendExample(name: PrintFactoryExampleName): number {
        if (!isExampleName(name)) { throw new Error(`unknown PrintFactory example "${String(name)}"; known: ${EXAMPLE_NAMES.join(', ')}`); }
        const payload = freshExample(name);
        // Its JobGUID resolves over the REST API, like the trickle's.
        this.floor.track(name, payload);
        return this.broadcast(payload);
    }

    /**
     * Sends `payloads` to every open client in one of the frame forms of ./frames.ts (an array, NDJSON, a BOM, a
     * binary frame, ...). Returns the number of frames sent (frames per client times clients).
     */
    sendFramed(payloads: unknown[], form: FrameForm): number {
        let sent = 0;
        for (const frame of encodeFrames(payloads, form)) { sent += this.broadcast(frame.data, { binary: frame.binary }); }
        return sent;
    }

    /** A text keep-alive on the data channel (`ping`, `pong`, `keepalive`, whitespace, empty), as some servers send. */
    sendKeepAlive(kind: KeepAliveKind): number {
        return this.broadcast(keepAliveText(kind));
    }

    sendGarbage(kind: GarbageKind): number {
        switch (kind) {
            case 'text': return this.broadcast('this is not JSON {"JobGUID": ');
            case 'binary': return this.broadcast(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x7b, 0x7d]));
            case 'huge': {
                // Valid JSON of a documented shape, but 2 MB: beyond the client's per-frame limit.
                return this.broadcast(JSON.stringify({ JobGUID: 'huge', Status: 'Created', Padding: 'x'.repeat(2 * 1024 * 1024) }));
            }
            case 'array': return this.broadcast('[{"JobGUID":"in-an-array"},1,2]');
            case 'deep': return this.broadcast('{"a":'.repeat(5000) + '1' + '}'.repeat(5000));
            default: throw new Error(`unknown garbage kind "${String(kind)}"`);
        }
    }

    /**
     * Pushes `count` documented notifications (a mix of every shape) to every client as fast as
     * each socket takes them, waiting whenever a client has more than 1 MB unsent. A load tool: it sends
     * to every open client whatever `secondConnection` says.
     */
    async blast(count: number): Promise<void> {
        const pool: string[] = [];
        for (let i = 0; i < 64; i++) {
            const name = EXAMPLE_NAMES[i % EXAMPLE_NAMES.length];
            const payload = freshExample(name);
            this.floor.track(name, payload);
            pool.push(JSON.stringify(payload));
        }
        const targets = [...this.clients.keys()].filter((ws) => ws.readyState === WebSocket.OPEN);
        await Promise.all(targets.map(async (ws) => {
            for (let i = 0; i < count; i++) {
                if (ws.readyState !== WebSocket.OPEN) { return; }
                const frame = pool[i % pool.length];
                if (ws.bufferedAmount > BLAST_HIGH_WATER || i === count - 1) {
                    // The send callback runs once this frame reached the kernel: the buffer is drained.
                    await new Promise<void>((resolve) => ws.send(frame, () => resolve()));
                } else {
                    ws.send(frame);
                }
            }
        }));
    }

    /** Terminates every client socket; the server keeps listening. */
    dropAll(): void {
        for (const ws of this.clients.keys()) { ws.terminate(); }
    }

    /** false = half-open: pings are no longer answered. */
    setAnswerPings(on: boolean): void { this.answerPings = on; }

    /** true = accept TCP connections but never complete the WebSocket upgrade. */
    setHangHandshake(on: boolean): void {
        this.hangHandshake = on;
        if (!on) {
            for (const socket of this.hungSockets) { socket.destroy(); }
            this.hungSockets.clear();
        }
    }

    startTrickle(intervalMs: number, mode: TrickleMode = 'floor'): void {
        this.stopTrickle();
        if (mode !== 'floor' && mode !== 'examples') { throw new Error(`unknown trickle mode "${String(mode)}"; use floor or examples`); }
        const every = Math.max(10, Number(intervalMs) || 2000);
        this.trickleIndex = 0;
        this.trickleTimer = setInterval(() => {
            const turn = this.trickleIndex;
            this.trickleIndex += 1;
            if (mode === 'examples') {
                this.sendExample(TRICKLE_MIX[turn % TRICKLE_MIX.length]);
            } else {
                this.broadcast(turn % 2 === 0 ? this.floor.nextDeviceStatus() : this.floor.nextJobEvent());
            }
        }, every);
    }

    stopTrickle(): void {
        if (this.trickleTimer) { clearInterval(this.trickleTimer); this.trickleTimer = null; }
    }
}

export default PrintFactorySimulator;
