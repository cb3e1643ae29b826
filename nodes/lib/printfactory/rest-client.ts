// REST client for the PrintFactory Cloud API (api.aurelon.com/api/v2) with the account's MisKey, built for the
// bursts a notification socket delivers (one JobGUID often arrives several times within a second):
// - concurrent calls for the same request share one HTTP call; a successful answer is served again for
//   `cacheMs` (2 s by default);
// - at most `concurrency` calls run at once; the others wait in a queue of at most `queueSize` distinct calls,
//   beyond which a call fails at once with code EQUEUEFULL (never unbounded memory);
// - 429 and 503 answers are retried after their Retry-After (seconds or an HTTP date; 1 s without one), and no
//   other call of this client starts before then; a Retry-After beyond `maxRetryAfterMs` is not waited for.
// Every failure is a PrintFactoryApiError with the HTTP status and the vendor's `Message` where there was one.
// Transport (proxy policy, tls-config, keep-alive, abort on close): ../net/http-transport.ts. The MisKey is a
// header only: no message of this module contains it.
import { HttpTransport, pause, proxyErrorOf } from '../net/http-transport';
import { describeProxy } from '../net/proxy';
import type { TlsOptions } from '../net/tls';

export const DEFAULT_API_URL = 'https://api.aurelon.com';
/** PrintFactory's API for organisations in China. */
export const CHINA_API_URL = 'https://api.aurelon.cn';

export const API_ACTIONS = ['job', 'jobs', 'device', 'queues'] as const;
export type ApiAction = typeof API_ACTIONS[number];

export interface PrintFactoryApiOptions {
    apiUrl: string;
    misKey: string;
    tls?: TlsOptions;
    timeoutMs?: number;
    /** Calls running at once (default 4). */
    concurrency?: number;
    /** Distinct calls waiting for a free slot (default 100); one more fails with EQUEUEFULL. */
    queueSize?: number;
    /** How long a successful answer is served again (default 2000; 0 = no cache). */
    cacheMs?: number;
    /** Total attempts of a call answered 429/503 (default 3). */
    attempts?: number;
    /** Longest Retry-After the client waits for (default 30000); a longer one fails the call. */
    maxRetryAfterMs?: number;
    /** Called when a 429/503 makes the client wait (for a node's status). */
    onRetry?: (info: { statusCode: number; retryInMs: number }) => void;
}

export type ApiErrorCode = 'EHTTP' | 'ENOTJSON' | 'ETIMEDOUT' | 'ENETWORK' | 'EPROXY' | 'EQUEUEFULL' | 'ECLOSED' | 'EBADURL';

export class PrintFactoryApiError extends Error {
    readonly code: ApiErrorCode;
    /** The HTTP status, when an answer came. */
    readonly statusCode?: number;
    /** The vendor's `Message` of an error answer. */
    readonly vendorMessage?: string;
    /** The parsed error answer (JSON), if any. */
    readonly body?: unknown;
    constructor(message: string, code: ApiErrorCode, extra: { statusCode?: number; vendorMessage?: string; body?: unknown } = {}) {
        super(message);
        this.name = 'PrintFactoryApiError';
        this.code = code;
        this.statusCode = extra.statusCode;
        this.vendorMessage = extra.vendorMessage;
        this.body = extra.body;
    }
}

export interface ApiAnswer {
    statusCode: number;
    body: unknown;
    /** 'cache': served from the short cache; 'shared': joined a call another request had started; 'call': own call. */
    source: 'call' | 'shared' | 'cache';
}

export interface ApiStats {
    /** HTTP requests sent (retries included). */
    httpCalls: number;
    cacheHits: number;
    shared: number;
    queueFull: number;
    active: number;
    queued: number;
}

type Pending = Promise<{ statusCode: number; body: unknown }>;

interface Waiting { start: () => void }

/** Retry-After in ms (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
    const text = Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value.trim() : undefined;
    if (!text) { return undefined; }
    if (/^\d+(\.\d+)?$/.test(text)) { return Math.round(Number(text) * 1000); }
    const date = Date.parse(text);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The answer's JSON, or undefined for a body that is not JSON (an HTML gateway page, a truncated answer). */
function parseJson(text: unknown): { ok: true; value: unknown } | { ok: false } {
    if (typeof text !== 'string') { return { ok: true, value: text }; }
    if (text.trim() === '') { return { ok: true, value: null }; }
    try { return { ok: true, value: JSON.parse(text) as unknown }; } catch { return { ok: false }; }
}

/** The GUID as a path segment: trimmed and escaped (a GUID never needs escaping; anything else must not break the path). */
function segment(guid: string): string { return encodeURIComponent(guid.trim()); }

