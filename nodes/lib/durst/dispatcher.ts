// One webhook route per httpNode app, shared by every durst-webhook-in node through a Map<path, target>.
// Nodes add themselves on start and remove themselves on close, so no Express internals are touched and a
// redeploy never leaves a stale route. The dispatcher reads the raw body itself (the JWT body digest is
// computed over the exact bytes), with a size limit (apiMaxLength) and a timeout against slow-drip bodies.
// Requests for paths that no webhook node owns are passed on with next(), so http-in routes keep working.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'http';

export interface WebhookRequest {
    path: string;
    headers: IncomingHttpHeaders;
    rawBody: Buffer;
}

export interface WebhookResponse {
    status: number;
    body?: unknown;
}

export interface WebhookTarget {
    /** Handles a fully read POST body; must answer synchronously and never throw for bad input. */
    handle(request: WebhookRequest): WebhookResponse;
    /** Told about requests rejected before they reached handle() (415, 413, 408). */
    rejected?(status: number, reason: string): void;
}

export interface DispatcherOptions {
    maxBodyBytes: number;
    bodyTimeoutMs: number;
    middleware: Handler[];
}

type Next = (err?: unknown) => void;
type Handler = (req: any, res: any, next: Next) => void;

export const DEFAULT_BODY_TIMEOUT_MS = 30000;
const DEFAULT_MAX_BODY = 5 * 1024 * 1024;

/** Leading slash, no trailing slash, no duplicate slashes. */
export function normalisePath(path: string): string {
    const trimmed = String(path ?? '').trim().replace(/\/{2,}/g, '/').replace(/\/+$/, '');
    return trimmed.startsWith('/') ? trimmed || '/' : '/' + trimmed;
}

/** Parses an Express-style size ("5mb", "100kb", "1024") into bytes. */
export function parseSize(value: unknown, fallback = DEFAULT_MAX_BODY): number {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) { return Math.floor(value); }
    if (typeof value !== 'string') { return fallback; }
    const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
    if (!match) { return fallback; }
    const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
    return Math.floor(parseFloat(match[1]) * units[(match[2] || 'b').toLowerCase()]);
}

/** application/json and any application/<x>+json; a missing Content-Type is tolerated as JSON. */
export function isJsonContentType(value: string | undefined): boolean {
    if (value === undefined || value.trim() === '') { return true; }
    const type = value.split(';')[0].trim().toLowerCase();
    return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

export class DuplicatePathError extends Error {
    constructor(path: string) {
        super(`another durst-webhook-in node already listens on ${path}; every webhook path must be unique`);
        this.name = 'DuplicatePathError';
    }
}

function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
    if (res.headersSent) { return; }
    const text = JSON.stringify(body ?? {});
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    if (close) { res.setHeader('Connection', 'close'); }
    res.end(text);
}

function reserialisedBody(body: unknown): Buffer | undefined {
    if (body === undefined || typeof body === 'function') { return undefined; }
    try { return Buffer.from(JSON.stringify(body)); } catch { return undefined; }
}

function runChain(handlers: Handler[], req: IncomingMessage, res: ServerResponse, done: Next): void {
    let index = 0;
    const step: Next = (err) => {
        if (err || index >= handlers.length) { done(err); return; }
        const handler = handlers[index++];
        try { handler(req, res, step); } catch (e) { done(e); }
    };
    step();
}

export class WebhookDispatcher {
    private readonly targets = new Map<string, WebhookTarget>();

    constructor(private readonly options: DispatcherOptions) {}

    register(path: string, target: WebhookTarget): string {
        const key = normalisePath(path);
        const existing = this.targets.get(key);
        if (existing && existing !== target) { throw new DuplicatePathError(key); }
        this.targets.set(key, target);
        return key;
    }

    /** Removes the path only if it still belongs to this target. */
    unregister(path: string, target: WebhookTarget): void {
        const key = normalisePath(path);
        if (this.targets.get(key) === target) { this.targets.delete(key); }
    }

    get size(): number { return this.targets.size; }

    readonly middleware = (req: any, res: ServerResponse, next: Next): void => {
        if (req.method !== 'POST' && req.method !== 'OPTIONS') { next(); return; }
        const key = normalisePath(typeof req.path === 'string' ? req.path : (req.url || '/').split('?')[0]);
        if (!this.targets.has(key)) { next(); return; }
        runChain(this.options.middleware, req, res, (err) => {
            if (err) { next(err); return; }
            if (res.headersSent) { return; }
            if (req.method !== 'POST') { next(); return; }
            this.receive(key, req, res);
        });
    };

