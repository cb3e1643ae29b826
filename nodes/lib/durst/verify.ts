// Verification of incoming Durst Workflow callbacks, per the subscriber's externalAuthType.
// The result never carries a secret: only what was checked and by which means.
import * as crypto from 'crypto';
import * as jwt from 'jsonwebtoken';
import type { IncomingHttpHeaders } from 'http';

export type ExternalAuthType = 'NONE' | 'XAUTH' | 'JWT_SIGNING';
export type JwtMethod = 'HS256' | 'HS384' | 'HS512';
export const JWT_METHODS: readonly JwtMethod[] = ['HS256', 'HS384', 'HS512'];

export interface VerifySettings {
    externalAuthType: ExternalAuthType;
    xAuthUser?: string;
    xAuthPassword?: string;
    jwtHeaderName?: string;
    jwtMethod?: JwtMethod;
    jwtKey?: string;
}

export interface VerifiedAuth {
    type: ExternalAuthType;
    user?: string;
    alg?: JwtMethod;
    /** How the XAUTH credentials arrived. */
    via?: 'basic' | 'x-auth-headers';
    /** Non-secret claims of the verified token. */
    claims?: { sub?: unknown; iat?: unknown; exp?: unknown; nbf?: unknown; iss?: unknown; bodySha256?: string };
    /** True when the token carried a body digest and it matched the raw body. */
    digestVerified?: boolean;
}

export interface VerifyResult {
    ok: boolean;
    reason?: string;
    auth: VerifiedAuth;
}

export const DEFAULT_JWT_HEADER = 'x-jwt-token';
/** Allowed clock difference between Durst and Node-RED for exp/nbf, in seconds. */
export const JWT_CLOCK_TOLERANCE_S = 30;
const DIGEST_CLAIMS = ['bodySha256', 'sha256', 'digest'];

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
    const value = headers[name.toLowerCase()];
    if (Array.isArray(value)) { return value[0]; }
    return typeof value === 'string' ? value : undefined;
}

/** Constant-time string comparison: both sides are hashed first so the lengths always match. */
export function safeEqual(a: string, b: string): boolean {
    const da = crypto.createHash('sha256').update(a, 'utf8').digest();
    const db = crypto.createHash('sha256').update(b, 'utf8').digest();
    return crypto.timingSafeEqual(da, db);
}

// A digest claim may be hex, base64 or prefixed ("sha-256=...", "sha256:...").
function digestMatches(claimed: string, actual: Buffer): boolean {
    const value = claimed.trim().replace(/^sha-?256[=:]/i, '');
    let candidate: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(value)) {
        candidate = Buffer.from(value, 'hex');
    } else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
        candidate = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    }
    return candidate !== undefined && candidate.length === actual.length && crypto.timingSafeEqual(candidate, actual);
}

// Given a string key, jsonwebtoken first tries (and fails) to parse it as a PEM public key on every call,
// which costs about 30 times the HMAC itself. A cached secret KeyObject skips that.
const secretKeys = new Map<string, crypto.KeyObject>();
const MAX_CACHED_KEYS = 64;
function secretKey(key: string): crypto.KeyObject {
    let keyObject = secretKeys.get(key);
    if (!keyObject) {
        if (secretKeys.size >= MAX_CACHED_KEYS) { secretKeys.clear(); }
        keyObject = crypto.createSecretKey(Buffer.from(key, 'utf8'));
        secretKeys.set(key, keyObject);
    }
    return keyObject;
}

/**
 * RFC 7515 section 4.1.11: a recipient must reject a JWS whose `crit` header names an extension it does not
 * understand. This verifier understands none, so any `crit` header is refused (jsonwebtoken ignores it).
 * Takes the header jsonwebtoken decoded (`complete: true`), so the header is decoded once per callback.
 * Returns the reason, or undefined when the header has no `crit`.
 */
function unsupportedCriticalHeader(header: unknown): string | undefined {
    if (typeof header !== 'object' || header === null || !('crit' in header)) { return undefined; }
    const crit = (header as { crit: unknown }).crit;
    const names = Array.isArray(crit) ? crit.filter((n): n is string => typeof n === 'string').slice(0, 5) : [];
    return names.length > 0
        ? `unsupported critical header extension (crit: ${names.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')})`
        : 'malformed crit header';
}

