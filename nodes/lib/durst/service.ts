// The Durst service: the one owner of the Durst lifecycle of one durst-subscriber config node. It holds the
// API session (login token) and the REST client, registers the subscriber, writes the state store, ensures
// subscriptions for durst-subscription nodes, works off the switch-off queue and applies the one retry
// policy (errors.ts). durst-subscription, durst-webhook-in and the editor's "Register / check" only call it.
//
// One deploy through it: the config node makes its service and calls start(), which works off queued
// switch-offs of this API (even when no ensuring node is left). Each durst-subscription with "ensure on
// deploy" calls ensure(): register() (login on the first call; create, check or PUT the subscriber, once per
// service, shared by all callers), then ensureSubscription() (list, adopt or create, switch off duplicates),
// then the store records what the node owns and what it owned before is switched off. Failures go back to
// the node (status, Catch) and are retried with backoff when the policy says so. On close a deleted node's
// subscription is queued and switched off by the service now or, if the service closes too, by the next one
// at this API (reported once at start if there is none).
import type { Node } from 'node-red';
import { DurstRestClient, ApiAuth, RestClientOptions } from './rest-client';
import { DurstApiError, DurstId, isRetryable } from './errors';
import { backoffDelay } from '../backoff';
import { nonSecretDifferences, reconcileSubscriber, unconfirmedCreate, RegistrationResult, SubscriberSettings } from './registration';
import { ensureSubscription, switchOffPending, SwitchOffOutcome } from './ensure';
import { DurstStateStore, SubscriptionRef, subscriberKey } from './state-store';
import type { VerifySettings } from './verify';

export interface ServiceLog {
    info(text: string): void;
    warn(text: string): void;
    error(text: string): void;
}

export interface DurstServiceOptions {
    /** The durst-subscriber node id ('' for the editor's form of a node never deployed: nothing is remembered). */
    configNodeId: string;
    apiUrl: string;
    auth: ApiAuth;
    settings: SubscriberSettings;
    /** The subscriberId pinned in the flow or form. */
    pinnedId?: DurstId;
    store: DurstStateStore;
    log: ServiceLog;
    client?: Omit<RestClientOptions, 'apiUrl' | 'auth'>;
    /** Why no call can be made (no apiUrl, a missing tls-config): every registration fails with it. */
    configError?: string;
    /** First delay of the ensure/switch-off retries (doubles up to retryMaxMs). */
    retryFirstMs?: number;
    retryMaxMs?: number;
    /** Fields where the registered subscriber differs from the desired one (default nonSecretDifferences). */
    compare?: (remote: unknown, settings: SubscriberSettings) => string[];
    /** Differences known without Durst's answer (see ReconcileOptions.unseenDifferences). */
    unseenDifferences?: () => string[];
    /** A step after every successful registration (e.g. keeping what Durst returned). A throw fails the registration. */
    afterRegistration?: (result: RegistrationResult) => void | Promise<void>;
}

export type EnsureState =
    | { state: 'ensuring' }
    | { state: 'active'; id: DurstId; topic: string; off: DurstId[] }
    | { state: 'failed'; error: DurstApiError; kind: 'auth' | 'unconfirmed' | 'error'; retryInMs?: number; user?: string };

export interface EnsureOwner {
    nodeId: string;
    topic: string;
    path: string;
    publishInitialState: boolean;
    onState(state: EnsureState): void;
}

export interface EnsureHandle {
    /** Stops retrying, waits (bounded) for an ensure in flight; a removed node's subscription is queued and switched off. */
    stop(removed: boolean): Promise<void>;
}

