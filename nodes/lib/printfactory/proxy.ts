// HTTPS_PROXY / HTTP_PROXY support without a dependency: which proxy a URL needs (NO_PROXY
// honoured) and an http(s).Agent whose sockets are HTTP CONNECT tunnels through it.
import http from 'http';
import https from 'https';
import net from 'net';
import tls from 'tls';

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
    const value = env[name] ?? env[name.toLowerCase()];
    return value && value.trim() !== '' ? value.trim() : undefined;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True when NO_PROXY (comma/space separated hosts, `.suffix`, `*.suffix`, `host:port` or `*`) covers the host. */
export function noProxyCovers(hostname: string, port: string, noProxy: string | undefined): boolean {
    if (!noProxy) { return false; }
    const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
    for (const raw of noProxy.split(/[\s,]+/)) {
        let entry = raw.trim().toLowerCase();
        if (!entry) { continue; }
        if (entry === '*') { return true; }
        const portMatch = /^(.+):(\d+)$/.exec(entry);
        if (portMatch && !entry.includes('::')) {
            if (portMatch[2] !== port) { continue; }
            entry = portMatch[1];
        }
        entry = entry.replace(/^\*/, '').replace(/^\[|\]$/g, '');
        if (entry.startsWith('.')) {
            if (host.endsWith(entry) || host === entry.slice(1)) { return true; }
        } else if (host === entry || host.endsWith('.' + entry)) {
            return true;
        }
    }
    return false;
}

/**
 * The proxy to tunnel through for `target`, or undefined for a direct connection.
 * wss:// uses HTTPS_PROXY / https_proxy, ws:// uses HTTP_PROXY / http_proxy. NO_PROXY / no_proxy
 * is honoured, and loopback targets (localhost, 127.0.0.1, ::1) are always direct.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv): URL | undefined {
    const secure = target.protocol === 'wss:' || target.protocol === 'https:';
    const proxy = envValue(env, secure ? 'HTTPS_PROXY' : 'HTTP_PROXY');
    if (!proxy) { return undefined; }
    const port = target.port || (secure ? '443' : '80');
    if (LOOPBACK.has(target.hostname.toLowerCase())) { return undefined; }
    if (noProxyCovers(target.hostname, port, envValue(env, 'NO_PROXY'))) { return undefined; }
    try {
        return new URL(proxy.includes('://') ? proxy : 'http://' + proxy);
    } catch {
        return undefined;
    }
}

/** The proxy URL with any user:password removed, for logs. */
export function describeProxy(proxy: URL): string {
    return `${proxy.protocol}//${proxy.host}`;
}

// ---------------------------------------------------------------------------
// HTTP CONNECT tunnel: an http(s).Agent whose sockets are tunnels through the proxy.

type CreateCallback = (err: Error | null, socket?: net.Socket) => void;

function openTunnel(proxy: URL, options: any, secureTarget: boolean, timeoutMs: number, callback: CreateCallback): void {
    const proxyPort = Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80);
    const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
    const targetHost = String(options.host ?? options.hostname).replace(/^\[|\]$/g, '');
    const targetPort = Number(options.port) || (secureTarget ? 443 : 80);
    const authority = targetHost.includes(':') ? `[${targetHost}]:${targetPort}` : `${targetHost}:${targetPort}`;
    let finished = false;
    const raw: net.Socket = proxy.protocol === 'https:'
        ? tls.connect({ host: proxyHost, port: proxyPort, servername: net.isIP(proxyHost) ? undefined : proxyHost })
        : net.connect({ host: proxyHost, port: proxyPort });
    const timer = setTimeout(() => fail(new Error(`proxy ${describeProxy(proxy)} did not open a tunnel within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error): void {
        if (finished) { return; }
        finished = true;
        clearTimeout(timer);
        raw.destroy();
        callback(err);
    }
    let buffered = Buffer.alloc(0);
    function onData(chunk: Buffer): void {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) {
            if (buffered.length > 16 * 1024) { fail(new Error(`proxy ${describeProxy(proxy)} sent an oversized CONNECT answer`)); }
            return;
        }
        raw.removeListener('data', onData);
        const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
        const status = Number(/^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(statusLine)?.[1]);
        if (status !== 200) {
            fail(new Error(`proxy ${describeProxy(proxy)} refused the tunnel to ${authority}: ${statusLine || 'no answer'}`));
            return;
        }
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) { raw.unshift(rest); }
        finished = true;
        clearTimeout(timer);
        raw.removeListener('error', fail);
        if (!secureTarget) { callback(null, raw); return; }
        const secure = tls.connect({
            ...options,
            socket: raw,
            host: targetHost,
            servername: options.servername || (net.isIP(targetHost) ? undefined : targetHost)
        });
        callback(null, secure);
    }
    raw.once('error', fail);
    raw.once('close', () => fail(new Error(`proxy ${describeProxy(proxy)} closed the connection before the tunnel opened`)));
    raw.on('data', onData);
    raw.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
        if (proxy.username) {
            const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
            lines.push(`Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
        }
        raw.write(lines.join('\r\n') + '\r\n\r\n');
    });
}

export function tunnelAgent(proxy: URL, secureTarget: boolean, timeoutMs: number): http.Agent {
    const createConnection = function (options: any, callback: CreateCallback): undefined {
        openTunnel(proxy, options, secureTarget, timeoutMs, callback);
        return undefined;
    };
    const agent = secureTarget ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
    (agent as any).createConnection = createConnection;
    return agent;
}
