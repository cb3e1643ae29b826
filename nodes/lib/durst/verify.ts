// Verification of incoming Durst Workflow callbacks, per the subscriber's externalAuthType.
// The result never carries a secret: only what was checked and by which means.
import * as crypto from 'crypto';
import * as jwt from 'jsonwebtoken';
import type { IncomingHttpHeaders } from 'http';

export type ExternalAuthType = 'NONE' | 'XAUTH' | 'JWT_SIGNING';
export type JwtMethod = 'HS256' | 'HS384' | 'HS512';
export const JWT_METHODS: readonly JwtMethod[] = ['HS256', 'HS384', 'HS512'];

/** Where a secret comes from: the subscriber's configuration, or what Durst answered at registration. */
export type SecretSource = 'configured' | 'returned';
/** How the secret's text was turned into key or password bytes. */
export type SecretForm = 'text' | 'base64-decoded';

export interface SecretCandidate {
    source: SecretSource;
    value: string;
}

export interface VerifySettings {
    externalAuthType: ExternalAuthType;
    xAuthUser?: string;
    /** The configured X-Auth password (used when `secrets` is not given). */
    xAuthPassword?: string;
    jwtHeaderName?: string;
    jwtMethod?: JwtMethod;
    /** The configured JWT key (used when `secrets` is not given). */
    jwtKey?: string;
    /**
     * Every secret a callback may be signed or authenticated with, in the order to try: the configured one and
     * the one Durst returned at registration (it echoes secrets changed, and may sign with what it returned).
     * Each is also tried base64-decoded. Defaults to the configured jwtKey / xAuthPassword alone.
     */
    secrets?: SecretCandidate[];
}

export interface VerifiedAuth {
    type: ExternalAuthType;
    user?: string;
    alg?: JwtMethod;
    /** How the credentials arrived: XAUTH 'basic' | 'x-auth-headers'; JWT 'header' (the configured one) | 'bearer'. */
    via?: 'basic' | 'x-auth-headers' | 'header' | 'bearer';
    /** Which secret matched (never its value). */
    secret?: SecretSource;
    secretForm?: SecretForm;
    /** XAUTH: how the header bytes were read to match. */
    charset?: 'utf-8' | 'latin1';
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

/** The bytes of a base64 (or base64url) text, padded or not; undefined when it is not base64 or decodes to nothing. */
export function base64Bytes(value: string): Buffer | undefined {
    const text = value.trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) { return undefined; }
    const decoded = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return decoded.length > 0 ? decoded : undefined;
}

interface SecretBytes { source: SecretSource; form: SecretForm; bytes: Buffer }

/** The candidates, each as its UTF-8 text and (when it is base64) its decoded bytes; empty ones are skipped. */
function secretBytes(candidates: SecretCandidate[]): SecretBytes[] {
    const out: SecretBytes[] = [];
    for (const { source, value } of candidates) {
        if (typeof value !== 'string' || value === '') { continue; }
        out.push({ source, form: 'text', bytes: Buffer.from(value, 'utf8') });
        const decoded = base64Bytes(value);
        if (decoded) { out.push({ source, form: 'base64-decoded', bytes: decoded }); }
    }
    return out;
}

/** The secrets to try for this auth type, configured first. */
export function candidateSecrets(settings: VerifySettings): SecretCandidate[] {
    if (Array.isArray(settings.secrets)) { return settings.secrets.filter((c) => c && typeof c.value === 'string' && c.value !== ''); }
    const configured = settings.externalAuthType === 'JWT_SIGNING' ? settings.jwtKey : settings.xAuthPassword;
    return configured ? [{ source: 'configured', value: configured }] : [];
}

