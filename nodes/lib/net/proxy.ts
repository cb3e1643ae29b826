// The one proxy policy of the package, used by the PrintFactory WebSocket and the Durst REST client alike.
//
// Which proxy: `proxy-from-env` (the rules of Node-RED's core nodes and of axios): lower-case variable first,
// then upper case; `https_proxy` for https:// and wss:// targets, `http_proxy` for http:// and ws://, `all_proxy`
// as fallback; `no_proxy` entries are exact host names, `.suffix` / `*.suffix`, optionally `:port`, or `*`.
// On top of it: loopback targets are always direct, and a proxy value without a scheme means http://.
//
// How: `hpagent` agents (real http.Agent subclasses, so keep-alive pools tunnels like any socket). The CONNECT
// answer is checked here, so a refusal (407, 403, ...) becomes a ProxyError that names the proxy without its
// credentials, and close() aborts tunnels that are still being opened.
import * as http from 'http';
import * as net from 'net';
import { getProxyForUrl } from 'proxy-from-env';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';

/** A proxy refused or failed to open a tunnel. `statusCode` is the proxy's answer to CONNECT, if any. */
export class ProxyError extends Error {
    readonly code = 'EPROXY';
    readonly statusCode?: number;
    /** The proxy as `scheme://host:port`, never with credentials. */
    readonly proxy: string;
    constructor(message: string, proxy: string, statusCode?: number) {
        super(message);
        this.name = 'ProxyError';
        this.proxy = proxy;
        this.statusCode = statusCode;
    }
}

/** localhost, *.localhost, 127.0.0.0/8, ::1 (also IPv4-mapped): never sent through a proxy. */
export function isLoopback(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    if (host === 'localhost' || host.endsWith('.localhost')) { return true; }
    if (net.isIPv4(host)) { return host.startsWith('127.'); }
    if (net.isIPv6(host)) { return host === '::1' || /^::ffff:127\./.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host); }
    return false;
}

const SCHEMES: Record<string, 'http' | 'https'> = { 'http:': 'http', 'ws:': 'http', 'https:': 'https', 'wss:': 'https' };

/**
 * The proxy for `target` from the environment, or undefined for a direct connection. A WebSocket handshake is
 * an HTTP request, so ws:// follows http:// and wss:// follows https://. Throws a ProxyError (without the
 * variable's value, which may hold credentials) when the configured proxy is not a valid URL.
 */
export function proxyFor(target: URL | string): URL | undefined {
    const url = typeof target === 'string' ? new URL(target) : target;
    const scheme = SCHEMES[url.protocol];
    if (!scheme || !url.hostname || isLoopback(url.hostname)) { return undefined; }
    let proxy = getProxyForUrl(`${scheme}://${url.host}/`);
    if (!proxy) { return undefined; }
    // proxy-from-env gives a scheme-less value the target's scheme; like curl, a bare host:port is an http:// proxy.
    const bare = proxy.slice(scheme.length + 3);
    if (proxy.startsWith(scheme + '://') && [`${scheme}_proxy`, 'all_proxy'].some((name) =>
        [process.env[name], process.env[name.toUpperCase()]].some((value) => value !== undefined && value.trim() === bare))) {
        proxy = 'http://' + bare;
    }
    let parsed: URL;
    try {
        parsed = new URL(proxy);
    } catch {
        throw new ProxyError(`the ${scheme}_proxy / ${scheme.toUpperCase()}_PROXY environment variable is not a valid URL`, '(invalid)');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new ProxyError(`proxy scheme ${parsed.protocol} is not supported (use http:// or https://)`, describeProxy(parsed));
    }
    try {
        decodeURIComponent(parsed.username);
        decodeURIComponent(parsed.password);
    } catch {
        throw new ProxyError(`the user or password in the proxy URL of ${describeProxy(parsed)} is not valid URL-escaping ` +
            '(write % as %25)', describeProxy(parsed));
    }
    return parsed;
}

/** The proxy URL without user:password, for logs and error messages. */
export function describeProxy(proxy: URL): string {
    return `${proxy.protocol}//${proxy.host}`;
}

/** User and password of the proxy URL, URL-decoded (`sqx%40user` is `sqx@user`), or undefined. */
export function proxyCredentials(proxy: URL): { username: string; password: string } | undefined {
    if (!proxy.username && !proxy.password) { return undefined; }
    // proxyFor() has checked that both decode.
    return { username: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) };
}

/** The error for a proxy's non-2xx answer, with a hint for the usual causes. */
export function proxyRefusal(proxy: URL, statusCode: number, target: string): ProxyError {
    const name = describeProxy(proxy);
    let hint = '';
    if (statusCode === 407) {
        hint = proxy.username
            ? ': the proxy did not accept the user and password in the proxy URL'
            : ': the proxy wants credentials; put them in the proxy URL, URL-escaped (http://user:p%40ss@proxy:3128)';
    } else if (statusCode === 403) {
        hint = ': the proxy\'s rules forbid this target or port (stock squid allows CONNECT only to port 443; ' +
            'see "Proxies and TLS" in the README)';
    }
    return new ProxyError(`proxy ${name} refused the connection to ${target} (HTTP ${statusCode} ${http.STATUS_CODES[statusCode] ?? ''})`
        .replace(/ \)$/, ')') + hint, name, statusCode);
}

