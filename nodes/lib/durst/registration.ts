// Creating or reconciling a Durst subscriber. Shared by the durst-subscriber config node (on first use) and
// its editor "Register / check" admin endpoint.
//
// Durst echoes secrets back transformed, so only NON-secret fields are compared with the remote record;
// a PUT happens when those differ, when the caller asks for it (new secret typed in the editor), or when the
// secrets changed since this process last sent them (tracked as an in-memory fingerprint, never the secret).
import * as crypto from 'crypto';
import { DurstApiError, DurstRestClient } from './rest-client';
import type { Node } from 'node-red';
import { DEFAULT_JWT_HEADER, type VerifySettings } from './verify';

/** What is registered with Durst: where to call back, and the same auth settings the webhook verifies with. */
export interface SubscriberSettings extends VerifySettings {
    hostUri: string;
}

export type RegistrationAction = 'created' | 'updated' | 'unchanged' | 'recreated';

export interface RegistrationResult {
    id: number;
    action: RegistrationAction;
    statusCode: number;
}

export interface ReconcileOptions {
    /** PUT even if the non-secret fields match (e.g. a new secret was entered). */
    forceUpdate?: boolean;
    /** Called with a warning text (e.g. the remembered subscriber is gone and is re-registered). */
    warn?: (text: string) => void;
    /** Key under which the secret fingerprint is remembered (apiUrl + id is added). */
    fingerprintScope?: string;
}

const secretFingerprints = new Map<string, string>();

/** The request body for create/PUT, secrets included (they only ever go to the Durst API). */
export function subscriberBody(settings: SubscriberSettings): Record<string, unknown> {
    const body: Record<string, unknown> = { externalAuthType: settings.externalAuthType, hostUri: settings.hostUri };
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

function sameUri(a: unknown, b: string): boolean {
    return typeof a === 'string' && a.trim().replace(/\/+$/, '') === b.trim().replace(/\/+$/, '');
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

function idFrom(body: unknown): number {
    const id = Number((body as { id?: unknown } | null)?.id);
    if (!Number.isInteger(id) || id < 0) {
        throw new DurstApiError('Durst API answered without a subscriber id', { body });
    }
    return id;
}

export function validateSubscriberSettings(settings: SubscriberSettings): string | undefined {
    if (!settings.hostUri || !settings.hostUri.trim()) { return 'hostUri is required: the public base URL where Durst reaches Node-RED'; }
    if (!['NONE', 'XAUTH', 'JWT_SIGNING'].includes(settings.externalAuthType)) { return `unknown externalAuthType "${settings.externalAuthType}"`; }
    if (settings.externalAuthType === 'XAUTH' && !settings.xAuthPassword) { return 'XAUTH needs a password (credential xAuthPassword)'; }
    if (settings.externalAuthType === 'JWT_SIGNING' && !settings.jwtKey) { return 'JWT_SIGNING needs a key (credential jwtKey)'; }
    return undefined;
}

/** Creates the subscriber when no id is known, otherwise checks it and PUTs only when needed. */
export async function reconcileSubscriber(client: DurstRestClient, settings: SubscriberSettings, knownId: number | undefined,
    options: ReconcileOptions = {}): Promise<RegistrationResult> {
    const invalid = validateSubscriberSettings(settings);
    if (invalid) { throw new DurstApiError(invalid); }
    const scope = options.fingerprintScope ?? '';
    const body = subscriberBody(settings);
    const create = async (action: RegistrationAction): Promise<RegistrationResult> => {
        const res = await client.createSubscriber(body);
        const id = idFrom(res.body);
        secretFingerprints.set(`${scope}|${id}`, fingerprint(settings));
        return { id, action, statusCode: res.statusCode };
    };
    if (knownId === undefined) { return create('created'); }

    let remote;
    try {
        remote = await client.getSubscriber(knownId);
    } catch (err) {
        if ((err as DurstApiError).statusCode === 404) {
            options.warn?.(`Durst subscriber ${knownId} no longer exists; registering a new one`);
            return create('recreated');
        }
        throw err;
    }
    const key = `${scope}|${knownId}`;
    const current = fingerprint(settings);
    const previous = secretFingerprints.get(key);
    const secretsChanged = previous !== undefined && previous !== current;
    if (options.forceUpdate || secretsChanged || nonSecretDifferences(remote.body, settings).length > 0) {
        const res = await client.updateSubscriber(knownId, body);
        secretFingerprints.set(key, current);
        return { id: knownId, action: 'updated', statusCode: res.statusCode };
    }
    // Unknown after a restart: the remote secret cannot be compared (it is echoed transformed), so it is trusted.
    secretFingerprints.set(key, current);
    return { id: knownId, action: 'unchanged', statusCode: remote.statusCode };
}

/** What the durst-subscriber config node exposes to the subscription and webhook-in nodes. */
export interface DurstSubscriberNode extends Node {
    client: DurstRestClient;
    hostUri: string;
    /** Registers or checks the subscriber once (single-flight, cached); resolves with its id. */
    ensureRegistered(): Promise<RegistrationResult>;
    /** The subscriber id known now (configured or remembered), without calling the API. */
    knownSubscriberId(): number | undefined;
    /** Forgets the cached registration (e.g. after a 404), so the next ensureRegistered() checks again. */
    invalidateRegistration(): void;
    verificationSettings(): VerifySettings;
    /**
     * A new API client with this node's settings, for work that must outlive the node's own client (switching
     * off the subscription of a deleted node while this config node closes in the same deploy). Caller closes it.
     */
    newClient(): DurstRestClient;
}