/** What the durst-subscriber config node exposes to the subscription and webhook-in nodes. */
export interface DurstSubscriberNode extends Node {
    service: DurstService;
    client: DurstRestClient;
    apiUrl: string;
    hostUri: string;
    /** Registers or checks the subscriber once (single-flight, cached); resolves with its id. */
    ensureRegistered(): Promise<RegistrationResult>;
    /** The subscriber id known now (configured or remembered), without calling the API. */
    knownSubscriberId(): DurstId | undefined;
    /** Forgets the cached registration (e.g. after a 404), so the next ensureRegistered() checks again. */
    invalidateRegistration(): void;
    verificationSettings(): VerifySettings;
}

/** How long stop() waits for an ensure in flight (so a redeploy starts from a settled state). */
export const STOP_WAIT_MS = 5000;

const DELETED = 'its durst-subscription node was deleted';
const UNNEEDED = 'no node ensures it any more';

const liveServices = new Set<DurstService>();
const reportedUnrunnable = new Set<string>();

const refKey = (r: SubscriptionRef) => `${r.apiUrl}|${r.subscriberId}|${r.subscriptionId}`;

function asApiError(err: unknown): DurstApiError {
    return err instanceof DurstApiError ? err : new DurstApiError(err instanceof Error ? err.message : String(err));
}

/**
 * Queued switch-offs that no live service can carry out (no durst-subscriber at their API is deployed):
 * each is reported once per process. Called when the flows have started.
 */
export function reportUnrunnableSwitchOffs(store: DurstStateStore, warn: (text: string) => void): void {
    const apis = new Set([...liveServices].filter((s) => s.store === store).map((s) => s.apiUrl));
    for (const ref of store.pendingSwitchOff()) {
        if (apis.has(ref.apiUrl) || reportedUnrunnable.has(refKey(ref))) { continue; }
        reportedUnrunnable.add(refKey(ref));
        warn(`Durst subscription #${ref.subscriptionId} of subscriber ${ref.subscriberId} at ${ref.apiUrl} is still to be switched off, ` +
            'but no durst-subscriber for that API is deployed: set it INACTIVE in Durst, or deploy a durst-subscriber for that API');
    }
}

interface EnsureJob {
    owner: EnsureOwner;
    stopped: boolean;
    released: boolean;
    attempt: number;
    retried404: boolean;
    timer?: NodeJS.Timeout;
    inFlight: Promise<void>;
}

export class DurstService {
    readonly client: DurstRestClient;
    readonly apiUrl: string;
    readonly store: DurstStateStore;
    private readonly key: string;
    private registration?: Promise<RegistrationResult>;
    private closed = false;
    private readonly retryFirstMs: number;
    private readonly retryMaxMs: number;
    private switchOffChain: Promise<unknown> = Promise.resolve();
    private switchOffTimer?: NodeJS.Timeout;
    private switchOffAttempt = 0;
    private readonly reasons = new Map<string, string>();
    private readonly jobs = new Set<EnsureJob>();

    constructor(private readonly options: DurstServiceOptions) {
        this.apiUrl = options.apiUrl.trim();
        this.store = options.store;
        this.key = subscriberKey(options.configNodeId, this.apiUrl, options.settings.hostUri);
        this.client = new DurstRestClient({ ...options.client, apiUrl: this.apiUrl || 'http://invalid.invalid', auth: options.auth });
        this.retryFirstMs = options.retryFirstMs ?? 5000;
        this.retryMaxMs = Math.max(this.retryFirstMs, options.retryMaxMs ?? 120000);
    }

    get hostUri(): string { return this.options.settings.hostUri; }

    /** The login user when the API is reached with a login (for statuses: never the password or token). */
    get loginUser(): string | undefined { return this.client.session?.user; }

    /** A config node's service: it counts as able to run switch-offs, and runs those of its API now. */
    start(): void {
        liveServices.add(this);
        if (!this.options.configError && this.apiUrl) { this.switchOffs(); }
    }

    knownSubscriberId(): DurstId | undefined {
        return this.store.subscriberId(this.key, this.options.pinnedId) ?? this.options.pinnedId;
    }

    invalidateRegistration(): void { this.registration = undefined; }

