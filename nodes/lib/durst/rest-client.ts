// REST client for the Durst Workflow subscriber/subscription API: one axios instance per durst-subscriber
// service, with a request timeout, the API session (login token, see session.ts) and tolerant reading of
// what a Spring server plausibly answers: lists as an array, the documented not-quite-JSON list, HAL
// `_embedded` or paged `content` (every page is read); a single GET that is not implemented falls back to
// the list; a 2xx with an HTML page (a proxy or SSO login in front) is an error, never an empty list.
// Only calls that change nothing (GET, PUT of the same body, login) are retried here, quickly and a few
// times, by the one policy in errors.ts; a create is sent once (the service decides what happens next).
// Proxies follow the package's one policy (../net/proxy.ts): axios never reads the environment itself.
import type { AxiosInstance } from 'axios';
import { describeProxy } from '../net/proxy';
import { HttpTransport, pause, proxyErrorOf } from '../net/http-transport';
import type { TlsOptions } from '../net/tls';
import { DurstApiError, DurstId, isRetryable, markNotSent, sameId, wasNotSent } from './errors';
import { backoffDelay } from '../backoff';
import { DurstSession, LoginMethod } from './session';
import { isRecord } from '../is-record';

export { DurstApiError } from './errors';

export type ApiAuth =
    | { type: 'none' }
    | { type: 'basic'; user: string; password: string }
    | { type: 'bearer'; token: string }
    | { type: 'login'; user: string; password: string; method?: LoginMethod };

export interface RestClientOptions {
    apiUrl: string;
    auth?: ApiAuth;
    timeoutMs?: number;
    /** Total attempts of a call that changes nothing (GET, PUT, login) on a retryable failure. Creates: always 1. */
    attempts?: number;
    /** First backoff delay; doubles per attempt, capped by maxBackoffMs, with jitter. */
    backoffMs?: number;
    maxBackoffMs?: number;
    /** TLS options for an https:// API (from a tls-config node): CA, client certificate, verify. */
    tls?: TlsOptions;
}

export interface ApiResponse<T = unknown> {
    statusCode: number;
    body: T;
    /** Response headers, lower-case names. */
    headers?: Record<string, unknown>;
}

export interface SubscriptionRecord {
    id?: DurstId;
    path?: string | null;
    topic?: string;
    status?: string;
    publishInitialState?: boolean;
    [key: string]: unknown;
}

export const HTML_ERROR = 'Durst answered an HTML page: is a proxy or login page in front of apiUrl?';

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

/** Whether a body (raw text) is an HTML page rather than an API answer. */
export function looksLikeHtml(text: string, contentType: unknown): boolean {
    if (/text\/html|application\/xhtml/i.test(String(contentType ?? ''))) { return true; }
    return /^\s*(<!doctype html|<html|<head|<body|<\?xml[^>]*>\s*<html)/i.test(text);
}

const records = (list: unknown[]): SubscriptionRecord[] => list.filter(isRecord) as SubscriptionRecord[];

/** One page of a list answer: its entries and where the next page is (a path or page number), if any. */
export interface ListPage {
    items: SubscriptionRecord[];
    next?: { href: string } | { page: number; size?: number };
}

/**
 * Reads one list answer: a JSON array (or the documented not-quite-JSON list), HAL (`_embedded.<name>[]`,
 * paging in `page` and `_links.next`), a Spring page (`content[]`, `totalPages`, `number`, `last`), or an
 * object wrapping one array. Anything else is not a list: undefined (the caller makes that an error).
 */