// Given a string key, jsonwebtoken first tries (and fails) to parse it as a PEM public key on every call,
// which costs about 30 times the HMAC itself. A cached secret KeyObject skips that.
const secretKeys = new Map<string, crypto.KeyObject>();
const MAX_CACHED_KEYS = 64;
function secretKey(bytes: Buffer): crypto.KeyObject {
    const id = bytes.toString('base64');
    let keyObject = secretKeys.get(id);
    if (!keyObject) {
        if (secretKeys.size >= MAX_CACHED_KEYS) { secretKeys.clear(); }
        keyObject = crypto.createSecretKey(bytes);
        secretKeys.set(id, keyObject);
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

// RFC 7519 NumericDates are seconds, and jsonwebtoken reads them only so (an exp in milliseconds would never
// expire, an nbf in milliseconds never start). Durst's may be milliseconds, so the time checks are ours: a value
// above 1e11 is milliseconds (in seconds that is the year 5138; in milliseconds, 1973).
const MILLISECONDS_ABOVE = 1e11;
function toSeconds(value: number): number { return value > MILLISECONDS_ABOVE ? value / 1000 : value; }

/** The reason the token's times refuse it now, or undefined. Same clock tolerance for seconds and milliseconds. */
function timeProblem(claims: Record<string, unknown>, nowS: number): string | undefined {
    for (const name of ['exp', 'nbf', 'iat']) {
        const value = claims[name];
        if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) { return `invalid ${name} value`; }
    }
    if (typeof claims.exp === 'number' && nowS >= toSeconds(claims.exp) + JWT_CLOCK_TOLERANCE_S) { return 'jwt expired'; }
    if (typeof claims.nbf === 'number' && toSeconds(claims.nbf) > nowS + JWT_CLOCK_TOLERANCE_S) { return 'jwt not active'; }
    return undefined;
}

/** The tokens of a callback: the configured header (a "Bearer " prefix tolerated), then Authorization: Bearer. */
function tokensOf(headers: IncomingHttpHeaders, headerName: string): Array<{ token: string; via: 'header' | 'bearer' }> {
    const tokens: Array<{ token: string; via: 'header' | 'bearer' }> = [];
    const own = header(headers, headerName);
    if (own && own.trim() !== '') { tokens.push({ token: own.trim().replace(/^Bearer\s+/i, ''), via: 'header' }); }
    if (headerName !== 'authorization') {
        const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header(headers, 'authorization') ?? '');
        if (bearer && !tokens.some((t) => t.token === bearer[1])) { tokens.push({ token: bearer[1], via: 'bearer' }); }
    }
    return tokens;
}

function verifyJwt(settings: VerifySettings, headers: IncomingHttpHeaders, rawBody: Buffer): VerifyResult {
    const method: JwtMethod = JWT_METHODS.includes(settings.jwtMethod as JwtMethod) ? settings.jwtMethod as JwtMethod : 'HS256';
    const headerName = (settings.jwtHeaderName || DEFAULT_JWT_HEADER).trim().toLowerCase();
    const auth: VerifiedAuth = { type: 'JWT_SIGNING', alg: method };
    const keys = secretBytes(candidateSecrets(settings));
    if (keys.length === 0) { return { ok: false, reason: 'no JWT key configured on the subscriber', auth }; }
    const tokens = tokensOf(headers, headerName);
    if (tokens.length === 0) { return { ok: false, reason: `missing ${headerName} header (or Authorization: Bearer)`, auth }; }
    let reason = 'invalid JWT: invalid signature';
    for (const { token, via } of tokens) {
        for (const key of keys) {
            let verified: jwt.Jwt;
            try {
                // Pinning algorithms rejects alg "none", other HMAC sizes and RS/ES tokens (key-confusion attacks).
                verified = jwt.verify(token, secretKey(key.bytes),
                    { algorithms: [method], complete: true, ignoreExpiration: true, ignoreNotBefore: true });
            } catch (err) {
                const message = (err as Error).message;
                if (message !== 'invalid signature') { reason = 'invalid JWT: ' + message; break; } // no other key helps
                continue;
            }
            // Signature and algorithm are checked; crit and the times are ours (before any claim is used).
            const critical = unsupportedCriticalHeader(verified.header);
            if (critical) { return { ok: false, reason: 'invalid JWT: ' + critical, auth }; }
            const payload = verified.payload;
            if (typeof payload !== 'object' || payload === null) {
                return { ok: false, reason: 'invalid JWT: payload is not a claims object', auth };
            }
            const claims: Record<string, unknown> = payload;
            const late = timeProblem(claims, Date.now() / 1000);
            if (late) { return { ok: false, reason: 'invalid JWT: ' + late, auth }; }
            Object.assign(auth, { via, secret: key.source, secretForm: key.form });
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
    }
    return { ok: false, reason, auth };
}

/** Constant-time byte comparison (hashed first, so the lengths always match). */
function bytesEqual(a: Buffer, b: Buffer): boolean {
    return crypto.timingSafeEqual(crypto.createHash('sha256').update(a).digest(), crypto.createHash('sha256').update(b).digest());
}

/** A text as the bytes a sender may have put in a header: UTF-8, or Latin-1 when every character fits. */
function textEncodings(text: string): Array<{ charset: 'utf-8' | 'latin1'; bytes: Buffer }> {
    const forms: Array<{ charset: 'utf-8' | 'latin1'; bytes: Buffer }> = [{ charset: 'utf-8', bytes: Buffer.from(text, 'utf8') }];
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(text) && !/[^\x00-\xff]/.test(text)) { forms.push({ charset: 'latin1', bytes: Buffer.from(text, 'latin1') }); }
    return forms;
}

