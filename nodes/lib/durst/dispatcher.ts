// One webhook route per httpNode app, shared by every durst-webhook-in node through a Map<path, target>.
// Nodes add themselves on start and remove themselves on close, so a redeploy never leaves a stale route.
//
// The body: the JWT body digest is computed over the exact bytes, so the webhook must read them before any
// body parser does. In Node-RED's default layout (red.js: editor and HTTP nodes both on `/`) the editor's
// admin app, mounted first, parses every JSON and urlencoded body. So, like Node-RED's own http-in node does
// for `skipBodyParsing` (21-httpin.js, rawBodyCapture), a capture middleware sits at the front of the root
// app: for POSTs to a webhook path only, it reads the raw bytes (size limit, body timeout) and marks the
// request as parsed (`req._body`), which every body-parser skips. The request then takes its normal way
// (httpNodeAuth, httpNodeMiddleware, CORS) to the dispatcher route on httpNode, which answers. Where the
// capture cannot be placed (no root app, an unknown router), the route reads the body itself; a body that
// something else consumed first is refused with a defined 500 instead of being guessed at.
// Requests for paths that no webhook node owns are passed on with next(), so http-in routes keep working.
import { STATUS_CODES } from 'http';
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
    /** Handles a fully read POST body with a JSON content type; answers synchronously, should not throw. */
    handle(request: WebhookRequest): WebhookResponse;
    /** Told about requests rejected before they reached handle() (408, 413, 415, 500). */
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
/** Where the capture keeps the exact bytes; a symbol, so no other middleware mistakes it for its own. */
const RAW_BODY = Symbol('print-events.durst.rawBody');

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

/** Every answer of the webhook: JSON, never a stack or a server path. Never throws. */
function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
    if (res.headersSent || res.writableEnded || res.destroyed) { return; }
    try {
        const text = JSON.stringify(body ?? {});
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Length', Buffer.byteLength(text));
        if (close) { res.setHeader('Connection', 'close'); }
        res.end(text);
    } catch {
        res.destroy();
    }
}

