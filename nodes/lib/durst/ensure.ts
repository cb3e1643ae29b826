// "Ensure on deploy" for durst-subscription: exactly one ACTIVE subscription per topic + path, and the
// switching off of subscriptions this package ensured earlier but no longer needs (edited or deleted node).
//
// Two Node-RED instances sharing one subscriber may ensure at the same moment and both create one. Each
// instance that created or reactivated lists again afterwards and keeps the ACTIVE match with the lowest id,
// switching the others off: whichever instance created the higher id lists after its own create, when the
// lower one already exists, so both end on the same single subscription.
import { DurstApiError, DurstRestClient, SubscriptionRecord } from './rest-client';
import type { DurstStateStore, SubscriptionRef } from './state-store';

export interface EnsureRequest {
    subscriberId: number;
    topic: string;
    path: string;
    publishInitialState: boolean;
    /** Called before each change; throwing stops the ensure (the node was closed) before it changes more. */
    checkOpen?: () => void;
}

export interface EnsureResult {
    record: SubscriptionRecord & { id: number };
    action: 'kept' | 'reactivated' | 'created';
    /** ACTIVE duplicates of the same topic + path that were set INACTIVE. */
    duplicatesOff: number[];
}

/** Paths compare without leading/trailing slashes (Durst answers "path/after/baseUri/" for "path/after/baseUri"). */
export function samePath(a: unknown, b: unknown): boolean {
    const norm = (v: unknown) => (typeof v === 'string' ? v.trim().replace(/^\/+|\/+$/g, '') : '');
    return norm(a) === norm(b);
}

function byId(a: SubscriptionRecord, b: SubscriptionRecord): number {
    return Number(a.id) - Number(b.id);
}

function withId(record: SubscriptionRecord): record is SubscriptionRecord & { id: number } {
    const id: unknown = record.id;
    return (typeof id === 'number' && Number.isInteger(id)) || (typeof id === 'string' && /^\d+$/.test(id));
}

async function matchingSubscriptions(client: DurstRestClient, req: EnsureRequest): Promise<Array<SubscriptionRecord & { id: number }>> {
    const list = (await client.listSubscriptions(req.subscriberId)).body;
    return list.filter(withId).filter((s) => s.topic === req.topic && samePath(s.path, req.path))
        .map((s) => ({ ...s, id: Number(s.id) })).sort(byId);
}

/** Body of a PUT that changes only the status of an existing subscription. */
function statusBody(record: SubscriptionRecord, status: 'ACTIVE' | 'INACTIVE'): object {
    return { path: record.path ?? null, topic: record.topic, publishInitialState: record.publishInitialState ?? false, status };
}

export async function ensureSubscription(client: DurstRestClient, req: EnsureRequest): Promise<EnsureResult> {
    const check = req.checkOpen ?? (() => undefined);
    const body = { path: req.path || null, topic: req.topic, publishInitialState: req.publishInitialState };
    let matching = await matchingSubscriptions(client, req);
    let active = matching.filter((s) => s.status === 'ACTIVE');
    let action: EnsureResult['action'] = 'kept';
    if (active.length === 0) {
        check();
        const inactive = matching[0];
        let made: SubscriptionRecord;
        if (inactive) {
            made = (await client.updateSubscription(req.subscriberId, inactive.id, { ...body, status: 'ACTIVE' })).body;
            action = 'reactivated';
        } else {
            made = (await client.createSubscription(req.subscriberId, { ...body, status: 'ACTIVE' })).body;
            action = 'created';
        }
        if (!withId(made)) { throw new DurstApiError('Durst API answered without a subscription id', { body: made }); }
        // Another instance may have done the same meanwhile: look again and keep the lowest id.
        matching = await matchingSubscriptions(client, req);
        active = matching.filter((s) => s.status === 'ACTIVE');
        if (!active.some((s) => s.id === Number(made.id))) { active = [...active, { ...made, id: Number(made.id) }].sort(byId); }
    }
    const [keep, ...duplicates] = active;
    const duplicatesOff: number[] = [];
    for (const extra of duplicates) {
        check();
        await client.updateSubscription(req.subscriberId, extra.id, statusBody(extra, 'INACTIVE'));
        duplicatesOff.push(extra.id);
    }
    return { record: keep, action, duplicatesOff };
}

function retryable(err: DurstApiError): boolean {
    if (err.statusCode === undefined) { return err.code !== undefined && err.code !== 'ECLOSED'; }
    return err.statusCode >= 500 || err.statusCode === 408 || err.statusCode === 429;
}

export interface SwitchOffOutcome {
    off: SubscriptionRef[];
    /** Refs given up on (rejected by Durst for a reason a retry cannot fix), with the reason. */
    failed: Array<{ ref: SubscriptionRef; reason: string }>;
}

/**
 * Sets every queued subscription of this API INACTIVE (see DurstStateStore.pendingSwitchOff). One that is gone
 * in Durst counts as done. A network error or 5xx is thrown, so the caller retries; the queue keeps it.
 */
export async function switchOffPending(client: DurstRestClient, store: DurstStateStore, apiUrl: string): Promise<SwitchOffOutcome> {
    const outcome: SwitchOffOutcome = { off: [], failed: [] };
    for (const ref of store.pendingSwitchOff(apiUrl)) {
        try {
            const current = (await client.getSubscription(ref.subscriberId, ref.subscriptionId)).body;
            if (current.status !== 'INACTIVE') {
                await client.updateSubscription(ref.subscriberId, ref.subscriptionId, statusBody(current, 'INACTIVE'));
                outcome.off.push(ref);
            }
            store.switchedOff(ref);
        } catch (err) {
            const apiErr = err as DurstApiError;
            if (apiErr.statusCode === 404) { store.switchedOff(ref); continue; }
            // Retryable, or cut short by a close: it stays queued.
            if (retryable(apiErr) || apiErr.code === 'ECLOSED') { throw err; }
            store.switchedOff(ref);
            outcome.failed.push({ ref, reason: apiErr.message });
        }
    }
    return outcome;
}