    /** Fields where the registered subscriber differs from the desired one: any difference means a PUT. */
    subscriberDifferences(remote: unknown): string[] {
        return (this.options.compare ?? nonSecretDifferences)(remote, this.options.settings);
    }

    /**
     * Registers or checks the subscriber, once per service (callers share it; a failure is not cached).
     * `allowCreate` (the editor's button) creates even after an unconfirmed create; `forceUpdate` PUTs.
     */
    register(options: { forceUpdate?: boolean; allowCreate?: boolean } = {}): Promise<RegistrationResult> {
        const fresh = options.forceUpdate || options.allowCreate;
        if (this.registration && !fresh) { return this.registration; }
        const attempt = this.registerNow(options);
        if (!fresh) {
            this.registration = attempt;
            attempt.catch(() => { if (this.registration === attempt) { this.registration = undefined; } });
        }
        return attempt;
    }

    private async registerNow(options: { forceUpdate?: boolean; allowCreate?: boolean }): Promise<RegistrationResult> {
        if (this.closed) { throw new DurstApiError('the durst-subscriber was closed', { code: 'ECLOSED' }); }
        if (this.options.configError) { throw new DurstApiError(this.options.configError, { code: 'ECONFIG' }); }
        if (!this.apiUrl) { throw new DurstApiError('apiUrl is not set on the durst-subscriber node', { code: 'ECONFIG' }); }
        const settings = this.options.settings;
        const known = this.knownSubscriberId();
        const remember = this.options.configNodeId !== '';
        const unconfirmed = remember ? this.store.unconfirmedCreate(this.key) : undefined;
        if (known === undefined && unconfirmed && !options.allowCreate) {
            throw unconfirmedCreate(settings.hostUri, `a create on ${unconfirmed.at} got no clear answer`);
        }
        let result: RegistrationResult;
        try {
            result = await reconcileSubscriber(this.client, settings, known, {
                forceUpdate: options.forceUpdate,
                warn: (text) => this.options.log.warn(text),
                fingerprintScope: this.apiUrl,
                compare: (remote) => this.subscriberDifferences(remote),
                unseenDifferences: this.options.unseenDifferences
            });
        } catch (err) {
            if ((err as DurstApiError).code === 'EUNCONFIRMED' && remember) {
                this.store.markUnconfirmedCreate(this.key, { apiUrl: this.apiUrl, hostUri: settings.hostUri, configNode: this.options.configNodeId });
            }
            throw err;
        }
        if (result.action === 'created' || result.action === 'recreated') { this.store.forgetSubscriptionsOf(this.apiUrl, result.id); }
        if (remember) {
            if (String(result.id) !== String(this.knownSubscriberId())) {
                this.store.rememberSubscriber(this.key, result.id, this.options.pinnedId,
                    { apiUrl: this.apiUrl, hostUri: settings.hostUri, configNode: this.options.configNodeId });
            } else {
                this.store.clearUnconfirmedCreate(this.key);
            }
        }
        if (result.action !== 'unchanged' && !this.closed) { this.options.log.info(`Durst subscriber ${result.id} ${result.action}`); }
        if (this.options.afterRegistration) { await this.options.afterRegistration(result); }
        return result;
    }

    /** Runs one call for a msg action with the registered subscriber id; a 404 makes the next call check the subscriber again. */
    async call<T>(work: (client: DurstRestClient, subscriberId: DurstId) => Promise<T>): Promise<T> {
        const { id } = await this.register();
        try {
            return await work(this.client, id);
        } catch (err) {
            if ((err as DurstApiError).statusCode === 404) { this.invalidateRegistration(); }
            throw err;
        }
    }