export interface ProxyAgentOptions {
    /** true for https:// and wss:// targets: TLS to the target inside the tunnel. */
    secureTarget: boolean;
    keepAlive: boolean;
    maxSockets?: number;
    /** Opening the tunnel (TCP to the proxy + CONNECT answer) must finish within this. */
    connectTimeoutMs: number;
    /** TLS options for the target (ca, cert, key, passphrase, rejectUnauthorized, servername). */
    tls?: object;
}

type CreateCallback = (err: Error | null, socket?: net.Socket) => void;

interface Tunnelling {
    closed: boolean;
    readonly proxyUrl: URL;
    readonly connectTimeoutMs: number;
    /** Aborts of the CONNECT requests still waiting for the proxy's answer. */
    readonly pending: Set<AbortController>;
    proxyRequestOptions: object;
}

// Shared by both agent classes: a CONNECT timeout, aborting pending tunnels on destroy(), and errors that name
// the proxy. hpagent reports a refused CONNECT as `Bad response: <status>` and reads proxyRequestOptions
// synchronously, so each CONNECT gets its own abort signal (one shared signal would collect listeners).
function createTunnel(agent: Tunnelling, create: (options: any, callback: CreateCallback) => void, options: any, callback: CreateCallback): void {
    const target = `${options.host}:${options.port}`;
    const name = describeProxy(agent.proxyUrl);
    const cancelled = () => new ProxyError(`connection to ${target} through proxy ${name} cancelled: closed`, name);
    if (agent.closed) { callback(cancelled()); return; }
    const timeoutMs = options.timeout || agent.connectTimeoutMs;
    const abort = new AbortController();
    agent.pending.add(abort);
    agent.proxyRequestOptions = { signal: abort.signal };
    create.call(agent, { ...options, timeout: timeoutMs }, (err, socket) => {
        agent.pending.delete(abort);
        if (agent.closed) {
            socket?.destroy();
            callback(cancelled());
        } else if (err) {
            const refused = /^Bad response: (\d{3})/.exec(err.message);
            if (refused) {
                callback(proxyRefusal(agent.proxyUrl, Number(refused[1]), target));
                return;
            }
            const why = err.message === 'Proxy timeout' ? `did not open a tunnel within ${timeoutMs} ms`
                : `unreachable or failed: ${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.replace(/\s+/g, ' ');
            callback(new ProxyError(`proxy ${name} ${why} (connecting to ${target})`, name));
        } else {
            callback(null, socket);
        }
    });
}

function closeTunnels(agent: Tunnelling): void {
    agent.closed = true;
    for (const abort of agent.pending) { abort.abort(); }
    agent.pending.clear();
}

/**
 * The tunnelling agent on top of one of hpagent's two classes (HTTP or HTTPS target). They differ only in the
 * base class, so one definition serves both; createConnection is taken from the base the class extends.
 */
function tunnellingAgentClass(Base: typeof HttpProxyAgent | typeof HttpsProxyAgent) {
    const create = Base.prototype.createConnection as unknown as (options: any, callback: CreateCallback) => void;
    return class extends (Base as typeof HttpProxyAgent) implements Tunnelling {
        closed = false;
        readonly pending = new Set<AbortController>();
        proxyRequestOptions: object = {};
        constructor(readonly proxyUrl: URL, readonly connectTimeoutMs: number, options: http.AgentOptions) {
            super({ ...options, proxy: proxyUrl });
        }
        override createConnection(options: any, callback?: (err: Error | null, stream: any) => void): undefined {
            createTunnel(this, create, options, callback as CreateCallback);
            return undefined;
        }
        override destroy(): void { closeTunnels(this); super.destroy(); }
    };
}

const TunnelHttpAgent = tunnellingAgentClass(HttpProxyAgent);
const TunnelHttpsAgent = tunnellingAgentClass(HttpsProxyAgent);

/**
 * An agent whose sockets are HTTP CONNECT tunnels through `proxy` (TLS to the target inside for secure
 * targets). With keepAlive, tunnels are pooled and reused like direct sockets. destroy() closes every socket
 * and aborts tunnels still being opened.
 */
export function tunnelAgent(proxy: URL, options: ProxyAgentOptions): http.Agent {
    const agentOptions = { keepAlive: options.keepAlive, maxSockets: options.maxSockets, ...(options.tls ?? {}) } as http.AgentOptions;
    return options.secureTarget
        ? new TunnelHttpsAgent(proxy, options.connectTimeoutMs, agentOptions)
        : new TunnelHttpAgent(proxy, options.connectTimeoutMs, agentOptions);
}
