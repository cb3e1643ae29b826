// Creating or reconciling a Durst subscriber: the registration step of the Durst service (service.ts), which
// both the durst-subscriber config node and its editor "Register / check" endpoint go through.
//
// Durst publishes no list of subscribers, so a create whose outcome is unknown (timeout, connection lost
// after sending, 5xx, a 201 without an id) can never be checked from here: it is not repeated but reported
// (code EUNCONFIRMED), and the service keeps refusing to create until the user has looked in Durst.
//
// Durst echoes secrets back transformed, so only NON-secret fields are compared with the remote record;
// a PUT happens when those differ, when the caller asks for it (new secret typed in the editor), or when the
// secrets changed since this process last sent them (tracked as an in-memory fingerprint, never the secret).
import * as crypto from 'crypto';
import { DurstRestClient } from './rest-client';
import { DurstApiError, DurstId, durstIdOf, outcomeUnknown } from './errors';
import { DEFAULT_JWT_HEADER, type VerifySettings } from './verify';
import { hostUriProblem, registeredHostUri } from './host-uri';

export type { DurstSubscriberNode } from './service';

/** What is registered with Durst: where to call back, and the same auth settings the webhook verifies with. */
export interface SubscriberSettings extends VerifySettings {
    hostUri: string;
}

export type RegistrationAction = 'created' | 'updated' | 'unchanged' | 'recreated';

export interface RegistrationResult {
    id: DurstId;
    action: RegistrationAction;
    statusCode: number;
    /**
     * What Durst answered for the subscriber (create, PUT or GET), secrets as Durst echoes them (transformed):
     * a later step may keep what Durst returned. Never logged, never put into a msg.
     */
    remote?: unknown;
}

export interface ReconcileOptions {
    /** PUT even if the non-secret fields match (e.g. a new secret was entered). */
    forceUpdate?: boolean;
    /** Called with a warning text (e.g. the remembered subscriber is gone and is re-registered). */
    warn?: (text: string) => void;
    /** Key under which the secret fingerprint is remembered (apiUrl + id is added). */
    fingerprintScope?: string;
    /**
     * Names of the fields where the registered subscriber (Durst's answer) differs from the desired settings;
     * any difference means a PUT. Default: nonSecretDifferences.
     */
    compare?: (remote: unknown, settings: SubscriberSettings) => string[];
    /**
     * Differences known without Durst's answer (a callback secret changed since it was registered). Where Durst
     * cannot show one subscriber (405/501) only these, or forceUpdate, make a PUT.
     */
    unseenDifferences?: () => string[];
}

const secretFingerprints = new Map<string, string>();

/** The request body for create/PUT, secrets included (they only ever go to the Durst API). */
export function subscriberBody(settings: SubscriberSettings): Record<string, unknown> {
    // With one trailing "/": Durst's plain concatenation with the path then gives the same URL as a URL join (host-uri.ts).
    const body: Record<string, unknown> = { externalAuthType: settings.externalAuthType, hostUri: registeredHostUri(settings.hostUri) };
    if (settings.externalAuthType === 'XAUTH') {
        body.xAuthInfo = { user: settings.xAuthUser ?? '', password: settings.xAuthPassword ?? '' };
    }
    if (settings.externalAuthType === 'JWT_SIGNING') {
        body.jwtSigningInfo = {
            httpHeaderName: settings.jwtHeaderName || DEFAULT_JWT_HEADER,
            key: settings.jwtKey ?? '',
            method: settings.jwtMethod || 'HS256'
        };
    }
    return body;
}

// Exactly the registered form: a subscriber registered without the trailing "/" is updated, so Durst stops calling
// "<host>:1880durst/status" (Durst's trailing "/" on a path it echoes is not its hostUri's).
function sameUri(a: unknown, b: string): boolean {
    return typeof a === 'string' && a.trim() === registeredHostUri(b);
}

/** Names of the non-secret fields where the remote subscriber differs from the settings. */
export function nonSecretDifferences(remote: unknown, settings: SubscriberSettings): string[] {
    const r = (typeof remote === 'object' && remote !== null ? remote : {}) as Record<string, any>;
    const diffs: string[] = [];
    if (!sameUri(r.hostUri, settings.hostUri)) { diffs.push('hostUri'); }
    if ((r.externalAuthType ?? 'NONE') !== settings.externalAuthType) { diffs.push('externalAuthType'); }
    if (settings.externalAuthType === 'XAUTH' && (r.xAuthInfo?.user ?? '') !== (settings.xAuthUser ?? '')) {
        diffs.push('xAuthInfo.user');
    }
    if (settings.externalAuthType === 'JWT_SIGNING') {
        const header = String(r.jwtSigningInfo?.httpHeaderName ?? '').toLowerCase();
        if (header !== (settings.jwtHeaderName || DEFAULT_JWT_HEADER).toLowerCase()) { diffs.push('jwtSigningInfo.httpHeaderName'); }
        if ((r.jwtSigningInfo?.method ?? '') !== (settings.jwtMethod || 'HS256')) { diffs.push('jwtSigningInfo.method'); }
    }
    return diffs;
}