/** The path part of a request line's target (origin form "/a/b?q", or absolute form "http://h/a/b"). */
function pathnameOf(url: string | undefined): string {
    const target = url || '/';
    if (target.startsWith('/')) {
        // Cut at '?' and at '#' as Express's parseurl does (a fragment is never sent by a browser, but a
        // hand-made request line may carry one): the capture and the route must see the same path.
        const end = target.search(/[?#]/);
        return end === -1 ? target : target.slice(0, end);
    }
    try { return new URL(target).pathname; } catch { return target; }
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

type CapturingRequest = IncomingMessage & { _body?: boolean; rawBody?: unknown; [RAW_BODY]?: Buffer };

export class WebhookDispatcher {
    private readonly targets = new Map<string, WebhookTarget>();

    /** `mountPath()` is the path httpNode is mounted at in the root app ('' or '/' at the root). */
    constructor(private readonly options: DispatcherOptions, private readonly mountPath: () => string = () => '') {}

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

    /**
     * Front-of-root-app middleware: reads the exact body of POSTs to webhook paths before any body parser
     * can, then passes the request on. Runs before Express's own init middleware, so it uses only Node's API.
     */
    readonly capture = (req: CapturingRequest, res: ServerResponse, next: Next): void => {
        if (req.method !== 'POST' || req[RAW_BODY] || req._body || req.readableEnded) { next(); return; }
        const key = this.keyFromRootPath(pathnameOf(req.url));
        if (key === undefined || !this.targets.has(key)) { next(); return; }
        this.readBody(key, req, res, (rawBody) => {
            req[RAW_BODY] = rawBody;
            // body-parser (and Node-RED's raw parser) skip a request marked as parsed.
            req._body = true;
            next();
        });
    };

    /** The route on httpNode: runs httpNodeMiddleware/CORS, then answers every request to a webhook path. */
    readonly middleware = (req: any, res: ServerResponse, next: Next): void => {
        if (req.method !== 'POST' && req.method !== 'OPTIONS') { next(); return; }
        const key = normalisePath(typeof req.path === 'string' ? req.path : pathnameOf(req.url));
        if (!this.targets.has(key)) { next(); return; }
        runChain(this.options.middleware, req, res, (err) => {
            // Express's "skip the rest of this route" signals: the middleware passes the request on.
            if (err === 'route' || err === 'router') { next(); return; }
            if (err) {
                // A middleware refused the request (or threw): answer in JSON, without its stack.
                const declared = Number((err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode);
                const status = Number.isInteger(declared) && declared >= 400 && declared <= 599 ? declared : 500;
                this.reject(key, res, status, String(STATUS_CODES[status] || 'error').toLowerCase());
                return;
            }
            if (res.headersSent) { return; }
            if (req.method !== 'POST') { next(); return; }
            this.receive(key, req, res);
        });
    };

    /** `pathname` as seen by the root app -> webhook key, or undefined when it is not under httpNode. */
    private keyFromRootPath(pathname: string): string | undefined {
        let mount: string;
        try { mount = normalisePath(this.mountPath()); } catch { return undefined; }
        const path = normalisePath(pathname);
        if (mount === '/') { return path; }
        // Express matches mount paths case-insensitively.
        const head = path.slice(0, mount.length).toLowerCase();
        if (head !== mount.toLowerCase() || (path.length > mount.length && path[mount.length] !== '/')) { return undefined; }
        return normalisePath(path.slice(mount.length));
    }

    private reject(key: string, res: ServerResponse, status: number, reason: string, close = false): void {
        try { this.targets.get(key)?.rejected?.(status, reason); } catch { /* status display only */ }
        sendJson(res, status, { ok: false, error: reason }, close);
    }

    private receive(key: string, req: CapturingRequest, res: ServerResponse): void {
        const captured = req[RAW_BODY];
        if (captured) { this.deliver(key, req, res, captured); return; }
        if (req._body || req.readableEnded) {
            // Consumed by a parser ahead of us that the capture could not precede (an unusual embedding).
            // Its raw bytes are usable if it kept them; a re-serialisation of what it parsed is not the body.
            if (Buffer.isBuffer(req.rawBody)) {
                if (req.rawBody.length > this.options.maxBodyBytes) { this.reject(key, res, 413, `body larger than ${this.options.maxBodyBytes} bytes`); return; }
                this.deliver(key, req, res, req.rawBody);
                return;
            }
            this.reject(key, res, 500, 'the request body was read by another body parser before the webhook');
            return;
        }
        this.readBody(key, req, res, (rawBody) => this.deliver(key, req, res, rawBody));
    }

    /**
     * Reads the whole body, at most maxBodyBytes, within bodyTimeoutMs. Answers 413 / 408 itself (and closes
     * the connection); a client that goes away gets no answer and nothing is counted.
     */
    private readBody(key: string, req: IncomingMessage, res: ServerResponse, onBody: (rawBody: Buffer) => void): void {
        const limit = this.options.maxBodyBytes;
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) {
            this.reject(key, res, 413, `body larger than ${limit} bytes`, true);
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
                this.reject(key, res, 413, `body larger than ${limit} bytes`, true);
                this.drainThenClose(req);
                return;
            }
            chunks.push(chunk);
        };
        const onEnd = () => {
            if (finished) { return; }
            finish();
            onBody(Buffer.concat(chunks, received));
        };
        const onError = () => { if (!finished) { finish(); } };
        const onClose = () => { if (!finished && !req.complete) { finish(); } };
        const timer = setTimeout(() => {
            if (finished) { return; }
            finish();
            this.reject(key, res, 408, 'request body not received in time', true);
            // Cut the connection once the answer is out: the rest of a dripping body is not waited for.
            if (res.writableFinished) { req.destroy(); } else { res.once('finish', () => req.destroy()); res.once('close', () => req.destroy()); }
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
        req.on('error', () => clearTimeout(guard));
        req.resume();
    }

    private deliver(key: string, req: IncomingMessage, res: ServerResponse, rawBody: Buffer): void {
        const target = this.targets.get(key);
        if (!target) {
            sendJson(res, 404, { ok: false, error: 'webhook was removed while the request was read' });
            return;
        }
        if (!isJsonContentType(req.headers['content-type'])) {
            this.reject(key, res, 415, 'Content-Type must be application/json');
            return;
        }
        let response: WebhookResponse;
        try {
            response = target.handle({ path: key, headers: req.headers, rawBody });
        } catch {
            // The target's own guard should have answered; this is the last line, without the error's text.
            try { target.rejected?.(500, 'internal error'); } catch { /* status display only */ }
            response = { status: 500, body: { ok: false, error: 'internal error' } };
        }
        sendJson(res, response.status, response.body ?? { ok: response.status < 300 });
    }
}

interface RedLike {
    settings: { [key: string]: any };
    httpNode: any;
    log?: { warn(text: string): void };
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

/** The app at the top of the mount chain (Express sets `parent` when an app is mounted in another). */
function rootApp(app: any): any {
    let current = app;
    for (let depth = 0; depth < 32 && current && current.parent; depth++) { current = current.parent; }
    return current;
}

/** The layer stack of an Express 4 (`_router`) or Express 5 (`router`) app; undefined if neither. */
function layerStack(app: any): any[] | undefined {
    try {
        const router = app._router ?? (Object.prototype.hasOwnProperty.call(app, '_router') ? undefined : app.router);
        return router && Array.isArray(router.stack) ? router.stack : undefined;
    } catch {
        return undefined; // Express 4's `app.router` getter throws
    }
}

/**
 * Puts `capture` first in the root app's stack, ahead of the editor's body parsers, the way Node-RED's
 * 21-httpin.js places its rawBodyCapture. Returns false if the stack is not reachable (the route then reads
 * the body itself, which is correct whenever no parser runs before it).
 */
function installAtFront(root: any, capture: Handler): boolean {
    if (!root || typeof root.use !== 'function') { return false; }
    const before = layerStack(root);
    if (before?.some((layer) => layer && layer.handle === capture)) { return true; }
    root.use(capture);
    const stack = layerStack(root);
    if (!stack) { return false; }
    const index = stack.findIndex((layer) => layer && layer.handle === capture);
    if (index < 0) { return false; }
    stack.unshift(stack.splice(index, 1)[0]);
    return true;
}

/**
 * Returns the dispatcher for RED.httpNode, installing its route (and the front capture) on first use;
 * undefined when the HTTP node endpoints are disabled (httpNodeRoot === false).
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
        const created = new WebhookDispatcher({
            maxBodyBytes: parseSize(RED.settings.apiMaxLength),
            bodyTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_BODY_TIMEOUT_MS,
            middleware
        }, () => (app.parent && typeof app.path === 'function' ? String(app.path()) : ''));
        dispatcher = created;
        app.use(created.middleware);
        const place = () => {
            if (!installAtFront(rootApp(app), created.capture as Handler)) {
                RED.log?.warn('durst-webhook-in: could not place the body capture ahead of other body parsers; ' +
                    'a callback whose body another parser reads first is answered 500');
            }
        };
        place();
        // Mounted later (an embedding that starts the flows first): the new root needs the capture too.
        if (typeof app.on === 'function') { app.on('mount', place); }
        dispatchers.set(app, dispatcher);
    }
    return dispatcher;
}
