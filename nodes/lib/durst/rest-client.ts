// REST client for the Durst Workflow subscriber/subscription API: one axios instance per subscriber
// config node, with a request timeout and bounded retries (exponential backoff with jitter) on network
// errors and 5xx answers. 4xx answers are never retried; they become DurstApiError with statusCode.
// Proxies follow the package's one policy (../net/proxy.ts): axios never reads the environment itself.
import type { AxiosInstance } from 'axios';
import { describeProxy } from '../net/proxy';
import { HttpTransport, pause, proxyErrorOf } from '../net/http-transport';
import type { TlsOptions } from '../net/tls';

export type ApiAuth =
    | { type: 'none' }
    | { type: 'basic'; user: string; password: string }
    | { type: 'bearer'; token: string };

export interface RestClientOptions {
    apiUrl: string;
    auth?: ApiAuth;
    timeoutMs?: number;
    /** Total attempts for retryable failures (network error, 5xx). */
    attempts?: number;
    /** First backoff delay; doubles per attempt, capped by maxBackoffMs, with ±25 % jitter. */
    backoffMs?: number;
    maxBackoffMs?: number;
    /** TLS options for an https:// API (from a tls-config node): CA, client certificate, verify. */
    tls?: TlsOptions;
}

export interface ApiResponse<T = unknown> {
    statusCode: number;
    body: T;
}

export class DurstApiError extends Error {
    readonly statusCode?: number;
    readonly body?: unknown;
    readonly code?: string;
    constructor(message: string, options: { statusCode?: number; body?: unknown; code?: string } = {}) {
        super(message);
        this.name = 'DurstApiError';
        this.statusCode = options.statusCode;
        this.body = options.body;
        this.code = options.code;
    }
}

export interface SubscriptionRecord {
    id?: number;
    path?: string | null;
    topic?: string;
    status?: string;
    publishInitialState?: boolean;
    [key: string]: unknown;
}

/**
 * Parses a response body. Besides plain JSON it tolerates the list example of the vendor docs, which is not
 * valid JSON (`{ {...}, {...} ]`): the top-level objects inside are parsed one by one and returned as an
 * array. Anything else unparseable comes back as the original text.
 */
export function parseBody(text: string): unknown {
    const trimmed = text.trim();
    if (trimmed === '') { return ''; }
    try {
        return JSON.parse(trimmed);
    } catch {
        const objects = extractObjects(trimmed);
        return objects ?? text;
    }
}

// Returns the complete top-level {...} objects nested one level inside an outer bracket pair, or undefined.
function extractObjects(text: string): unknown[] | undefined {
    if (!/^[[{]/.test(text) || !/[\]}]$/.test(text)) { return undefined; }
    const inner = text.slice(1, -1);
    const objects: unknown[] = [];
    let depth = 0;
    let start = -1;
    let inString = false;
    let escaped = false;
    for (let i = 0; i < inner.length; i++) {
        const ch = inner[i];
        if (inString) {
            if (escaped) { escaped = false; } else if (ch === '\\') { escaped = true; } else if (ch === '"') { inString = false; }
            continue;
        }
        if (ch === '"') { inString = true; continue; }
        if (ch === '{') {
            if (depth === 0) { start = i; }
            depth++;
        } else if (ch === '}') {
            depth--;
            if (depth < 0) { return undefined; }
            if (depth === 0) {
                try { objects.push(JSON.parse(inner.slice(start, i + 1))); } catch { return undefined; }
            }
        } else if (depth === 0 && !/[\s,]/.test(ch)) {
            return undefined;
        }
    }
    return depth === 0 && objects.length > 0 ? objects : undefined;
}

/** Accepts a JSON array, an object wrapping one array (content/items/subscriptions/data/...), or one object. */
export function normaliseList(body: unknown): SubscriptionRecord[] {
    if (Array.isArray(body)) { return body.filter((x) => typeof x === 'object' && x !== null) as SubscriptionRecord[]; }
    if (typeof body === 'object' && body !== null) {
        const record = body as Record<string, unknown>;
        for (const key of ['content', 'items', 'subscriptions', 'data', 'results']) {
            if (Array.isArray(record[key])) { return normaliseList(record[key]); }
        }
        const arrays = Object.values(record).filter(Array.isArray);
        if (arrays.length === 1) { return normaliseList(arrays[0]); }
        if ('id' in record) { return [record as SubscriptionRecord]; }
    }
    return [];
}


function describeStatus(status: number): string {
    switch (status) {
        case 401: return 'unauthorized: check the API user/password or token of the subscriber';
        case 403: return 'forbidden: the API account lacks permission for this call';
        case 404: return 'not found';
        case 405: return 'method not allowed';
        default: return status >= 500 ? 'server error' : 'request rejected';
    }
}

export class DurstRestClient {
    private readonly transport: HttpTransport;
    private readonly http: AxiosInstance;
    private readonly attempts: number;
    private readonly backoffMs: number;
    private readonly maxBackoffMs: number;
    /** Which create path answered last time, so later creates go straight there. */
    private createPath: 'create' | 'plain' = 'create';
    /** The proxy this client's calls go through (undefined: direct), read from the environment on creation. */
    readonly proxy?: URL;

    constructor(options: RestClientOptions) {
        const auth = options.auth ?? { type: 'none' };
        // Own keep-alive agents and an abort signal (../net/http-transport.ts): close() ends every socket and call.
        this.transport = new HttpTransport({
            baseUrl: options.apiUrl,
            timeoutMs: options.timeoutMs ?? 10000,
            tls: options.tls,
            headers: auth.type === 'bearer' ? { Authorization: 'Bearer ' + auth.token } : undefined,
            auth: auth.type === 'basic' ? { username: auth.user, password: auth.password } : undefined
        });
        this.http = this.transport.http;
        this.proxy = this.transport.proxy;
        this.attempts = Math.max(1, options.attempts ?? 3);
        this.backoffMs = options.backoffMs ?? 300;
        this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    }