    /** Keeps exactly one ACTIVE subscription for the owner's topic + path, retrying until it works or stop(). */
    ensure(owner: EnsureOwner): EnsureHandle {
        const job: EnsureJob = { owner, stopped: false, released: false, attempt: 0, retried404: false, inFlight: Promise.resolve() };
        this.jobs.add(job);
        const tell = (state: EnsureState) => {
            if (job.stopped) { return; }
            try { owner.onState(state); } catch (err) { this.options.log.error(`durst-subscription status update failed: ${(err as Error).message}`); }
        };
        const run = () => {
            job.timer = undefined;
            if (job.stopped || this.closed) { return; }
            if (job.attempt === 0) { tell({ state: 'ensuring' }); }
            const work = this.ensureOnce(job);
            job.inFlight = work.then(() => undefined, () => undefined);
            work.then((result) => {
                job.attempt = 0;
                job.retried404 = false;
                tell({ state: 'active', ...result });
            }, (raw: unknown) => {
                if (job.stopped || this.closed) { return; }
                const err = asApiError(raw);
                // The subscriber may have been deleted in Durst: check it again (and re-register) at once, once.
                if (err.statusCode === 404 && !job.retried404) {
                    job.retried404 = true;
                    this.invalidateRegistration();
                    run();
                    return;
                }
                const retry = isRetryable(err);
                const delay = retry ? backoffDelay(++job.attempt, this.retryFirstMs, this.retryMaxMs) : undefined;
                const kind = err.code === 'EAUTH' ? 'auth' : err.code === 'EUNCONFIRMED' ? 'unconfirmed' : 'error';
                tell({ state: 'failed', error: err, kind, retryInMs: delay, user: this.loginUser });
                if (delay !== undefined) { job.timer = setTimeout(run, delay); }
            });
        };
        run();
        return {
            stop: async (removed: boolean) => {
                job.stopped = true;
                if (job.timer) { clearTimeout(job.timer); }
                let timer: NodeJS.Timeout | undefined;
                await Promise.race([job.inFlight, new Promise<void>((resolve) => { timer = setTimeout(resolve, STOP_WAIT_MS); })]);
                clearTimeout(timer);
                job.released = true;
                this.jobs.delete(job);
                if (removed) {
                    const ref = this.store.retireSubscription(owner.nodeId);
                    if (ref && ref.apiUrl === this.apiUrl) {
                        this.reasons.set(refKey(ref), DELETED);
                        if (!this.closed) { await this.switchOffs(); }
                        // The config node may close in the same deploy (Node-RED closes nodes in no set order):
                        // then one last try with a client of its own, so deleting both together still switches off.
                        if (this.closed && this.store.pendingSwitchOff(this.apiUrl).some((r) => refKey(r) === refKey(ref))) {
                            await this.lastSwitchOffs();
                        }
                    }
                }
            }
        };
    }

    private async ensureOnce(job: EnsureJob): Promise<{ id: DurstId; topic: string; off: DurstId[] }> {
        const { owner } = job;
        const checkOpen = () => {
            if (job.stopped || this.closed) { throw new DurstApiError('ensure stopped: the node was closed', { code: 'ECLOSED' }); }
        };
        const { id: subscriberId } = await this.register();
        checkOpen();
        const result = await ensureSubscription(this.client, {
            subscriberId, topic: owner.topic, path: owner.path, publishInitialState: owner.publishInitialState, checkOpen
        });
        const id = result.record.id;
        if (job.released) {
            // Too late to be this node's (stop gave up waiting): queue it, so it is switched off unless the node
            // that replaced this one ensures the same subscription.
            this.store.queueSwitchOff({ apiUrl: this.apiUrl, subscriberId, subscriptionId: id });
            this.switchOffs();
            throw new DurstApiError('ensure finished after the node was closed', { code: 'ECLOSED' });
        }
        if (result.duplicatesOff.length > 0) {
            this.options.log.info(`switched off duplicate Durst subscription(s) ${result.duplicatesOff.map((n) => '#' + n).join(', ')} for ${owner.topic} on path "${owner.path}": #${id} is kept`);
        }
        const previous = this.store.ownedSubscription(owner.nodeId);
        if (previous && previous.apiUrl !== this.apiUrl) {
            this.options.log.warn(`the Durst subscription #${previous.subscriptionId} that node ${owner.nodeId} ensured at ${previous.apiUrl} is not switched off: that API is no longer configured`);
        }
        this.store.replaceSubscription(owner.nodeId, { apiUrl: this.apiUrl, subscriberId, subscriptionId: id, topic: owner.topic, path: owner.path });
        const outcome = await this.switchOffs();
        this.options.log.info(`Durst subscription #${id} ${result.action} for ${owner.topic} on path "${owner.path}"`);
        return { id, topic: owner.topic, off: [...result.duplicatesOff, ...outcome.off.map((r) => r.subscriptionId)] };
    }