export function readListPage(body: unknown): ListPage | undefined {
    if (Array.isArray(body)) { return { items: records(body) }; }
    if (!isRecord(body)) { return undefined; }
    let items: SubscriptionRecord[] | undefined;
    if (isRecord(body._embedded)) {
        const arrays = Object.values(body._embedded).filter(Array.isArray) as unknown[][];
        items = records(arrays.flat());
    } else if (Array.isArray(body.content)) {
        items = records(body.content);
    } else {
        for (const key of ['items', 'subscriptions', 'data', 'results']) {
            if (Array.isArray(body[key])) { items = records(body[key] as unknown[]); break; }
        }
        if (!items) {
            const arrays = Object.values(body).filter(Array.isArray) as unknown[][];
            if (arrays.length === 1) { items = records(arrays[0]); }
        }
        if (!items && 'id' in body && 'topic' in body) { items = [body as SubscriptionRecord]; }
    }
    if (!items) {
        // An empty HAL answer may carry no _embedded at all, only page info.
        if (isRecord(body.page) && Number(body.page.totalElements) === 0) { return { items: [] }; }
        return undefined;
    }
    const links = isRecord(body._links) && isRecord(body._links.next) ? body._links.next : undefined;
    if (links && typeof links.href === 'string' && links.href !== '') { return { items, next: { href: links.href } }; }
    const paging = isRecord(body.page) ? body.page : body;
    const number = Number(paging.number);
    const totalPages = Number(paging.totalPages);
    const size = Number(paging.size);
    const current = Number.isInteger(number) && number >= 0 ? number : undefined;
    const more = body.last === false || (current !== undefined && Number.isInteger(totalPages) && current + 1 < totalPages)
        || (current === undefined && Number.isInteger(totalPages) && totalPages > 1);
    if (more) {
        return { items, next: { page: (current ?? 0) + 1, size: Number.isInteger(size) && size > 0 ? size : undefined } };
    }
    return { items };
}

/** Accepts every list shape of readListPage (first page only); anything else is an empty list. */
export function normaliseList(body: unknown): SubscriptionRecord[] {
    return readListPage(body)?.items ?? [];
}

/** At most this many pages of one list are read (a server whose `next` never ends cannot keep us busy). */
const MAX_PAGES = 100;

function describeStatus(status: number): string {
    switch (status) {
        case 401: return 'unauthorized: check the API login (user/password) or token of the durst-subscriber';
        case 403: return 'forbidden: the API account lacks permission for this call';
        case 404: return 'not found';
        case 405: return 'method not allowed';
        case 501: return 'not implemented';
        default: return status >= 500 ? 'server error' : 'request rejected';
    }
}