    async request<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<ApiResponse<T>> {
        let lastError: DurstApiError | undefined;
        for (let attempt = 1; attempt <= this.attempts; attempt++) {
            if (attempt > 1) {
                const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 2));
                await pause(base * (0.75 + Math.random() * 0.5), this.transport.signal);
            }
            if (this.transport.closed) {
                throw new DurstApiError(`Durst API ${method} ${path} cancelled: the node was closed`, { code: 'ECLOSED' });
            }
            if (this.transport.proxyProblem) {
                throw new DurstApiError(`Durst API ${method} ${path} not sent: ${this.transport.proxyProblem.message}`, { code: 'EPROXY' });
            }
            let status: number;
            let parsed: unknown;
            try {
                const res = await this.http.request({
                    method, url: path, data: body,
                    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' }
                });
                status = res.status;
                parsed = typeof res.data === 'string' ? parseBody(res.data) : res.data;
            } catch (err) {
                const proxyError = proxyErrorOf(err);
                if (proxyError) {
                    lastError = new DurstApiError(`Durst API ${method} ${path} not reached: ${proxyError.message}`, { code: 'EPROXY' });
                    // A refusal (407, 403) is the proxy's final word; a timeout or an unreachable proxy is retried.
                    if (proxyError.statusCode !== undefined) { break; }
                    continue;
                }
                const e = err as { code?: string; message?: string };
                const route = this.proxy ? ` (through proxy ${describeProxy(this.proxy)})` : '';
                lastError = new DurstApiError(`Durst API ${method} ${path} failed: ${e.code ?? ''} ${e.message ?? String(err)}${route}`.replace(/\s+/g, ' '),
                    { code: e.code });
                continue;
            }
            if (status >= 200 && status < 300) { return { statusCode: status, body: parsed as T }; }
            // Only a proxy answers 407: say so, naming the proxy (never its credentials), instead of blaming Durst.
            const refusal = this.transport.proxyRefusal407(status);
            if (refusal) {
                lastError = new DurstApiError(`Durst API ${method} ${path} not reached: ${refusal.message}`, { code: 'EPROXY' });
                break;
            }
            lastError = new DurstApiError(`Durst API ${method} ${path} answered ${status} (${describeStatus(status)})`,
                { statusCode: status, body: parsed });
            if (status < 500) { break; }
        }
        throw lastError as DurstApiError;
    }

    /** Aborts in-flight calls, stops retries and closes the client's sockets. */
    close(): void { this.transport.close(); }

    createSubscriber(body: object) { return this.request('POST', '/api/v1/subscribers/create', body); }
    getSubscriber(id: number | string) { return this.request('GET', `/api/v1/subscribers/${enc(id)}`); }
    updateSubscriber(id: number | string, body: object) { return this.request('PUT', `/api/v1/subscribers/${enc(id)}`, body); }

    /**
     * The reference section documents POST .../subscriptions/create, the introduction POST .../subscriptions.
     * The reference path is tried first; on 404/405 the other one, and the one that worked is remembered.
     * A 404 from both means the subscriber itself is unknown; the second error is thrown.
     */
    async createSubscription(subscriberId: number | string, body: object): Promise<ApiResponse<SubscriptionRecord>> {
        const paths = {
            create: `/api/v1/subscribers/${enc(subscriberId)}/subscriptions/create`,
            plain: `/api/v1/subscribers/${enc(subscriberId)}/subscriptions`
        };
        const order: Array<'create' | 'plain'> = this.createPath === 'create' ? ['create', 'plain'] : ['plain', 'create'];
        try {
            return await this.request<SubscriptionRecord>('POST', paths[order[0]], body);
        } catch (err) {
            const status = (err as DurstApiError).statusCode;
            if (status !== 404 && status !== 405) { throw err; }
        }
        const res = await this.request<SubscriptionRecord>('POST', paths[order[1]], body);
        this.createPath = order[1];
        return res;
    }

    updateSubscription(subscriberId: number | string, subscriptionId: number | string, body: object) {
        return this.request<SubscriptionRecord>('PUT', `/api/v1/subscribers/${enc(subscriberId)}/subscriptions/${enc(subscriptionId)}`, body);
    }

    async listSubscriptions(subscriberId: number | string): Promise<ApiResponse<SubscriptionRecord[]>> {
        const res = await this.request('GET', `/api/v1/subscribers/${enc(subscriberId)}/subscriptions`);
        return { statusCode: res.statusCode, body: normaliseList(res.body) };
    }

    /** The docs show a list as this call's example answer; if a list comes back, the matching entry is picked. */
    async getSubscription(subscriberId: number | string, subscriptionId: number | string): Promise<ApiResponse<SubscriptionRecord>> {
        const res = await this.request('GET', `/api/v1/subscribers/${enc(subscriberId)}/subscriptions/${enc(subscriptionId)}`);
        if (Array.isArray(res.body) || (typeof res.body === 'string')) {
            const match = normaliseList(res.body).find((s) => String(s.id) === String(subscriptionId));
            if (!match) {
                throw new DurstApiError(`Durst API returned no subscription with id ${subscriptionId}`, { statusCode: 404, body: res.body });
            }
            return { statusCode: res.statusCode, body: match };
        }
        return res as ApiResponse<SubscriptionRecord>;
    }

    testResponse(productionJobId: number | string) {
        return this.request('GET', `/api/v1/subscribers/testresponse/${enc(productionJobId)}`);
    }
}

function enc(id: number | string): string { return encodeURIComponent(String(id)); }
