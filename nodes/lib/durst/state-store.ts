// What the Durst nodes remember across restarts: the subscriber id each durst-subscriber registered, and
// the subscription each durst-subscription ensured. One small JSON file in Node-RED's user directory, so it
// lives with the flows (not inside this package, which an update replaces) and is reset by deleting it.
// It holds ids, URLs, topics and paths only, never a secret. The file is read and written synchronously on
// each change (a few times per deploy), so every node of the process sees the same state without a cache.
import * as fs from 'fs';
import * as path from 'path';
import { DurstId, durstIdOf, sameId } from './errors';
import { isRecord } from '../is-record';

export const STATE_FILE_NAME = '.print-events-durst.json';

export interface RememberedSubscriber {
    id: DurstId;
    /** The subscriberId pinned in the flow when this id was learnt; a different pin wins over this entry. */
    pinned: DurstId | null;
}

/** A subscriber create whose outcome is unknown (see registration.ts): no further create until it is resolved. */
export interface UnconfirmedCreate {
    at: string;
    apiUrl: string;
    hostUri: string;
    configNode: string;
}

/** One subscription at one Durst API. */
export interface SubscriptionRef {
    apiUrl: string;
    subscriberId: DurstId;
    subscriptionId: DurstId;
}

export interface OwnedSubscription extends SubscriptionRef {
    topic: string;
    path: string;
}

interface StateFile {
    version: 1;
    subscribers: Record<string, RememberedSubscriber & { apiUrl: string; hostUri: string; configNode: string }>;
    subscriptions: Record<string, OwnedSubscription>;
    /** Ensured subscriptions to set INACTIVE (replaced or deleted node) that Durst has not confirmed yet. */
    switchOff: SubscriptionRef[];
    /** Subscriber creates with an unknown outcome, by subscriber key, until an id is known for that key. */
    unconfirmed: Record<string, UnconfirmedCreate>;
}

function emptyState(): StateFile {
    return { version: 1, subscribers: {}, subscriptions: {}, switchOff: [], unconfirmed: {} };
}

export function subscriberKey(configNodeId: string, apiUrl: string, hostUri: string): string {
    const trim = (s: string) => s.trim().replace(/\/+$/, '');
    return `${configNodeId}|${trim(apiUrl)}|${trim(hostUri)}`;
}

export class DurstStateStore {
    /** Without a file (no user directory) the state lives in memory only, for the life of the process. */
    private memory: StateFile = emptyState();

    constructor(readonly file: string | undefined, private readonly warn: (text: string) => void = () => undefined) {}

    private read(): StateFile {
        if (!this.file) { return this.memory; }
        let text: string;
        try {
            text = fs.readFileSync(this.file, 'utf8');
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') { this.warn(`cannot read ${this.file}: ${(err as Error).message}`); }
            return emptyState();
        }
        try {
            const parsed = JSON.parse(text) as Partial<StateFile>;
            return {
                version: 1,
                subscribers: isRecord(parsed.subscribers) ? parsed.subscribers as StateFile['subscribers'] : {},
                subscriptions: isRecord(parsed.subscriptions) ? parsed.subscriptions as StateFile['subscriptions'] : {},
                switchOff: Array.isArray(parsed.switchOff) ? parsed.switchOff.filter(isRef) : [],
                unconfirmed: isRecord(parsed.unconfirmed) ? parsed.unconfirmed as StateFile['unconfirmed'] : {}
            };
        } catch (err) {
            this.warn(`ignoring unreadable ${this.file} (${(err as Error).message}); Durst ids are learnt again`);
            return emptyState();
        }
    }

    private write(state: StateFile): void {
        if (!this.file) { this.memory = state; return; }
        // Write-then-rename, so a crash mid-write never leaves half a file.
        const tmp = `${this.file}.${process.pid}.tmp`;
        try {
            fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
            fs.renameSync(tmp, this.file);
        } catch (err) {
            this.warn(`cannot write ${this.file}: ${(err as Error).message}`);
            try { fs.unlinkSync(tmp); } catch { /* nothing was written */ }
        }
    }

    private update(change: (state: StateFile) => void): void {
        const state = this.read();
        change(state);
        this.write(state);
    }

    /** The remembered subscriber id, unless the flow now pins a different one. */
    subscriberId(key: string, pinned: DurstId | undefined): DurstId | undefined {
        const entry = this.read().subscribers[key];
        if (!entry || durstIdOf(entry.id) === undefined) { return undefined; }
        const samePin = (entry.pinned === null || entry.pinned === undefined) ? pinned === undefined : sameId(entry.pinned, pinned);
        return samePin ? entry.id : undefined;
    }

    /** Remembers the subscriber id of a key; an unconfirmed create recorded for that key is resolved by it. */
    rememberSubscriber(key: string, id: DurstId, pinned: DurstId | undefined, where: { apiUrl: string; hostUri: string; configNode: string }): void {
        this.update((state) => {
            state.subscribers[key] = { id, pinned: pinned ?? null, ...where };
            delete state.unconfirmed[key];
        });
    }

    /** The unconfirmed subscriber create recorded for a key, if any. */
    unconfirmedCreate(key: string): UnconfirmedCreate | undefined {
        return this.read().unconfirmed[key];
    }

    markUnconfirmedCreate(key: string, where: { apiUrl: string; hostUri: string; configNode: string }): void {
        this.update((state) => { state.unconfirmed[key] = { at: new Date().toISOString(), ...where }; });
    }

