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
//
// Libraries: the ones Node-RED core's `http in` uses (raw-body, bytes, content-type, cors) plus type-is
// (Express's own media-type matcher) and iconv-lite (raw-body's decoder), declared as our dependencies.
import { STATUS_CODES } from 'http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'http';
import getRawBody from 'raw-body';
import bytes from 'bytes';
import * as contentType from 'content-type';
import typeIs from 'type-is';
import cors from 'cors';
import iconv from 'iconv-lite';

export interface WebhookRequest {
    path: string;
    headers: IncomingHttpHeaders;
    rawBody: Buffer;
    /** The charset to decode the body with: the declared one (lower case), 'utf-8' when none is declared. */
    charset: string;
}

export interface WebhookResponse {
    status: number;
    body?: unknown;
}

export interface WebhookTarget {
    /** Handles a fully read POST body of an accepted content type; answers synchronously, should not throw. */
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

/** Parses an Express-style size ("5mb", "100kb", "1024") into bytes, as body-parser reads apiMaxLength. */
export function parseSize(value: unknown, fallback = DEFAULT_MAX_BODY): number {
    if (typeof value === 'number') { return Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback; }
    if (typeof value !== 'string') { return fallback; }
    const parsed = bytes.parse(value);
    return typeof parsed === 'number' && Number.isFinite(parsed) && parsed > 0 ? Math.floor(parsed) : fallback;
}

/**
 * The content types a callback body may come with. Durst is a Spring application: a body sent as a String goes
 * out as text/plain (charset ISO-8859-1 by default), a byte array as application/octet-stream; text/json is an
 * older JSON type. A missing Content-Type is tolerated as JSON. Everything else (forms, multipart, XML) is a 415.
 */
export const CALLBACK_CONTENT_TYPES = ['application/json', 'application/*+json', 'text/json', 'text/plain', 'application/octet-stream'];

export type BodyEncoding = { ok: true; charset: string } | { ok: false; error: string };

/**
 * Content-Type header -> the charset to decode the body with, or why it is refused (415). The charset is the
 * declared one if iconv-lite knows it (UTF-8, ISO-8859-1, Windows-1252, UTF-16 ...), UTF-8 when none is declared.
 */
export function bodyEncoding(value: string | undefined): BodyEncoding {
    if (value === undefined || value.trim() === '') { return { ok: true, charset: 'utf-8' }; }
    let parsed: contentType.ParsedMediaType;
    try {
        // content-type refuses an empty trailing parameter ("application/json;"), which some senders write.
        parsed = contentType.parse(value.replace(/[\s;]+$/, ''));
    } catch {
        return { ok: false, error: 'Content-Type is not a valid media type' };
    }
    if (!typeIs.is(parsed.type, CALLBACK_CONTENT_TYPES)) {
        return { ok: false, error: 'Content-Type must be JSON (application/json, text/json, text/plain or application/octet-stream)' };
    }
    const charset = (parsed.parameters.charset ?? '').trim().toLowerCase();
    if (charset === '') { return { ok: true, charset: 'utf-8' }; }
    if (!iconv.encodingExists(charset)) {
        // The name is the sender's text: keep it short and printable (it goes to the answer and the log).
        return { ok: false, error: `unsupported charset "${charset.replace(/[^\x21-\x7e]/g, '?').slice(0, 40)}"` };
    }
    return { ok: true, charset: charset === 'utf8' ? 'utf-8' : charset };
}

/** True when the Content-Type header is one the webhook accepts (with a usable charset). */
export function isJsonContentType(value: string | undefined): boolean {
    return bodyEncoding(value).ok;
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
        let finished = false;
        const finish = () => {
            finished = true;
            clearTimeout(timer);
            req.removeListener('close', onClose);
        };
        // raw-body has no time limit (a slow drip would be held for as long as the sender likes): the timer is ours.
        const timer = setTimeout(() => {
            if (finished) { return; }
            finish();
            this.reject(key, res, 408, 'request body not received in time', true);
            // Cut the connection once the answer is out: the rest of a dripping body is not waited for.
            if (res.writableFinished) { req.destroy(); } else { res.once('finish', () => req.destroy()); res.once('close', () => req.destroy()); }
        }, this.options.bodyTimeoutMs);
        // raw-body never calls back for a request closed before its end: the timer must not outlive it.
        const onClose = () => { if (!finished && !req.complete) { finish(); } };
        req.on('close', onClose);
        getRawBody(req, { length: req.headers['content-length'], limit }, (err, rawBody) => {
            if (finished) { return; }
            finish();
            if (!err) { onBody(rawBody); return; }
            const type = (err as { type?: string }).type;
            if (type === 'entity.too.large') {
                this.reject(key, res, 413, `body larger than ${limit} bytes`, true);
                this.drainThenClose(req);
            } else if (type === 'request.aborted' || type === 'request.size.invalid') {
                // The client went away mid-body: nobody is left to read an answer, and nothing is counted.
                req.destroy();
            } else {
                this.reject(key, res, 500, 'the request body could not be read', true);
                req.destroy();
            }
        });
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
        const encoding = bodyEncoding(req.headers['content-type']);
        if (!encoding.ok) {
            this.reject(key, res, 415, encoding.error);
            return;
        }
        let response: WebhookResponse;
        try {
            response = target.handle({ path: key, headers: req.headers, rawBody, charset: encoding.charset });
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

// Used like 21-httpin.js does with httpNodeCors.
function corsHandler(options: unknown): Handler | undefined {
    return options ? cors(options as cors.CorsOptions) as Handler : undefined;
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
        const corsMiddleware = corsHandler(RED.settings.httpNodeCors);
        if (corsMiddleware) { middleware.push(corsMiddleware); }
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