function verifyJwt(settings: VerifySettings, headers: IncomingHttpHeaders, rawBody: Buffer): VerifyResult {
    const method: JwtMethod = JWT_METHODS.includes(settings.jwtMethod as JwtMethod) ? settings.jwtMethod as JwtMethod : 'HS256';
    const headerName = (settings.jwtHeaderName || DEFAULT_JWT_HEADER).trim().toLowerCase();
    const auth: VerifiedAuth = { type: 'JWT_SIGNING', alg: method };
    if (!settings.jwtKey) { return { ok: false, reason: 'no JWT key configured on the subscriber', auth }; }
    let token = header(headers, headerName);
    if (!token) { return { ok: false, reason: `missing ${headerName} header`, auth }; }
    token = token.trim().replace(/^Bearer\s+/i, '');
    let payload: string | jwt.JwtPayload;
    try {
        // Pinning algorithms rejects alg "none", other HMAC sizes and RS/ES tokens (key-confusion attacks).
        const verified = jwt.verify(token, secretKey(settings.jwtKey),
            { algorithms: [method], clockTolerance: JWT_CLOCK_TOLERANCE_S, complete: true });
        // Signature, algorithm and times are checked; the crit rule is ours (before any claim is used).
        const critical = unsupportedCriticalHeader(verified.header);
        if (critical) { return { ok: false, reason: 'invalid JWT: ' + critical, auth }; }
        payload = verified.payload;
    } catch (err) {
        return { ok: false, reason: 'invalid JWT: ' + (err as Error).message, auth };
    }
    if (typeof payload !== 'object' || payload === null) {
        return { ok: false, reason: 'invalid JWT: payload is not a claims object', auth };
    }
    const claims: Record<string, unknown> = payload;
    auth.claims = { sub: claims.sub, iat: claims.iat, exp: claims.exp, nbf: claims.nbf, iss: claims.iss };
    const digestClaim = DIGEST_CLAIMS.find((name) => claims[name] !== undefined);
    if (digestClaim) {
        const claimed = claims[digestClaim];
        const actual = crypto.createHash('sha256').update(rawBody).digest();
        if (typeof claimed !== 'string' || !digestMatches(claimed, actual)) {
            return { ok: false, reason: `body digest (${digestClaim}) does not match the received body`, auth };
        }
        auth.claims.bodySha256 = actual.toString('hex');
        auth.digestVerified = true;
    } else {
        auth.digestVerified = false;
    }
    return { ok: true, auth };
}

function verifyXAuth(settings: VerifySettings, headers: IncomingHttpHeaders): VerifyResult {
    const auth: VerifiedAuth = { type: 'XAUTH' };
    if (!settings.xAuthPassword) { return { ok: false, reason: 'no XAUTH password configured on the subscriber', auth }; }
    let user: string | undefined;
    let password: string | undefined;
    const authorization = header(headers, 'authorization');
    const basic = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization) : null;
    if (basic) {
        const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon >= 0) {
            user = decoded.slice(0, colon);
            password = decoded.slice(colon + 1);
            auth.via = 'basic';
        }
    }
    if (password === undefined) {
        user = header(headers, 'x-auth-user');
        password = header(headers, 'x-auth-password');
        if (password !== undefined) { auth.via = 'x-auth-headers'; }
    }
    if (password === undefined) {
        return { ok: false, reason: 'missing XAUTH credentials (Authorization: Basic or x-auth-user/x-auth-password)', auth };
    }
    // Evaluate both comparisons so timing does not reveal which one failed.
    const userOk = safeEqual(user ?? '', settings.xAuthUser ?? '');
    const passwordOk = safeEqual(password, settings.xAuthPassword);
    if (!(userOk && passwordOk)) {
        return { ok: false, reason: 'XAUTH user or password does not match', auth };
    }
    auth.user = user;
    return { ok: true, auth };
}

/** Verifies one callback request. `rawBody` must be the exact bytes received (the digest is over them). */
export function verifyCallback(settings: VerifySettings, headers: IncomingHttpHeaders, rawBody: Buffer): VerifyResult {
    switch (settings.externalAuthType) {
        case 'JWT_SIGNING': return verifyJwt(settings, headers, rawBody);
        case 'XAUTH': return verifyXAuth(settings, headers);
        case 'NONE': return { ok: true, auth: { type: 'NONE' } };
        default:
            return { ok: false, reason: `unsupported externalAuthType "${String(settings.externalAuthType)}"`, auth: { type: settings.externalAuthType } };
    }
}