export class PrintFactoryApiClient {
    private readonly transport: HttpTransport;
    private readonly concurrency: number;
    private readonly queueSize: number;
    private readonly cacheMs: number;
    private readonly attempts: number;
    private readonly maxRetryAfterMs: number;
    private readonly onRetry?: PrintFactoryApiOptions['onRetry'];
    private readonly badUrl?: string;
    private readonly inFlight = new Map<string, Pending>();
    private readonly cache = new Map<string, { expires: number; statusCode: number; body: unknown }>();
    private readonly queue: Waiting[] = [];
    private active = 0;
    /** No call starts before this time (ms epoch): set by a 429/503 Retry-After. */
    private pausedUntil = 0;
    readonly stats: ApiStats = { httpCalls: 0, cacheHits: 0, shared: 0, queueFull: 0, active: 0, queued: 0 };

    constructor(options: PrintFactoryApiOptions) {
        const apiUrl = options.apiUrl.trim().replace(/\/+$/, '');
        if (!/^https?:\/\/[^/\s]+/i.test(apiUrl)) { this.badUrl = 'the API URL must start with http:// or https://'; }
        const timeoutMs = options.timeoutMs ?? 10000;
        this.transport = new HttpTransport({ baseUrl: apiUrl, timeoutMs, tls: options.tls, headers: { MisKey: options.misKey }, maxSockets: options.concurrency ?? 4 });
        this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
        this.queueSize = Math.max(0, Math.floor(options.queueSize ?? 100));
        this.cacheMs = Math.max(0, options.cacheMs ?? 2000);
        this.attempts = Math.max(1, options.attempts ?? 3);
        this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30000;
        this.onRetry = options.onRetry;
    }

    /** GET /api/v2/job/{JobGUID}/status */
    jobStatus(jobGuid: string): Promise<ApiAnswer> { return this.request('GET', `/api/v2/job/${segment(jobGuid)}/status`); }

    /** POST /api/v2/job/list with the documented filter fields (StatusList, DeviceGUID, Job, ...). */
    jobList(filter: Record<string, unknown>): Promise<ApiAnswer> { return this.request('POST', '/api/v2/job/list', filter); }

    /** GET /api/v2/device/{DeviceGUID}/status; the one-element array one vendor page shows is unwrapped. */
    async deviceStatus(deviceGuid: string): Promise<ApiAnswer> {
        const answer = await this.request('GET', `/api/v2/device/${segment(deviceGuid)}/status`);
        const body = answer.body;
        return Array.isArray(body) && body.length === 1 && typeof body[0] === 'object' ? { ...answer, body: body[0] } : answer;
    }

    /** GET /api/v2/device/{DeviceGUID}/queues */
    deviceQueues(deviceGuid: string): Promise<ApiAnswer> { return this.request('GET', `/api/v2/device/${segment(deviceGuid)}/queues`); }

    /**
     * One API call through the cache, the sharing of identical calls in flight and the concurrency limit.
     * Resolves with a 2xx answer; every failure rejects with a PrintFactoryApiError.
     */
    async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiAnswer> {
        const key = body === undefined ? `${method} ${path}` : `${method} ${path} ${JSON.stringify(body)}`;
        const cached = this.cache.get(key);
        if (cached && cached.expires > Date.now()) {
            this.stats.cacheHits += 1;
            return { statusCode: cached.statusCode, body: cached.body, source: 'cache' };
        }
        if (cached) { this.cache.delete(key); }
        const pending = this.inFlight.get(key);
        if (pending) {
            this.stats.shared += 1;
            const answer = await pending;
            return { ...answer, source: 'shared' };
        }
        const promise: Pending = this.queued(() => this.call(method, path, body));
        this.inFlight.set(key, promise);
        try {
            const answer = await promise;
            if (this.cacheMs > 0 && !this.transport.closed) {
                this.cache.set(key, { expires: Date.now() + this.cacheMs, ...answer });
                this.pruneCache();
            }
            return { ...answer, source: 'call' };
        } finally {
            if (this.inFlight.get(key) === promise) { this.inFlight.delete(key); }
        }
    }

    /** Aborts calls in flight, fails every queued call (ECLOSED) and closes the sockets. */
    close(): void {
        this.transport.close();
        const waiting = this.queue.splice(0);
        for (const w of waiting) { w.start(); }
        this.cache.clear();
    }