    private receive(key: string, req: IncomingMessage & { _body?: boolean; rawBody?: unknown }, res: ServerResponse): void {
        const target = this.targets.get(key);
        if (!target) { sendJson(res, 404, { ok: false, error: 'no webhook at this path' }); return; }
        const reject = (status: number, reason: string, close = false) => {
            try { target.rejected?.(status, reason); } catch { /* status display only */ }
            sendJson(res, status, { ok: false, error: reason }, close);
        };
        if (!isJsonContentType(req.headers['content-type'])) {
            reject(415, 'Content-Type must be application/json');
            req.resume();
            return;
        }
        if (req._body || req.readableEnded) {
            // A body parser ahead of us already consumed the stream: the editor's admin app does this for every
            // JSON request when httpAdminRoot and httpNodeRoot are both '/' (Node-RED's default), and so may an
            // httpNodeMiddleware. Use its raw bytes if it kept them, else the compact re-serialisation of what it
            // parsed (what Durst and our simulator send, so a JWT body digest still matches).
            const raw = Buffer.isBuffer(req.rawBody) ? req.rawBody : reserialisedBody((req as { body?: unknown }).body);
            if (raw && raw.length > this.options.maxBodyBytes) { reject(413, `body larger than ${this.options.maxBodyBytes} bytes`); return; }
            if (raw) { this.deliver(key, target, req, res, raw); return; }
            sendJson(res, 500, { ok: false, error: 'request body was consumed by a body parser ahead of the webhook and is not available' });
            return;
        }
        const limit = this.options.maxBodyBytes;
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) {
            reject(413, `body larger than ${limit} bytes`, true);
            this.drainThenClose(req);
            return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        let finished = false;
        const finish = () => {
            finished = true;
            clearTimeout(timer);
            req.removeListener('data', onData);
            req.removeListener('end', onEnd);
            req.removeListener('error', onError);
            req.removeListener('close', onClose);
        };
        const onData = (chunk: Buffer) => {
            received += chunk.length;
            if (received > limit) {
                finish();
                reject(413, `body larger than ${limit} bytes`, true);
                this.drainThenClose(req);
                return;
            }
            chunks.push(chunk);
        };
        const onEnd = () => {
            if (finished) { return; }
            finish();
            this.deliver(key, target, req, res, Buffer.concat(chunks, received));
        };
        const onError = () => { if (!finished) { finish(); } };
        // The client went away before the body was complete: nothing to answer, nothing to count.
        const onClose = () => { if (!finished && !req.complete) { finish(); } };
        const timer = setTimeout(() => {
            if (finished) { return; }
            finish();
            reject(408, 'request body not received in time', true);
            req.destroy();
        }, this.options.bodyTimeoutMs);
        req.on('data', onData);
        req.on('end', onEnd);
        req.on('error', onError);
        req.on('close', onClose);
    }

    // Reads and discards what is still coming (so the client sees the answer), but never for longer than the timeout.
    private drainThenClose(req: IncomingMessage): void {
        const guard = setTimeout(() => req.destroy(), this.options.bodyTimeoutMs);
        req.on('end', () => clearTimeout(guard));
        req.on('close', () => clearTimeout(guard));
        req.resume();
    }

    private deliver(key: string, target: WebhookTarget, req: IncomingMessage, res: ServerResponse, rawBody: Buffer): void {
        if (this.targets.get(key) !== target) {
            sendJson(res, 404, { ok: false, error: 'webhook was removed while the request was read' });
            return;
        }
        let response: WebhookResponse;
        try {
            response = target.handle({ path: key, headers: req.headers, rawBody });
        } catch (err) {
            response = { status: 500, body: { ok: false, error: (err as Error).message } };
        }
        sendJson(res, response.status, response.body ?? { ok: response.status < 300 });
    }
}

interface RedLike {
    settings: { [key: string]: any };
    httpNode: any;
}

const dispatchers = new WeakMap<object, WebhookDispatcher>();

function corsHandler(options: unknown): Handler | undefined {
    if (!options) { return undefined; }
    try {
        // The cors package ships with Node-RED; used like 21-httpin.js does with httpNodeCors.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const cors = require('cors') as (o: unknown) => Handler;
        return cors(options);
    } catch {
        const origin = typeof (options as { origin?: unknown }).origin === 'string' ? (options as { origin: string }).origin : '*';
        return (_req, res, next) => { res.setHeader('Access-Control-Allow-Origin', origin); next(); };
    }
}

/**
 * Returns the dispatcher for RED.httpNode, installing its single route on first use; undefined when the
 * HTTP node endpoints are disabled (httpNodeRoot === false).
 */
export function getDispatcher(RED: RedLike): WebhookDispatcher | undefined {
    if (RED.settings.httpNodeRoot === false || !RED.httpNode) { return undefined; }
    const app = RED.httpNode;
    let dispatcher = dispatchers.get(app);
    if (!dispatcher) {
        const middleware: Handler[] = [];
        const configured = RED.settings.httpNodeMiddleware;
        if (typeof configured === 'function') { middleware.push(configured); }
        if (Array.isArray(configured)) { middleware.push(...(configured.filter((m: unknown) => typeof m === 'function') as Handler[])); }
        const cors = corsHandler(RED.settings.httpNodeCors);
        if (cors) { middleware.push(cors); }
        const timeout = Number(RED.settings.durstWebhookTimeout);
        dispatcher = new WebhookDispatcher({
            maxBodyBytes: parseSize(RED.settings.apiMaxLength),
            bodyTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_BODY_TIMEOUT_MS,
            middleware
        });
        app.use(dispatcher.middleware);
        dispatchers.set(app, dispatcher);
    }
    return dispatcher;
}
