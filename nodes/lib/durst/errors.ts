// The one error type of the Durst REST side, and the one retry policy that every caller (the REST client's
// quick in-call retries of calls that change nothing, the service's ensure and switch-off loops) applies.
// One policy, so no two layers disagree on what is worth another try.

/** Error codes besides a socket's own (ECONNREFUSED, ECONNABORTED for a timeout, ...). */
export type DurstErrorCode =
    | 'EAUTH'        // the login was refused (or answered without a token): the user must fix the credentials
    | 'EHTML'        // a 2xx with an HTML page: a proxy or SSO login page in front of apiUrl
    | 'ESHAPE'       // a 2xx whose body is not what the call answers (not a list, no id)
    | 'EUNCONFIRMED' // a subscriber create whose outcome is unknown: nothing more is created until the user checks
    | 'ECLOSED'      // the config node was closed while the call was waiting or in flight
    | 'EPROXY'       // the proxy refused or could not be reached
    | 'ECONFIG'      // the node's settings are incomplete (no apiUrl, invalid tls-config, ...)
    | string;

export class DurstApiError extends Error {
    readonly statusCode?: number;
    readonly body?: unknown;
    readonly code?: DurstErrorCode;
    constructor(message: string, options: { statusCode?: number; body?: unknown; code?: DurstErrorCode } = {}) {
        super(message);
        this.name = 'DurstApiError';
        this.statusCode = options.statusCode;
        this.body = options.body;
        this.code = options.code;
    }
}

/** Codes of failures where the request certainly did not reach Durst's application. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPROXY', 'ECONFIG', 'ECLOSED']);

/**
 * Worth another try later: network failures, timeouts, 5xx, 408, 429, and an HTML page (a proxy or SSO page
 * may go away). Not retried: 4xx (the request itself is wrong, 404 included: the caller decides what a missing
 * thing means), a refused login, an unconfirmed create, a closed node, a refusing proxy.
 */
export function isRetryable(err: unknown): boolean {
    const e = err as DurstApiError;
    if (e?.code === 'EAUTH' || e?.code === 'EUNCONFIRMED' || e?.code === 'ECLOSED' || e?.code === 'ECONFIG' || e?.code === 'ESHAPE') { return false; }
    if (e?.code === 'EPROXY') { return e.statusCode === undefined; }
    if (e?.code === 'EHTML') { return true; }
    if (e?.statusCode === undefined) { return e?.code !== undefined; }
    return e.statusCode >= 500 || e.statusCode === 408 || e.statusCode === 429;
}

/** Failures of a call that never went out (its login failed): no create can have happened. */
const notSentErrors = new WeakSet<object>();

export function markNotSent<T>(err: T): T {
    if (typeof err === 'object' && err !== null) { notSentErrors.add(err); }
    return err;
}

export function wasNotSent(err: unknown): boolean {
    return typeof err === 'object' && err !== null && notSentErrors.has(err);
}

/**
 * Whether a failed create may have been carried out by Durst all the same: a timeout or a connection lost
 * after sending, or a 5xx other than 503 (a 503 says the service did not take the request). Such a create is
 * never simply sent again.
 */
export function outcomeUnknown(err: unknown): boolean {
    const e = err as DurstApiError;
    if (wasNotSent(err)) { return false; }
    if (e?.statusCode !== undefined) { return e.statusCode >= 500 && e.statusCode !== 503; }
    return e?.code === undefined || !NOT_SENT.has(e.code);
}

/** A Durst id: a number, a numeric string or another string (UUIDs). Compared as text. */
export type DurstId = number | string;

/** The id in a Durst answer or a user's input, or undefined: integers >= 0, or strings of URL-safe characters. */
export function durstIdOf(value: unknown): DurstId | undefined {
    if (typeof value === 'number') { return Number.isInteger(value) && value >= 0 ? value : undefined; }
    if (typeof value !== 'string') { return undefined; }
    const text = value.trim();
    if (/^\d{1,15}$/.test(text)) { return Number(text); }
    return /^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$/.test(text) ? text : undefined;
}

export function sameId(a: unknown, b: unknown): boolean {
    return a !== undefined && a !== null && b !== undefined && b !== null && String(a) === String(b);
}

/** Numbers (and numeric strings) by value, before other strings, which sort as text: the same order on every instance. */
export function compareIds(a: DurstId, b: DurstId): number {
    const na = typeof a === 'number' || /^\d+$/.test(a) ? Number(a) : NaN;
    const nb = typeof b === 'number' || /^\d+$/.test(b) ? Number(b) : NaN;
    if (!Number.isNaN(na) && !Number.isNaN(nb)) { return na - nb; }
    if (!Number.isNaN(na)) { return -1; }
    if (!Number.isNaN(nb)) { return 1; }
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
