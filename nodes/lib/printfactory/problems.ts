// Pure: why a PrintFactory handshake failed or an open socket closed, as one code with its values. One mapping for
// the node status (printfactory-notification, through printfactory-config's catalogue `printfactory-config.cause.*`)
// and for the editor's "Test connection" answer, so both name a cause in the same words, in every language.

export const PROBLEM_CODES = Object.freeze([
    'refused409',        // HTTP 409: another connection for this organisation holds the slot
    'rejected',          // HTTP 401/403: the MisKey was refused
    'notFound',          // HTTP 404/410: no notification server at this URL (a wrong path or host)
    'rateLimited',       // HTTP 429
    'unavailable',       // HTTP 502/503/504
    'notWebSocket',      // HTTP 1xx-3xx other than 101: a web server or redirect, not a WebSocket endpoint
    'httpStatus',        // any other HTTP status
    'tlsSelfSigned', 'tlsExpired', 'tlsHostname', 'tlsUntrusted', 'tls',
    'hostNotFound',      // DNS: no such host
    'connectionRefused', // nothing listens on that port
    'timeout',           // the opening handshake (or a proxy tunnel) did not finish in time
    'proxy',             // the proxy refused or failed (detail names it, without credentials)
    'network',           // any other socket error (detail: its code)
    'serverClosed',      // an open socket closed by the server
    'heartbeatMissed',   // no pong: half-open socket
    'frameTooLarge',     // a frame above ws' maxPayload
    'displaced'          // closed soon after opening, again and again: another connection takes the organisation's slot
] as const);

/** Each has a text in printfactory-config's catalogue, `printfactory-config.cause.<code>` (en-US, de). */
export type ProblemCode = typeof PROBLEM_CODES[number];

export interface Problem {
    code: ProblemCode;
    /** The HTTP status of a refused handshake. */
    statusCode?: number;
    /** For Retry-After on 429/503: the server's wait in seconds (already capped). */
    retryAfterSeconds?: number;
    /** Technical detail in English (an error code, a proxy's answer) for `tls`, `proxy`, `network`. */
    detail?: string;
}

/** The problem of a handshake the server answered with `statusCode` instead of 101. */
export function problemOfStatus(statusCode: number): Problem {
    const p = (code: ProblemCode): Problem => ({ code, statusCode });
    if (statusCode === 409) { return p('refused409'); }
    if (statusCode === 401 || statusCode === 403) { return p('rejected'); }
    if (statusCode === 404 || statusCode === 410) { return p('notFound'); }
    if (statusCode === 429) { return p('rateLimited'); }
    if (statusCode === 502 || statusCode === 503 || statusCode === 504) { return p('unavailable'); }
    if (statusCode > 0 && statusCode < 400) { return p('notWebSocket'); }
    return p('httpStatus');
}

const TLS_CODES: Record<string, ProblemCode> = {
    DEPTH_ZERO_SELF_SIGNED_CERT: 'tlsSelfSigned',
    SELF_SIGNED_CERT_IN_CHAIN: 'tlsSelfSigned',
    CERT_HAS_EXPIRED: 'tlsExpired',
    CERT_NOT_YET_VALID: 'tlsExpired',
    ERR_TLS_CERT_ALTNAME_INVALID: 'tlsHostname',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tlsUntrusted',
    UNABLE_TO_GET_ISSUER_CERT: 'tlsUntrusted',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tlsUntrusted',
    CERT_UNTRUSTED: 'tlsUntrusted',
    CERT_SIGNATURE_FAILURE: 'tlsUntrusted',
    CERT_REVOKED: 'tlsUntrusted'
};

/** The problem of a socket error (before or after the open). */
export function problemOfError(err: { message?: string; code?: unknown } | undefined): Problem {
    const code = typeof err?.code === 'string' ? err.code : '';
    const message = String(err?.message ?? '');
    if (TLS_CODES[code]) { return { code: TLS_CODES[code] }; }
    if (code === 'EPROXY') { return { code: 'proxy', detail: message }; }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') { return { code: 'hostNotFound' }; }
    if (code === 'ECONNREFUSED') { return { code: 'connectionRefused' }; }
    // ws' own handshake timeout, or the proxy tunnel's (../net/proxy.ts)
    if (code === 'ETIMEDOUT' || /handshake has timed out|did not open a tunnel within/i.test(message)) { return { code: 'timeout' }; }
    if (/^ERR_(SSL|TLS)_/.test(code) || /^CERT_|_CERT$|_CERT_/.test(code) || /\bssl\b|\btls\b|certificate/i.test(message)) {
        return { code: 'tls', detail: code || message };
    }
    return { code: 'network', detail: code || message || 'connection failed' };
}

/** Longest Retry-After honoured: a server (or a proxy in front) asking for more is retried after this. */
export const RETRY_AFTER_MAX_SECONDS = 600;

/**
 * Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3), capped at
 * RETRY_AFTER_MAX_SECONDS; undefined when absent or unreadable.
 */
export function retryAfterSeconds(header: unknown, now: number = Date.now()): number | undefined {
    const value = Array.isArray(header) ? header[0] : header;
    if (typeof value !== 'string' || value.trim() === '') { return undefined; }
    const text = value.trim();
    let seconds: number;
    if (/^\d+$/.test(text)) {
        seconds = Number(text);
    } else {
        // An HTTP date names its weekday and month ("Thu, 03 Dec 2026 17:00:45 GMT"); Date.parse would take "-5" too.
        if (!/[a-z]{3}/i.test(text)) { return undefined; }
        const at = Date.parse(text);
        if (Number.isNaN(at)) { return undefined; }
        seconds = Math.ceil((at - now) / 1000);
    }
    return Math.min(RETRY_AFTER_MAX_SECONDS, Math.max(0, seconds));
}