    /** The user resolved it (pinned an id, or asked for a create in the editor). */
    clearUnconfirmedCreate(key: string): void {
        if (!this.read().unconfirmed[key]) { return; }
        this.update((state) => { delete state.unconfirmed[key]; });
    }

    /**
     * A subscriber that was just created has no subscriptions: anything remembered under its id at this API is
     * from an earlier life of that id (a Durst that lost its data and counts from the start again) and is dropped.
     */
    forgetSubscriptionsOf(apiUrl: string, subscriberId: DurstId): void {
        this.update((state) => {
            for (const [nodeId, owned] of Object.entries(state.subscriptions)) {
                if (owned.apiUrl === apiUrl && sameId(owned.subscriberId, subscriberId)) { delete state.subscriptions[nodeId]; }
            }
            state.switchOff = state.switchOff.filter((r) => !(r.apiUrl === apiUrl && sameId(r.subscriberId, subscriberId)));
        });
    }

    ownedSubscription(nodeId: string): OwnedSubscription | undefined {
        return this.read().subscriptions[nodeId];
    }

    /** Forgets the node's record without queueing anything; answers whether there was one. */
    releaseSubscription(nodeId: string): boolean {
        if (!this.read().subscriptions[nodeId]) { return false; }
        this.update((state) => { delete state.subscriptions[nodeId]; });
        return true;
    }

    /** Drops the node's record and queues its subscription to be switched off; answers the queued ref. */
    retireSubscription(nodeId: string): SubscriptionRef | undefined {
        let retired: SubscriptionRef | undefined;
        this.update((state) => {
            const owned = state.subscriptions[nodeId];
            if (!owned) { return; }
            delete state.subscriptions[nodeId];
            retired = refOf(owned);
            if (!state.switchOff.some((r) => sameRef(r, owned))) { state.switchOff.push(retired); }
        });
        return retired;
    }

    /** Records what the node ensured now; what it owned before (if different) is queued to be switched off. */
    replaceSubscription(nodeId: string, owned: OwnedSubscription): SubscriptionRef | undefined {
        let replaced: SubscriptionRef | undefined;
        this.update((state) => {
            const previous = state.subscriptions[nodeId];
            state.subscriptions[nodeId] = owned;
            state.switchOff = state.switchOff.filter((r) => !sameRef(r, owned));
            if (previous && !sameRef(previous, owned)) {
                replaced = refOf(previous);
                if (!state.switchOff.some((r) => sameRef(r, replaced as SubscriptionRef))) { state.switchOff.push(replaced); }
            }
        });
        return replaced;
    }

    /** Queues one subscription to be switched off (see pendingSwitchOff for when that is skipped). */
    queueSwitchOff(ref: SubscriptionRef): void {
        this.update((state) => {
            if (!state.switchOff.some((r) => sameRef(r, ref))) { state.switchOff.push(refOf(ref)); }
        });
    }

    /**
     * Queued switch-offs at one API (every API without an argument). One that a live node owns again (two nodes
     * may share one) is dropped.
     */
    pendingSwitchOff(apiUrl?: string): SubscriptionRef[] {
        let pending: SubscriptionRef[] = [];
        this.update((state) => {
            const owned = Object.values(state.subscriptions);
            state.switchOff = state.switchOff.filter((r) => !owned.some((o) => sameRef(o, r)));
            pending = state.switchOff.filter((r) => apiUrl === undefined || r.apiUrl === apiUrl);
        });
        return pending;
    }

    /** Forgets a queued switch-off: done, or gone in Durst. */
    switchedOff(ref: SubscriptionRef): void {
        this.update((state) => { state.switchOff = state.switchOff.filter((r) => !sameRef(r, ref)); });
    }
}

export function sameRef(a: SubscriptionRef, b: SubscriptionRef): boolean {
    return a.apiUrl === b.apiUrl && sameId(a.subscriberId, b.subscriberId) && sameId(a.subscriptionId, b.subscriptionId);
}

function refOf(s: SubscriptionRef): SubscriptionRef {
    return { apiUrl: s.apiUrl, subscriberId: s.subscriberId, subscriptionId: s.subscriptionId };
}

function isRef(value: unknown): value is SubscriptionRef {
    return isRecord(value) && typeof value.apiUrl === 'string' && durstIdOf(value.subscriberId) !== undefined && durstIdOf(value.subscriptionId) !== undefined;
}

const fileStores = new Map<string, DurstStateStore>();
// Without a user dir (embedded runtimes, the test helper) each runtime's settings object gets its own memory.
const memoryStores = new WeakMap<object, DurstStateStore>();

/** The store for this Node-RED runtime: `<userDir>/.print-events-durst.json`, or memory when there is no userDir. */
export function stateStoreFor(settings: unknown, warn?: (text: string) => void): DurstStateStore {
    const { userDir } = (settings ?? {}) as { userDir?: unknown };
    if (typeof userDir === 'string' && userDir !== '') {
        const file = path.join(userDir, STATE_FILE_NAME);
        let store = fileStores.get(file);
        if (!store) {
            store = new DurstStateStore(file, warn);
            fileStores.set(file, store);
        }
        return store;
    }
    const owner = typeof settings === 'object' && settings !== null ? settings : memoryStores;
    let store = memoryStores.get(owner);
    if (!store) {
        store = new DurstStateStore(undefined, warn);
        memoryStores.set(owner, store);
    }
    return store;
}