    // Runs `task` when a slot is free; rejects at once when the queue is full.
    private queued<T>(task: () => Promise<T>): Promise<T> {
        const run = async (): Promise<T> => {
            this.active += 1;
            this.stats.active = this.active;
            try {
                return await task();
            } finally {
                this.active -= 1;
                this.stats.active = this.active;
                const next = this.queue.shift();
                this.stats.queued = this.queue.length;
                next?.start();
            }
        };
        if (this.active < this.concurrency) { return run(); }
        if (this.queue.length >= this.queueSize) {
            this.stats.queueFull += 1;
            return Promise.reject(new PrintFactoryApiError(
                `PrintFactory API: too many requests waiting (${this.queueSize} queued, ${this.concurrency} running); this one was not sent`, 'EQUEUEFULL'));
        }
        return new Promise<T>((resolve, reject) => {
            this.queue.push({ start: () => { run().then(resolve, reject); } });
            this.stats.queued = this.queue.length;
        });
    }

    private async call(method: 'GET' | 'POST', path: string, body: unknown): Promise<{ statusCode: number; body: unknown }> {
        const what = `${method} ${path}`;
        for (let attempt = 1; ; attempt++) {
            const wait = this.pausedUntil - Date.now();
            if (wait > 0) { await pause(wait, this.transport.signal); }
            if (this.transport.closed) { throw new PrintFactoryApiError(`PrintFactory API ${what} cancelled: the node was closed`, 'ECLOSED'); }
            if (this.badUrl) { throw new PrintFactoryApiError(`PrintFactory API ${what} not sent: ${this.badUrl}`, 'EBADURL'); }
            if (this.transport.proxyProblem) {
                throw new PrintFactoryApiError(`PrintFactory API ${what} not sent: ${this.transport.proxyProblem.message}`, 'EPROXY');
            }
            let status: number;
            let text: unknown;
            let headers: Record<string, unknown>;
            this.stats.httpCalls += 1;
            try {
                const res = await this.transport.http.request({
                    method, url: path, data: body === undefined ? undefined : JSON.stringify(body),
                    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' }
                });
                status = res.status;
                text = res.data;
                headers = res.headers as Record<string, unknown>;
            } catch (err) {
                throw this.transportError(what, err);
            }
            const refusal = this.transport.proxyRefusal407(status);
            if (refusal) { throw new PrintFactoryApiError(`PrintFactory API ${what} not reached: ${refusal.message}`, 'EPROXY', { statusCode: 407 }); }
            const parsed = parseJson(text);
            if (status >= 200 && status < 300) {
                if (!parsed.ok) {
                    throw new PrintFactoryApiError(`PrintFactory API ${what} answered ${status} with a body that is not JSON`, 'ENOTJSON', { statusCode: status });
                }
                return { statusCode: status, body: parsed.value };
            }
            const value = parsed.ok ? parsed.value : undefined;
            const vendorMessage = typeof (value as { Message?: unknown } | null)?.Message === 'string' ? (value as { Message: string }).Message : undefined;
            if ((status === 429 || status === 503) && attempt < this.attempts) {
                const delay = retryAfterMs(headers['retry-after']) ?? 1000;
                if (delay <= this.maxRetryAfterMs) {
                    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
                    try { this.onRetry?.({ statusCode: status, retryInMs: delay }); } catch { /* a status callback must not break the call */ }
                    continue;
                }
            }
            const detail = vendorMessage !== undefined ? `: ${vendorMessage}` : parsed.ok ? '' : ' (the answer is not JSON)';
            throw new PrintFactoryApiError(`PrintFactory API ${what} answered ${status}${detail}`, parsed.ok ? 'EHTTP' : 'ENOTJSON',
                { statusCode: status, vendorMessage, body: value });
        }
    }

    private transportError(what: string, err: unknown): PrintFactoryApiError {
        if (this.transport.closed) { return new PrintFactoryApiError(`PrintFactory API ${what} cancelled: the node was closed`, 'ECLOSED'); }
        const proxyError = proxyErrorOf(err);
        if (proxyError) { return new PrintFactoryApiError(`PrintFactory API ${what} not reached: ${proxyError.message}`, 'EPROXY'); }
        const e = err as { code?: string; message?: string };
        const route = this.transport.proxy ? ` (through proxy ${describeProxy(this.transport.proxy)})` : '';
        if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
            return new PrintFactoryApiError(`PrintFactory API ${what} timed out${route}`, 'ETIMEDOUT');
        }
        return new PrintFactoryApiError(`PrintFactory API ${what} failed: ${e.code ?? ''} ${e.message ?? String(err)}${route}`.replace(/\s+/g, ' '), 'ENETWORK');
    }

    // Expired entries go when the cache grows (bounded by the distinct calls of one cache window).
    private pruneCache(): void {
        if (this.cache.size < 256) { return; }
        const now = Date.now();
        for (const [key, entry] of this.cache) { if (entry.expires <= now) { this.cache.delete(key); } }
    }
}
