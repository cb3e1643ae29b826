// The Durst Workflow API session: one login token per config node. Durst documents two logins: GET
// /api/v1/login?username=&password= (from Workflow 1.7.3) and POST /api/v2/login with a JSON body (from
// 1.21.1; GET is deprecated there). The token comes in the `x-auth-token` response header (any letter case)
// and, with v2, in the body; Durst Analytics names it xAuthToken / x_auth_token. It is valid 24 hours or
// until the Durst services restart, so any call may meet a 401: the REST client then asks for a new token
// once (see rest-client.ts). One login at a time: concurrent callers wait for the same one.
import { DurstApiError } from './errors';
import { isRecord } from '../is-record';

export type LoginMethod = 'auto' | 'v2' | 'v1';
export const LOGIN_METHODS: LoginMethod[] = ['auto', 'v2', 'v1'];

export interface LoginSettings {
    user: string;
    password: string;
    method: LoginMethod;
}

/** What the session needs from the HTTP layer: one request, no retries, no token; answers status, headers, parsed body. */
export type LoginTransport = (req: { method: 'GET' | 'POST'; path: string; params?: Record<string, string>; data?: unknown }) =>
    Promise<{ status: number; headers: Record<string, unknown>; body: unknown }>;

const BODY_TOKEN_FIELDS = ['x-auth-token', 'xauthtoken', 'x_auth_token'];

/** The token of a login answer: the x-auth-token header in any case, else a body field; undefined if none. */
export function tokenOf(headers: Record<string, unknown>, body: unknown): string | undefined {
    for (const [name, value] of Object.entries(headers ?? {})) {
        if (name.toLowerCase() === 'x-auth-token') {
            const text = Array.isArray(value) ? String(value[0] ?? '') : String(value ?? '');
            if (text.trim() !== '') { return text.trim(); }
        }
    }
    if (isRecord(body)) {
        for (const [name, value] of Object.entries(body)) {
            if (BODY_TOKEN_FIELDS.includes(name.toLowerCase()) && typeof value === 'string' && value.trim() !== '') { return value.trim(); }
        }
    }
    return undefined;
}

export class DurstSession {
    private token?: string;
    private pending?: Promise<string>;
    /** Which login answered last time ('auto' tries v2 first and remembers a fallback to v1). */
    private working: 'v2' | 'v1';
    /** Logins carried out (tests and logs). */
    logins = 0;

    constructor(private readonly settings: LoginSettings, private readonly send: LoginTransport) {
        this.working = settings.method === 'v1' ? 'v1' : 'v2';
    }

    get user(): string { return this.settings.user; }

    /** The current token, logging in first if there is none (one login at a time). */
    current(): Promise<string> {
        if (this.token) { return Promise.resolve(this.token); }
        if (!this.pending) {
            const attempt = this.login().then((token) => { this.token = token; return token; });
            this.pending = attempt;
            const clear = () => { if (this.pending === attempt) { this.pending = undefined; } };
            attempt.then(clear, clear);
        }
        return this.pending;
    }

    /** The token `used` was refused (401): forget it, unless another caller already replaced it. */
    invalidate(used: string | undefined): void {
        if (used === undefined || this.token === used) { this.token = undefined; }
    }

    private refused(status: number, version: string): DurstApiError {
        return new DurstApiError(`Durst refused the login of user "${this.settings.user}" (${version} login answered ${status}): check the API user and password`,
            { statusCode: status, code: 'EAUTH' });
    }

    private async login(): Promise<string> {
        if (!this.settings.user) {
            throw new DurstApiError('the durst-subscriber has no API user for the login', { code: 'EAUTH' });
        }
        this.logins += 1;
        if (this.working === 'v2') {
            const res = await this.send({ method: 'POST', path: '/api/v2/login', data: { username: this.settings.user, password: this.settings.password } });
            if (this.settings.method === 'auto' && [401, 403, 404, 405].includes(res.status)) {
                // A Workflow before 1.21.1 has only the GET login. Its security filter may answer the unknown v2
                // path with 401/403 before any 404, so those try v1 too; v1 is kept only once it worked.
                const v1 = await this.loginV1();
                this.working = 'v1';
                return v1;
            }
            return this.accept(res, 'v2');
        }
        return this.loginV1();
    }

    private async loginV1(): Promise<string> {
        const res = await this.send({ method: 'GET', path: '/api/v1/login', params: { username: this.settings.user, password: this.settings.password } });
        return this.accept(res, 'v1');
    }

    private accept(res: { status: number; headers: Record<string, unknown>; body: unknown }, version: string): string {
        if (res.status === 401 || res.status === 403 || (res.status === 404 && version === 'v1') || res.status === 400) {
            throw this.refused(res.status, version);
        }
        if (res.status < 200 || res.status >= 300) {
            throw new DurstApiError(`Durst ${version} login answered ${res.status}`, { statusCode: res.status });
        }
        const token = tokenOf(res.headers, res.body);
        if (!token) {
            throw new DurstApiError(`Durst ${version} login answered ${res.status} without an x-auth-token (header or body)`,
                { statusCode: res.status, code: 'EAUTH' });
        }
        return token;
    }
}
