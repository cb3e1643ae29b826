// The one way the package's REST clients (Durst, PrintFactory) reach an HTTP API: an axios instance over agents
// that follow the package's proxy policy (./proxy.ts) and TLS options (./tls.ts), with an abort signal so close()
// ends every socket and call in flight. axios never reads the environment itself (`proxy` is false or explicit).
//
// Routes: direct: keep-alive http/https agents with the TLS options. https:// through a proxy: a pool of CONNECT
// tunnels (TLS to the API inside), kept alive like direct sockets. http:// through a proxy: axios' absolute-form
// requests to the proxy over the keep-alive http agent, with the proxy URL's decoded credentials.
import * as http from 'http';
import * as https from 'https';
import axios, { AxiosInstance, AxiosProxyConfig } from 'axios';
import { ProxyError, proxyCredentials, proxyFor, proxyRefusal, tunnelAgent } from './proxy';
import type { TlsOptions } from './tls';

export interface HttpTransportOptions {
    baseUrl: string;
    timeoutMs: number;
    tls?: TlsOptions;
    /** Sent with every request (never logged by this module). */
    headers?: Record<string, string>;
    auth?: { username: string; password: string };
    maxSockets?: number;
}

export class HttpTransport {
    /** Raw-text answers (`responseType: 'text'`), every status resolves (`validateStatus`), no redirects. */
    readonly http: AxiosInstance;
    /** The proxy the calls go through (undefined: direct), read from the environment on creation. */
    readonly proxy?: URL;
    /** Set when the proxy variable is unusable: no call may be sent (callers turn it into their error). */
    readonly proxyProblem?: ProxyError;
    /** http:// through a proxy: only there can a 407 answer come from the proxy rather than the API. */
    readonly plainHttpProxy: boolean;
    private readonly httpAgent: http.Agent;
    private readonly httpsAgent: http.Agent;
    private readonly abort = new AbortController();

    constructor(options: HttpTransportOptions) {
        let target: URL | undefined;
        try { target = new URL(options.baseUrl); } catch { target = undefined; }
        try {
            this.proxy = target ? proxyFor(target) : undefined;
        } catch (err) {
            this.proxyProblem = err as ProxyError;
        }
        const secure = target?.protocol === 'https:';
        const maxSockets = options.maxSockets ?? 8;
        this.plainHttpProxy = !!this.proxy && !secure;
        this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
        this.httpsAgent = this.proxy && secure
            ? tunnelAgent(this.proxy, { secureTarget: true, keepAlive: true, maxSockets, connectTimeoutMs: options.timeoutMs, tls: options.tls })
            : new https.Agent({ keepAlive: true, maxSockets, ...options.tls });
        let proxy: AxiosProxyConfig | false = false;
        if (this.proxy && this.plainHttpProxy) {
            const credentials = proxyCredentials(this.proxy);
            proxy = {
                protocol: this.proxy.protocol.replace(/:$/, ''),
                host: this.proxy.hostname,
                port: Number(this.proxy.port) || (this.proxy.protocol === 'https:' ? 443 : 80),
                auth: credentials ? { username: credentials.username, password: credentials.password } : undefined
            };
        }
        this.http = axios.create({
            baseURL: options.baseUrl.replace(/\/+$/, ''),
            timeout: options.timeoutMs,
            headers: { Accept: 'application/json, */*', ...options.headers },
            auth: options.auth,
            responseType: 'text',
            transformResponse: [(data: unknown) => data],
            validateStatus: () => true,
            maxRedirects: 0,
            httpAgent: this.httpAgent,
            httpsAgent: this.httpsAgent,
            proxy,
            signal: this.abort.signal
        });
    }

    get closed(): boolean { return this.abort.signal.aborted; }
    /** Aborted by close(): for waits between attempts. */
    get signal(): AbortSignal { return this.abort.signal; }

    /** A 407 on the plain-http proxy route is the proxy's refusal (naming the proxy, never its credentials). */
    proxyRefusal407(status: number): ProxyError | undefined {
        if (status !== 407 || !this.proxy || !this.plainHttpProxy) { return undefined; }
        const base = this.http.defaults.baseURL;
        return proxyRefusal(this.proxy, 407, base ? new URL(base).host : '');
    }

    /** Aborts calls in flight and closes every socket. */
    close(): void {
        this.abort.abort();
        this.httpAgent.destroy();
        this.httpsAgent.destroy();
    }
}

/** The ProxyError behind an axios error (axios copies the agent's error fields and keeps it as `cause`). */
export function proxyErrorOf(err: unknown): ProxyError | undefined {
    const e = err as { cause?: unknown };
    if (e instanceof ProxyError) { return e; }
    if (e?.cause instanceof ProxyError) { return e.cause; }
    return undefined;
}

/** Waits `ms`, or less when `signal` aborts; never rejects. The timer does not hold the process open. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
        if (signal?.aborted) { resolve(); return; }
        const done = (): void => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
        const timer = setTimeout(done, ms);
        timer.unref?.();
        signal?.addEventListener('abort', done, { once: true });
    });
}