    /**
     * Works off the switch-off queue of this API, one run at a time. A retryable failure schedules another run
     * (backoff); the refs stay queued. Answers what this run switched off.
     */
    switchOffs(): Promise<SwitchOffOutcome> {
        const run = this.switchOffChain.then(async (): Promise<SwitchOffOutcome> => {
            if (this.closed || this.store.pendingSwitchOff(this.apiUrl).length === 0) { return { off: [], failed: [] }; }
            try {
                const outcome = await switchOffPending(this.client, this.store, this.apiUrl);
                this.switchOffAttempt = 0;
                this.logOutcome(outcome);
                return outcome;
            } catch (err) {
                const e = asApiError(err);
                if (this.closed || e.code === 'ECLOSED') { return { off: [], failed: [] }; }
                const delay = isRetryable(e) ? backoffDelay(++this.switchOffAttempt, this.retryFirstMs, this.retryMaxMs) : undefined;
                const ids = this.store.pendingSwitchOff(this.apiUrl).map((r) => '#' + r.subscriptionId).join(', ');
                this.options.log.warn(`Durst subscription(s) ${ids} not switched off yet (${e.message})` +
                    (delay !== undefined ? `; retrying in ${Math.max(1, Math.round(delay / 1000))} s` : '; retried at the next deploy or start'));
                if (delay !== undefined && !this.switchOffTimer) {
                    this.switchOffTimer = setTimeout(() => { this.switchOffTimer = undefined; this.switchOffs(); }, delay);
                }
                return { off: [], failed: [] };
            }
        });
        this.switchOffChain = run.catch(() => undefined);
        return run;
    }

    /** One run of the switch-off queue with a fresh client after close(); what fails stays queued (reported at start). */
    private async lastSwitchOffs(): Promise<void> {
        const client = new DurstRestClient({ ...this.options.client, apiUrl: this.apiUrl, auth: this.options.auth });
        try {
            const outcome = await switchOffPending(client, this.store, this.apiUrl);
            this.logOutcome(outcome);
        } catch (err) {
            this.options.log.warn(`Durst subscription not switched off yet (${asApiError(err).message}); it stays queued for the next durst-subscriber at ${this.apiUrl}`);
        } finally {
            client.close();
        }
    }

    private logOutcome(outcome: SwitchOffOutcome): void {
        for (const ref of outcome.off) {
            this.options.log.info(`switched off Durst subscription #${ref.subscriptionId} of subscriber ${ref.subscriberId} (${this.reasons.get(refKey(ref)) ?? UNNEEDED})`);
        }
        for (const { ref, reason } of outcome.failed) {
            this.options.log.warn(`could not switch off Durst subscription #${ref.subscriptionId} of subscriber ${ref.subscriberId}: ${reason}`);
        }
    }

    /** Ends every call, retry and timer of this service. Queued switch-offs stay queued for the next service. */
    close(): void {
        this.closed = true;
        liveServices.delete(this);
        if (this.switchOffTimer) { clearTimeout(this.switchOffTimer); }
        this.switchOffTimer = undefined;
        for (const job of this.jobs) {
            if (job.timer) { clearTimeout(job.timer); }
        }
        this.client.close();
    }
}