function verifyXAuth(settings: VerifySettings, headers: IncomingHttpHeaders): VerifyResult {
    const auth: VerifiedAuth = { type: 'XAUTH' };
    const candidates = candidateSecrets(settings);
    if (candidates.length === 0) { return { ok: false, reason: 'no XAUTH password configured on the subscriber', auth }; }
    // Node hands header values over as Latin-1 text, one character per byte: the sender's exact bytes.
    let user: Buffer | undefined;
    let password: Buffer | undefined;
    const authorization = header(headers, 'authorization');
    const basic = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization) : null;
    if (basic) {
        const decoded = Buffer.from(basic[1], 'base64');
        const colon = decoded.indexOf(0x3a);
        if (colon >= 0) {
            user = decoded.subarray(0, colon);
            password = decoded.subarray(colon + 1);
            auth.via = 'basic';
        }
    }
    if (password === undefined) {
        const headerPassword = header(headers, 'x-auth-password');
        if (headerPassword !== undefined) {
            password = Buffer.from(headerPassword, 'latin1');
            user = Buffer.from(header(headers, 'x-auth-user') ?? '', 'latin1');
            auth.via = 'x-auth-headers';
        }
    }
    if (password === undefined || user === undefined) {
        return { ok: false, reason: 'missing XAUTH credentials (Authorization: Basic or x-auth-user/x-auth-password)', auth };
    }
    // Every form is compared (constant time each), so timing does not reveal which part failed.
    const userForms = textEncodings(settings.xAuthUser ?? '');
    const userMatch = userForms.find((f) => bytesEqual(user as Buffer, f.bytes));
    let match: { source: SecretSource; form: SecretForm; charset?: 'utf-8' | 'latin1' } | undefined;
    for (const candidate of candidates) {
        const forms: Array<{ form: SecretForm; charset?: 'utf-8' | 'latin1'; bytes: Buffer }> = textEncodings(candidate.value).map((f) => ({ form: 'text', ...f }));
        const decoded = base64Bytes(candidate.value);
        if (decoded) { forms.push({ form: 'base64-decoded', bytes: decoded }); }
        for (const f of forms) {
            if (bytesEqual(password, f.bytes) && !match) { match = { source: candidate.source, form: f.form, charset: f.charset }; }
        }
    }
    if (!userMatch || !match) {
        return { ok: false, reason: 'XAUTH user or password does not match', auth };
    }
    auth.user = userMatch.charset === 'latin1' ? user.toString('latin1') : user.toString('utf8');
    Object.assign(auth, { secret: match.source, secretForm: match.form });
    auth.charset = match.charset === 'latin1' || userMatch.charset === 'latin1' ? 'latin1' : 'utf-8';
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
