// printfactory-config's editor button "Test connection": what it tries and how it says what happened, in the admin
// routes' one answer shape (../admin-routes.ts). The vendor allows one connection per organisation, so while this
// runtime holds the account's connection no second handshake with the MisKey is made (it would be refused or, worse,
// push the live one out): for the same URL the live connection's state is the answer; for another URL the URL is
// tried without the MisKey and the answer says so. Otherwise the test holds the slot for a moment only.
import type { Agent } from 'http';
import WebSocket from 'ws';
import { AdminError, AdminVars } from '../admin-routes';
import { proxyFor, tunnelAgent } from '../net/proxy';
import type { TlsOptions } from '../net/tls';
import { ConnectionStatus, connectionHolding } from './connection';
import { Problem, problemOfError, problemOfStatus } from './problems';

const TEST_TIMEOUT_MS = 10000;

/** Success: `200 { ok: true, result, vars? }`; text `printfactory-config.test.<result>` with `vars`. */
export const TEST_RESULTS = Object.freeze(['accepted', 'liveConnected', 'probeAnswered', 'probeOpened'] as const);

/**
 * Failure: `<status> { ok: false, code, error, vars? }`; text `printfactory-config.test.<code>` with `vars`, where
 * `vars.cause` is a cause code (./problems.ts) whose own text is `printfactory-config.cause.<cause>`. The route's
 * refusals (form values, secrets: ../editor-secrets.ts), the admin routes' own (`notJson`, `internal`) and the
 * editor app's (`badJson`, `tooLarge`, `requestFailed`) are codes of this list too.
 */
export const TEST_FAILURES = Object.freeze([
    'problem', 'liveFailing', 'liveState', 'probeFailed', 'standby',
    'urlScheme', 'misKeyRequired', 'invalid', 'reenterSecret', 'envUnset',
    'notJson', 'internal', 'badJson', 'tooLarge', 'requestFailed'
] as const);

export interface TestAnswer { result: typeof TEST_RESULTS[number]; vars?: AdminVars }

/** How a test handshake ended: opened (101), or the problem (./problems.ts, the same codes as the node status). */
type Handshake = { opened: true } | { opened: false; problem: Problem };

/**
 * Opens a short-lived socket and reports how the server answered. `misKey` undefined sends none (a reachability
 * probe that cannot take the organisation's slot). Never rejects.
 */
function testHandshake(url: string, misKey: string | undefined, tlsOptions: TlsOptions | undefined): Promise<Handshake> {
    return new Promise((resolve) => {
        let settled = false;
        let statusCode = 0;
        let error: (Error & { code?: unknown }) | undefined;
        let ws: WebSocket;
        let agent: Agent | undefined;
        try {
            const target = new URL(url);
            const proxy = proxyFor(target);
            agent = proxy ? tunnelAgent(proxy, { secureTarget: target.protocol === 'wss:', keepAlive: false, connectTimeoutMs: TEST_TIMEOUT_MS }) : undefined;
            ws = new WebSocket(url, {
                headers: misKey === undefined ? {} : { MisKey: misKey },
                handshakeTimeout: TEST_TIMEOUT_MS,
                perMessageDeflate: false,
                followRedirects: false,
                agent,
                ...tlsOptions
            });
        } catch (err) {
            resolve({ opened: false, problem: problemOfError(err as Error) });
            return;
        }
        const finish = (result: Handshake): void => { if (!settled) { settled = true; resolve(result); } };
        ws.on('unexpected-response', (_req, res) => {
            statusCode = res.statusCode ?? 0;
            res.resume();
            ws.terminate();
        });
        ws.on('error', (err) => { error = err; });
        ws.on('open', () => {
            finish({ opened: true });
            // Give the organisation's single connection slot back at once.
            ws.close(1000, 'connection test');
        });
        ws.on('close', () => {
            agent?.destroy();
            if (statusCode) { finish({ opened: false, problem: problemOfStatus(statusCode) }); }
            finish({ opened: false, problem: error ? problemOfError(error) : { code: 'serverClosed' } });
        });
    });
}

/** The problem a live connection's status shows, if any (the same words as its nodes' status). */
function problemOfLive(status: ConnectionStatus): Problem | undefined {
    if (status.state === 'reconnecting') { return status.problem; }
    if (status.state === 'authFailed') { return problemOfStatus(status.statusCode); }
    return undefined;
}

/** A URL in one spelling, to compare a form's URL with a live connection's. */
function sameUrl(a: string, b: string): boolean {
    try { return new URL(a).href === new URL(b).href; } catch { return a.trim() === b.trim(); }
}

/**
 * A failed test: 400 when the server refused the MisKey (as a refused Durst login), 502 when the server or the way
 * to it fails; `error` is the English detail, the cause a code in `vars.cause`.
 */
function problemError(code: 'problem' | 'liveFailing' | 'probeFailed', problem: Problem, what: string, vars: AdminVars = {}): AdminError {
    const detail = `${problem.code}${problem.statusCode ? ` (HTTP ${problem.statusCode})` : ''}${problem.detail ? `: ${problem.detail}` : ''}`;
    return new AdminError(problem.code === 'rejected' ? 400 : 502, code, `${what}: ${detail}`,
        { cause: problem.code, statusCode: problem.statusCode ?? '', detail: problem.detail ?? '', ...vars }, problem.statusCode);
}

/** Tests `url` with `misKey` (trimmed, non-empty); resolves a success, rejects an AdminError. */
export async function testConnection(url: string, misKey: string, tlsOptions: TlsOptions | undefined): Promise<TestAnswer> {
    const holder = connectionHolding(misKey);
    // In HA standby another instance holds the slot: no handshake with the MisKey, from here, to anywhere.
    if (holder && holder.status.state === 'standby') {
        const standby = holder.status.holder ?? '?';
        throw new AdminError(409, 'standby', `not tested: this Node-RED stands by for this MisKey (HA lease; holder: ${standby})`, { holder: standby });
    }
    if (holder && sameUrl(holder.url, url)) {
        // The live connection to this very URL with this MisKey is the test.
        const live = holder.status;
        const problem = problemOfLive(live);
        if (live.state === 'connected') { return { result: 'liveConnected' }; }
        if (problem) { throw problemError('liveFailing', problem, 'not tested again: the live connection with this MisKey fails'); }
        throw new AdminError(409, 'liveState', `not tested: this Node-RED holds the connection for this MisKey (state: ${live.state})`, { state: live.state });
    }
    if (holder) {
        // Another URL: test that something answers there, without the MisKey (no slot is taken).
        const probe = await testHandshake(url, undefined, tlsOptions);
        if (probe.opened) { return { result: 'probeOpened', vars: { holderUrl: holder.url } }; }
        const { problem } = probe;
        // A notification server asks for the MisKey it did not get.
        if (problem.code === 'rejected') { return { result: 'probeAnswered', vars: { statusCode: problem.statusCode ?? '', holderUrl: holder.url } }; }
        throw problemError('probeFailed', problem, `tried without the MisKey (this Node-RED holds its connection, at ${holder.url})`, { holderUrl: holder.url });
    }
    const handshake = await testHandshake(url, misKey, tlsOptions);
    if (handshake.opened) { return { result: 'accepted' }; }
    throw problemError('problem', handshake.problem, 'the handshake failed');
}