interface RawAnswer { status: number; headers: Record<string, unknown>; body: unknown }

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
    /** The login session when the API is reached with apiAuth 'login'. */
    readonly session?: DurstSession;

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
        if (auth.type === 'login') {
            this.session = new DurstSession({ user: auth.user, password: auth.password, method: auth.method ?? 'auto' },
                (req) => this.raw(req.method, req.path, { data: req.data, params: req.params }));
        }
    }

    /** One HTTP exchange, no retry, no token handling. Socket and proxy failures become DurstApiError; 2xx HTML too. */
    private async raw(method: string, path: string, options: { data?: unknown; params?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
        if (this.transport.closed) {
            throw new DurstApiError(`Durst API ${method} ${path} cancelled: the node was closed`, { code: 'ECLOSED' });
        }
        if (this.transport.proxyProblem) {
            throw new DurstApiError(`Durst API ${method} ${path} not sent: ${this.transport.proxyProblem.message}`, { code: 'EPROXY' });
        }
        let res;
        try {
            res = await this.http.request({
                method, url: path, data: options.data, params: options.params,
                headers: { ...(options.data === undefined ? {} : { 'Content-Type': 'application/json' }), ...options.headers }
            });
        } catch (err) {
            const proxyError = proxyErrorOf(err);
            if (proxyError) {
                throw new DurstApiError(`Durst API ${method} ${path} not reached: ${proxyError.message}`, { code: 'EPROXY', statusCode: proxyError.statusCode });
            }
            const e = err as { code?: string; message?: string };
            if (this.transport.closed) {
                throw new DurstApiError(`Durst API ${method} ${path} cancelled: the node was closed`, { code: 'ECLOSED' });
            }
            const route = this.proxy ? ` (through proxy ${describeProxy(this.proxy)})` : '';
            throw new DurstApiError(`Durst API ${method} ${path} failed: ${e.code ?? ''} ${e.message ?? String(err)}${route}`.replace(/\s+/g, ' '),
                { code: e.code ?? 'ENETWORK' });
        }
        const text = typeof res.data === 'string' ? res.data : '';
        const headers = Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        if (res.status >= 200 && res.status < 300 && looksLikeHtml(text, headers['content-type'])) {
            throw new DurstApiError(`${HTML_ERROR} (${method} ${path} answered ${res.status})`, { statusCode: res.status, code: 'EHTML' });
        }
        // Only a proxy answers 407: say so, naming the proxy (never its credentials), instead of blaming Durst.
        const refusal = this.transport.proxyRefusal407(res.status);
        if (refusal) {
            throw new DurstApiError(`Durst API ${method} ${path} not reached: ${refusal.message}`, { code: 'EPROXY', statusCode: 407 });
        }
        return { status: res.status, headers, body: typeof res.data === 'string' ? parseBody(res.data) : res.data };
    }

    /** Runs `once` up to `attempts` times while it fails retryably; a call that may change something runs once. */
    private async retried<T>(repeatable: boolean, once: () => Promise<T>): Promise<T> {
        const attempts = repeatable ? this.attempts : 1;
        for (let attempt = 1; ; attempt++) {
            try {
                return await once();
            } catch (err) {
                if (attempt >= attempts || !isRetryable(err) || wasNotSent(err)) { throw err; }
                await pause(backoffDelay(attempt, this.backoffMs, this.maxBackoffMs), this.transport.signal);
            }
        }
    }

    /** The session token; a login changes nothing, so it is retried like a GET (and not once more by the call around it). */
    private async loginToken(): Promise<string> {
        const session = this.session as DurstSession;
        try {
            return await this.retried(true, () => session.current());
        } catch (err) {
            // The call that needed the token was not sent: not retried again around it, and no create happened.
            throw markNotSent(err);
        }
    }

    /**
     * One API call: with the session token (logging in first, and once more on a 401), retried quickly when it
     * changes nothing. Answers 2xx; anything else is a DurstApiError with statusCode.
     */
    async request<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<ApiResponse<T>> {
        return this.retried(method !== 'POST', async () => {
            let res: RawAnswer | undefined;
            for (let round = 0; round < 2; round++) {
                const token = this.session ? await this.loginToken() : undefined;
                res = await this.raw(method, path, { data: body, headers: token ? { 'x-auth-token': token } : undefined });
                // The token expired or Durst restarted: log in again, once, and repeat (a refused call changed nothing).
                // A Spring security filter may say 403 for a token it no longer knows, so that counts too.
                if ((res.status === 401 || res.status === 403) && this.session && round === 0) { this.session.invalidate(token); continue; }
                break;
            }
            const answer = res as RawAnswer;
            if (answer.status >= 200 && answer.status < 300) { return { statusCode: answer.status, body: answer.body as T, headers: answer.headers }; }
            throw new DurstApiError(`Durst API ${method} ${path} answered ${answer.status} (${describeStatus(answer.status)})`,
                { statusCode: answer.status, body: answer.body });
        });
    }

    /** Aborts in-flight calls, stops retries and closes the client's sockets. */
    close(): void { this.transport.close(); }

    get closed(): boolean { return this.transport.closed; }

    createSubscriber(body: object) { return this.request('POST', '/api/v1/subscribers/create', body); }
    getSubscriber(id: DurstId) { return this.request('GET', `/api/v1/subscribers/${enc(id)}`); }
    updateSubscriber(id: DurstId, body: object) { return this.request('PUT', `/api/v1/subscribers/${enc(id)}`, body); }

    /**
     * The reference section documents POST .../subscriptions/create, the introduction POST .../subscriptions.
     * The reference path is tried first; on 404/405 the other one, and the one that worked is remembered.
     * A 404 from both means the subscriber itself is unknown; the second error is thrown.
     */
    async createSubscription(subscriberId: DurstId, body: object): Promise<ApiResponse<SubscriptionRecord>> {
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

    updateSubscription(subscriberId: DurstId, subscriptionId: DurstId, body: object) {
        return this.request<SubscriptionRecord>('PUT', `/api/v1/subscribers/${enc(subscriberId)}/subscriptions/${enc(subscriptionId)}`, body);
    }

    /** Every subscription of the subscriber, all pages read. A 2xx that is not a list is an error (ESHAPE). */
    async listSubscriptions(subscriberId: DurstId): Promise<ApiResponse<SubscriptionRecord[]>> {
        const base = `/api/v1/subscribers/${enc(subscriberId)}/subscriptions`;
        let res = await this.request('GET', base);
        const statusCode = res.statusCode;
        const all: SubscriptionRecord[] = [];
        const seen = new Set<string>();
        for (let pages = 1; ; pages++) {
            const page = readListPage(res.body);
            if (!page) {
                throw new DurstApiError(`Durst answered GET ${base} with something that is not a list of subscriptions`, { statusCode: res.statusCode, body: res.body, code: 'ESHAPE' });
            }
            all.push(...page.items);
            if (!page.next || pages >= MAX_PAGES) { break; }
            const next = 'href' in page.next ? this.sameOriginPath(page.next.href) : `${base}?page=${page.next.page}${page.next.size ? `&size=${page.next.size}` : ''}`;
            if (!next || seen.has(next)) { break; }
            seen.add(next);
            res = await this.request('GET', next);
        }
        return { statusCode, body: all };
    }

    /** A HAL `next` link as a path on this API; undefined when it points elsewhere (never followed). */
    private sameOriginPath(href: string): string | undefined {
        try {
            const base = new URL((this.http.defaults.baseURL ?? '') + '/');
            const url = new URL(href, base);
            if (url.origin !== base.origin) { return undefined; }
            const prefix = base.pathname.replace(/\/+$/, '');
            const pathname = prefix && url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
            return pathname + url.search;
        } catch {
            return undefined;
        }
    }

    /**
     * One subscription. The docs show a list as this call's example answer (then the matching entry is picked),
     * and document it under the list's path: a 404/405/501 on the single GET falls back to the list. Not in
     * the list: a 404 DurstApiError.
     */
    async getSubscription(subscriberId: DurstId, subscriptionId: DurstId): Promise<ApiResponse<SubscriptionRecord>> {
        let res: ApiResponse<unknown>;
        try {
            res = await this.request('GET', `/api/v1/subscribers/${enc(subscriberId)}/subscriptions/${enc(subscriptionId)}`);
        } catch (err) {
            const status = (err as DurstApiError).statusCode;
            if (status !== 404 && status !== 405 && status !== 501) { throw err; }
            res = await this.listSubscriptions(subscriberId);
        }
        const body = res.body;
        if (isRecord(body) && sameId(body.id, subscriptionId)) { return res as ApiResponse<SubscriptionRecord>; }
        const match = (readListPage(body)?.items ?? []).find((s) => sameId(s.id, subscriptionId));
        if (!match) {
            throw new DurstApiError(`Durst API has no subscription with id ${subscriptionId}`, { statusCode: 404, body });
        }
        return { statusCode: res.statusCode, body: match, headers: res.headers };
    }

    testResponse(productionJobId: DurstId) {
        return this.request('GET', `/api/v1/subscribers/testresponse/${enc(productionJobId)}`);
    }
}

function enc(id: number | string): string { return encodeURIComponent(String(id)); }
