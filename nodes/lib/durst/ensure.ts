// "Ensure on deploy" for durst-subscription: exactly one ACTIVE subscription per topic + path, and the
// switching off of subscriptions this package ensured earlier but no longer needs (edited or deleted node).
// Called by the Durst service (service.ts) only, which owns the retries.
//
// Every ensure lists first, so a create that landed although its answer was lost (timeout, connection reset,
// 5xx, a 201 with an empty or non-JSON body) is found and adopted instead of being created again. After its
// own create the list is read again for the same reason.
//
// Two Node-RED instances sharing one subscriber may ensure at the same moment and both create one. Each
// instance that created or reactivated lists again afterwards and keeps the ACTIVE match with the lowest id,
// switching the others off: whichever instance created the higher id lists after its own create, when the
// lower one already exists, so both end on the same single subscription.
import { DurstRestClient, SubscriptionRecord } from './rest-client';
import { DurstApiError, DurstId, compareIds, durstIdOf, isRetryable, outcomeUnknown, sameId } from './errors';
import type { DurstStateStore, SubscriptionRef } from './state-store';
import { registeredPath } from './host-uri';

export interface EnsureRequest {
    subscriberId: DurstId;
    topic: string;
    path: string;
    publishInitialState: boolean;
    /** Called before each change; throwing stops the ensure (the node was closed) before it changes more. */
    checkOpen?: () => void;
}

type Identified = SubscriptionRecord & { id: DurstId };

export interface EnsureResult {
    record: Identified;
    action: 'kept' | 'reactivated' | 'created' | 'adopted';
    /** ACTIVE duplicates of the same topic + path that were set INACTIVE. */
    duplicatesOff: DurstId[];
}

/** Paths compare without leading/trailing slashes (Durst answers "path/after/baseUri/" for "path/after/baseUri"). */
export function samePath(a: unknown, b: unknown): boolean {
    const norm = (v: unknown) => (typeof v === 'string' ? v.trim().replace(/^\/+|\/+$/g, '') : '');
    return norm(a) === norm(b);
}

/** The status of a record, in Durst's upper case (a server may answer "active"). */
function statusOf(record: SubscriptionRecord): string {
    return typeof record.status === 'string' ? record.status.trim().toUpperCase() : '';
}

const isActive = (record: SubscriptionRecord) => statusOf(record) === 'ACTIVE';

function byId(a: Identified, b: Identified): number {
    return compareIds(a.id, b.id);
}

function identified(record: SubscriptionRecord): Identified | undefined {
    const id = durstIdOf(record.id);
    return id === undefined ? undefined : { ...record, id };
}

async function matchingSubscriptions(client: DurstRestClient, req: EnsureRequest): Promise<Identified[]> {
    const list = (await client.listSubscriptions(req.subscriberId)).body;
    return list.map(identified).filter((s): s is Identified => s !== undefined)
        .filter((s) => s.topic === req.topic && samePath(s.path, req.path)).sort(byId);
}

/** Body of a PUT that changes only the status of an existing subscription. */
function statusBody(record: SubscriptionRecord, status: 'ACTIVE' | 'INACTIVE'): object {
    return { path: record.path ?? null, topic: record.topic, publishInitialState: record.publishInitialState ?? false, status };
}

export async function ensureSubscription(client: DurstRestClient, req: EnsureRequest): Promise<EnsureResult> {
    const check = req.checkOpen ?? (() => undefined);
    // No leading "/": resolved against the Host URI, a URL join keeps the Host URI's own path (host-uri.ts).
    const body = { path: registeredPath(req.path) || null, topic: req.topic, publishInitialState: req.publishInitialState };
    let matching = await matchingSubscriptions(client, req);
    let active = matching.filter(isActive);
    let action: EnsureResult['action'] = 'kept';
    if (active.length === 0) {
        check();
        const inactive = matching[0];
        let made: Identified | undefined;
        if (inactive) {
            made = identified((await client.updateSubscription(req.subscriberId, inactive.id, { ...body, status: 'ACTIVE' })).body ?? {}) ?? inactive;
            action = 'reactivated';
        } else {
            action = 'created';
            try {
                made = identified((await client.createSubscription(req.subscriberId, { ...body, status: 'ACTIVE' })).body ?? {});
            } catch (err) {
                // It may have landed all the same: the list below decides; nothing there = the error stands.
                if (!outcomeUnknown(err)) { throw err; }
                matching = await matchingSubscriptions(client, req).catch(() => { throw err; });
                if (!matching.some(isActive)) { throw err; }
                action = 'adopted';
            }
        }
        // Another instance may have done the same meanwhile, or the answer carried no id: look again and keep
        // the lowest id.
        matching = await matchingSubscriptions(client, req);
        active = matching.filter(isActive);
        if (made && !active.some((s) => sameId(s.id, made?.id)) && statusOf(made) !== 'INACTIVE') { active = [...active, made].sort(byId); }
        if (!made && action === 'created') { action = 'adopted'; }
        if (active.length === 0) {
            throw new DurstApiError('Durst answered the create, but no ACTIVE subscription for this topic and path is listed', { code: 'ESHAPE' });
        }
    }
    const [keep, ...duplicates] = active;
    const duplicatesOff: DurstId[] = [];
    for (const extra of duplicates) {
        check();
        await client.updateSubscription(req.subscriberId, extra.id, statusBody(extra, 'INACTIVE'));
        duplicatesOff.push(extra.id);
    }
    return { record: keep, action, duplicatesOff };
}

export interface SwitchOffOutcome {
    off: SubscriptionRef[];
    /** Refs given up on (rejected by Durst for a reason a retry cannot fix), with the reason. */
    failed: Array<{ ref: SubscriptionRef; reason: string }>;
}

/**
 * Sets every queued subscription of this API INACTIVE (see DurstStateStore.pendingSwitchOff). One that is gone
 * in Durst counts as done. A retryable failure is thrown, so the caller retries; the queue keeps it.
 */
export async function switchOffPending(client: DurstRestClient, store: DurstStateStore, apiUrl: string): Promise<SwitchOffOutcome> {
    const outcome: SwitchOffOutcome = { off: [], failed: [] };
    for (const ref of store.pendingSwitchOff(apiUrl)) {
        try {
            const current = (await client.getSubscription(ref.subscriberId, ref.subscriptionId)).body;
            if (statusOf(current) !== 'INACTIVE') {
                await client.updateSubscription(ref.subscriberId, ref.subscriptionId, statusBody(current, 'INACTIVE'));
                outcome.off.push(ref);
            }
            store.switchedOff(ref);
        } catch (err) {
            const apiErr = err as DurstApiError;
            if (apiErr.statusCode === 404) { store.switchedOff(ref); continue; }
            // Retryable, cut short by a close, or a login to fix: it stays queued.
            if (isRetryable(apiErr) || apiErr.code === 'ECLOSED' || apiErr.code === 'EAUTH') { throw err; }
            store.switchedOff(ref);
            outcome.failed.push({ ref, reason: apiErr.message });
        }
    }
    return outcome;
}
