// What "Register / check" in the editor WOULD change in Durst, found without changing anything: the editor
// shows it and changes Durst only when the user confirms (or on deploy). An unsaved dialog (say a Host URI of
// "node-red.local" typed and then cancelled) must never re-point the live subscriber.
import { DEFAULT_JWT_HEADER } from './verify';
import { registeredHostUri } from './host-uri';
import type { SubscriberSettings } from './registration';

type Id = string | number;

export interface PlannedChange {
    /** The subscriber field (hostUri, externalAuthType, xAuthInfo.user, jwtSigningInfo.*), 'secret', or 'unknown'. */
    field: string;
    /** What Durst has now and what would be sent; never for secrets. */
    registered?: string;
    configured?: string;
}

export interface RegistrationPlan {
    /** create: no subscriber known (or the known one is gone); update: a PUT with `changes`; unchanged: nothing to do. */
    action: 'create' | 'update' | 'unchanged';
    subscriberId?: Id;
    changes: PlannedChange[];
    /** The known subscriber no longer exists in Durst. */
    gone?: boolean;
}

interface PlanClient {
    getSubscriber(id: Id): Promise<{ statusCode: number; body: unknown }>;
}

/** The non-secret value of a field in Durst's record and in the settings, as the editor shows them. */
function values(field: string, remote: Record<string, any>, settings: SubscriberSettings): { registered?: string; configured?: string } {
    const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
    switch (field) {
        case 'hostUri': return { registered: text(remote.hostUri), configured: registeredHostUri(settings.hostUri) };
        case 'externalAuthType': return { registered: text(remote.externalAuthType ?? 'NONE'), configured: settings.externalAuthType };
        case 'xAuthInfo.user': return { registered: text(remote.xAuthInfo?.user), configured: settings.xAuthUser ?? '' };
        case 'jwtSigningInfo.httpHeaderName': return { registered: text(remote.jwtSigningInfo?.httpHeaderName), configured: settings.jwtHeaderName || DEFAULT_JWT_HEADER };
        case 'jwtSigningInfo.method': return { registered: text(remote.jwtSigningInfo?.method), configured: settings.jwtMethod || 'HS256' };
        default: return {};
    }
}

/**
 * Reads the known subscriber (one GET) and lists what a registration would change. `differences` is the
 * service's comparison (non-secret fields); `secretChanged` adds a 'secret' line (a secret typed in the form, or
 * one that differs from the last registered). Errors of the GET (other than 404) are thrown to the caller.
 */
export async function planRegistration(client: PlanClient, settings: SubscriberSettings, knownId: Id | undefined,
    differences: (remote: unknown) => string[], secretChanged: boolean): Promise<RegistrationPlan> {
    if (knownId === undefined) { return { action: 'create', changes: [] }; }
    let remote: unknown;
    try {
        remote = (await client.getSubscriber(knownId)).body;
    } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 404) { return { action: 'create', subscriberId: knownId, changes: [], gone: true }; }
        // This Durst cannot show one subscriber: what differs is unknown, so a registration would send every field.
        if (status === 405 || status === 501) { return { action: 'update', subscriberId: knownId, changes: [{ field: 'unknown' }] }; }
        throw err;
    }
    const record = (typeof remote === 'object' && remote !== null ? remote : {}) as Record<string, any>;
    const changes: PlannedChange[] = differences(remote).filter((f) => f !== 'secret').map((field) => ({ field, ...values(field, record, settings) }));
    if (secretChanged) { changes.push({ field: 'secret' }); }
    return { action: changes.length > 0 ? 'update' : 'unchanged', subscriberId: knownId, changes };
}