function fingerprint(settings: SubscriberSettings): string {
    const secret = settings.externalAuthType === 'XAUTH' ? settings.xAuthPassword ?? ''
        : settings.externalAuthType === 'JWT_SIGNING' ? settings.jwtKey ?? '' : '';
    return crypto.createHash('sha256').update(settings.externalAuthType + '\0' + secret).digest('hex');
}

/** The id of a created subscriber: from the body, else from a `Location` header (.../subscribers/{id}). */
export function createdId(body: unknown, headers?: Record<string, unknown>): DurstId | undefined {
    const fromBody = durstIdOf((body as { id?: unknown } | null)?.id);
    if (fromBody !== undefined) { return fromBody; }
    const location = headers?.location;
    if (typeof location === 'string') {
        const m = /\/subscribers\/([^/?#]+)\/?(?:[?#].*)?$/.exec(location);
        if (m) { return durstIdOf(decodeURIComponent(m[1])); }
    }
    return undefined;
}

export function unconfirmedCreate(hostUri: string, why: string): DurstApiError {
    return new DurstApiError(`the subscriber create at Durst has an unknown outcome (${why}): nothing more is created. ` +
        `Look in Durst for a subscriber with hostUri ${hostUri}: if there is one, put its id into "Subscriber id" and deploy; ` +
        'if there is none, press "Register / check" in the durst-subscriber and deploy', { code: 'EUNCONFIRMED' });
}

export function validateSubscriberSettings(settings: SubscriberSettings): string | undefined {
    if (!settings.hostUri || !settings.hostUri.trim()) { return 'hostUri is required: the public base URL where Durst reaches Node-RED'; }
    const hostProblem = hostUriProblem(settings.hostUri);
    if (hostProblem) { return hostProblem; }
    if (!['NONE', 'XAUTH', 'JWT_SIGNING'].includes(settings.externalAuthType)) { return `unknown externalAuthType "${settings.externalAuthType}"`; }
    if (settings.externalAuthType === 'XAUTH' && !settings.xAuthPassword) { return 'XAUTH needs a password (credential xAuthPassword)'; }
    if (settings.externalAuthType === 'JWT_SIGNING' && !settings.jwtKey) { return 'JWT_SIGNING needs a key (credential jwtKey)'; }
    return undefined;
}

/** Creates the subscriber when no id is known, otherwise checks it and PUTs only when needed. */
export async function reconcileSubscriber(client: DurstRestClient, settings: SubscriberSettings, knownId: DurstId | undefined,
    options: ReconcileOptions = {}): Promise<RegistrationResult> {
    const invalid = validateSubscriberSettings(settings);
    if (invalid) { throw new DurstApiError(invalid, { code: 'ECONFIG' }); }
    const scope = options.fingerprintScope ?? '';
    const body = subscriberBody(settings);
    const compare = options.compare ?? nonSecretDifferences;
    const create = async (action: RegistrationAction): Promise<RegistrationResult> => {
        let res;
        try {
            res = await client.createSubscriber(body);
        } catch (err) {
            if (outcomeUnknown(err)) { throw unconfirmedCreate(settings.hostUri, (err as Error).message); }
            throw err;
        }
        const id = createdId(res.body, res.headers);
        if (id === undefined) { throw unconfirmedCreate(settings.hostUri, `Durst answered ${res.statusCode} without a subscriber id`); }
        secretFingerprints.set(`${scope}|${id}`, fingerprint(settings));
        return { id, action, statusCode: res.statusCode, remote: res.body };
    };
    if (knownId === undefined) { return create('created'); }

    let remote;
    try {
        remote = await client.getSubscriber(knownId);
    } catch (err) {
        const status = (err as DurstApiError).statusCode;
        if (status === 404) {
            options.warn?.(`Durst subscriber ${knownId} no longer exists; registering a new one`);
            return create('recreated');
        }
        if (status === 405 || status === 501) {
            // This Durst cannot show one subscriber: the known id is kept, and PUT only for a difference known without
            // its answer (a new secret), else a changed secret would never reach Durst.
            if (options.forceUpdate || (options.unseenDifferences?.() ?? []).length > 0) {
                const res = await client.updateSubscriber(knownId, body);
                secretFingerprints.set(`${scope}|${knownId}`, fingerprint(settings));
                return { id: knownId, action: 'updated', statusCode: res.statusCode, remote: res.body };
            }
            secretFingerprints.set(`${scope}|${knownId}`, fingerprint(settings));
            return { id: knownId, action: 'unchanged', statusCode: status };
        }
        throw err;
    }
    const key = `${scope}|${knownId}`;
    const current = fingerprint(settings);
    const previous = secretFingerprints.get(key);
    const secretsChanged = previous !== undefined && previous !== current;
    if (options.forceUpdate || secretsChanged || compare(remote.body, settings).length > 0) {
        const res = await client.updateSubscriber(knownId, body);
        secretFingerprints.set(key, current);
        return { id: knownId, action: 'updated', statusCode: res.statusCode, remote: res.body };
    }
    // Unknown after a restart: the remote secret cannot be compared (it is echoed transformed), so it is trusted.
    secretFingerprints.set(key, current);
    return { id: knownId, action: 'unchanged', statusCode: remote.statusCode, remote: remote.body };
}

