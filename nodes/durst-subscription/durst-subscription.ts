// durst-subscription: manages Durst Workflow subscriptions of one subscriber. On deploy it can make sure
// exactly one ACTIVE subscription for its topic+path exists; on input it runs msg.action against the API.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeMessage } from 'node-red';
import { DurstApiError, DurstRestClient } from '../lib/durst/rest-client';
import type { DurstSubscriberNode } from '../lib/durst/registration';
import { DURST_TOPICS, validateTopic } from '../lib/durst/topics';
import { ensureSubscription, switchOffPending, SwitchOffOutcome } from '../lib/durst/ensure';
import { stateStoreFor } from '../lib/durst/state-store';

interface SubscriptionDef extends NodeDef {
    subscriber: string;
    topic: string;
    path: string;
    publishInitialState: boolean;
    ensureOnDeploy: boolean;
}

interface SubscriptionNode extends Node {
    subscriptionId?: number;
}

type Action = 'create' | 'update' | 'activate' | 'deactivate' | 'list' | 'get' | 'test';
const ACTIONS: Action[] = ['create', 'update', 'activate', 'deactivate', 'list', 'get', 'test'];

// On close, how long to wait for an ensure in flight (so a redeploy starts from a settled state), and for
// switching off the subscription of a deleted node.
const CLOSE_WAIT_MS = 5000;

function idOf(value: unknown): string | undefined {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) { return String(value); }
    if (typeof value === 'string' && /^\d{1,10}$/.test(value.trim())) { return value.trim(); }
    return undefined;
}

function usageError(message: string): DurstApiError {
    return new DurstApiError(message);
}

export = function (RED: NodeAPI): void {
    function DurstSubscription(this: SubscriptionNode, config: SubscriptionDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        const subscriber = RED.nodes.getNode(config.subscriber) as DurstSubscriberNode | null;
        const configTopic = String(config.topic ?? '').trim();
        const configPath = String(config.path ?? '').trim();
        let closed = false;
        let retryTimer: NodeJS.Timeout | undefined;
        let inFlight: Promise<void> = Promise.resolve();
        // Set once close() has finished: a node of the next deploy (same id) may own the record by then.
        let released = false;
        const store = stateStoreFor(RED.settings, (text) => RED.log.warn(text));
        const settings = RED.settings as unknown as Record<string, unknown>;
        const firstRetryMs = typeof settings.durstEnsureRetryDelay === 'number' ? settings.durstEnsureRetryDelay : 5000;
        const maxRetryMs = Math.max(firstRetryMs, 120000);

        const status = (fill: 'green' | 'yellow' | 'red' | 'grey', shape: 'dot' | 'ring', key: string, vars?: Record<string, unknown>) => {
            if (!closed) { node.status({ fill, shape, text: RED._(`durst-subscription.status.${key}`, vars as any) }); }
        };

        if (!subscriber || typeof subscriber.ensureRegistered !== 'function') {
            status('red', 'ring', 'noSubscriber');
        } else if (configTopic && !validateTopic(configTopic).valid) {
            status('red', 'ring', 'invalidTopic');
            node.error((validateTopic(configTopic) as { error: string }).error);
        } else if (config.ensureOnDeploy) {
            if (!configTopic) {
                status('red', 'ring', 'invalidTopic');
                node.error('ensureOnDeploy needs a topic');
            } else {
                status('yellow', 'ring', 'ensuring');
                ensureWithRetry(subscriber, 0);
            }
        } else if (subscriber) {
            // Without "ensure on deploy" the user manages the subscription: what this node ensured before is
            // handed over as it is, and never switched off by the package.
            if (store.releaseSubscription(node.id)) { node.log('no longer ensures its Durst subscription; it is left as it is'); }
            status('grey', 'ring', 'idle');
        }

        // Durst may be unreachable at deploy time: retry with growing delays until it works or the node closes.
        // Rejections that a retry cannot fix (401/403/400) are not retried.
        function ensureWithRetry(sub: DurstSubscriberNode, attempt: number): void {
            const work = ensureOwned(sub);
            inFlight = work.then(() => undefined, () => undefined);
            work.then(({ id, topic, off }) => {
                node.subscriptionId = id;
                if (off.length > 0) {
                    status('green', 'dot', 'activeSwitchedOff', { id, topic, off: off.map((n) => '#' + n).join(', ') });
                } else {
                    status('green', 'dot', 'active', { id, topic });
                }
            }).catch((err: DurstApiError) => {
                if (closed) { return; }
                if (err.statusCode === 404) { sub.invalidateRegistration(); }
                const retryable = err.statusCode === undefined ? (err.code !== undefined && err.code !== 'ECLOSED') : (err.statusCode >= 500 || err.statusCode === 404 || err.statusCode === 408 || err.statusCode === 429);
                status('red', 'ring', 'error', { status: err.statusCode ?? err.code ?? '' });
                node.error('Durst subscription not ensured: ' + err.message + (retryable ? ' (will retry)' : ''));
                if (!retryable) { return; }
                const delay = Math.min(maxRetryMs, firstRetryMs * 2 ** attempt) * (0.8 + Math.random() * 0.4);
                retryTimer = setTimeout(() => { retryTimer = undefined; ensureWithRetry(sub, attempt + 1); }, delay);
            });
        }

        function checkOpen(): void {
            if (closed) { throw new DurstApiError('ensure stopped: the node was closed', { code: 'ECLOSED' }); }
        }

        // Exactly one ACTIVE subscription for topic+path, remembered as this node's; what the node ensured
        // before (other topic or path) is switched off once the new one is ACTIVE.
        async function ensureOwned(sub: DurstSubscriberNode): Promise<{ id: number; topic: string; off: number[] }> {
            const { id: subscriberId } = await sub.ensureRegistered();
            checkOpen();
            const apiUrl = (sub as DurstSubscriberNode & { apiUrl?: string }).apiUrl ?? '';
            const result = await ensureSubscription(sub.client, {
                subscriberId, topic: configTopic, path: configPath, publishInitialState: !!config.publishInitialState, checkOpen
            });
            const id = result.record.id;
            if (released) {
                // Too late to be this node's (close gave up waiting): queue it, so it is switched off unless the
                // node that replaced this one ensures the same subscription.
                store.queueSwitchOff({ apiUrl, subscriberId, subscriptionId: id });
                await switchOffPending(sub.client, store, apiUrl).catch(() => undefined);
                throw new DurstApiError('ensure finished after the node was closed', { code: 'ECLOSED' });
            }
            // Recorded even if the node is closing: the subscription exists now, and close waits for this.
            if (result.duplicatesOff.length > 0) {
                node.log(`switched off duplicate Durst subscription(s) ${result.duplicatesOff.map((n) => '#' + n).join(', ')} for ${configTopic} on path "${configPath}": #${id} is kept`);
            }
            const previous = store.ownedSubscription(node.id);
            if (previous && previous.apiUrl !== apiUrl) {
                node.warn(`the Durst subscription #${previous.subscriptionId} this node ensured at ${previous.apiUrl} is not switched off: that API is no longer configured`);
            }
            store.replaceSubscription(node.id, { apiUrl, subscriberId, subscriptionId: id, topic: configTopic, path: configPath });
            const outcome = await switchOffPending(sub.client, store, apiUrl);
            reportSwitchOff(outcome, 'no node ensures it any more');
            node.log(`Durst subscription #${id} ${result.action} for ${configTopic} on path "${configPath}"`);
            return { id, topic: configTopic, off: [...result.duplicatesOff, ...outcome.off.map((r) => r.subscriptionId)] };
        }

        function reportSwitchOff(outcome: SwitchOffOutcome, why: string): void {
            for (const ref of outcome.off) {
                node.log(`switched off Durst subscription #${ref.subscriptionId} of subscriber ${ref.subscriberId} (${why})`);
            }
            for (const { ref, reason } of outcome.failed) {
                node.warn(`could not switch off Durst subscription #${ref.subscriptionId} of subscriber ${ref.subscriberId}: ${reason}`);
            }
        }

        // A deleted node switches off the subscription it ensured, with a client of its own: the subscriber
        // config node may be closing its client in the same deploy.
        function retire(sub: DurstSubscriberNode, client: DurstRestClient): Promise<void> {
            const ref = store.retireSubscription(node.id);
            const apiUrl = (sub as DurstSubscriberNode & { apiUrl?: string }).apiUrl ?? '';
            if (!ref || ref.apiUrl !== apiUrl) { return Promise.resolve(); }
            return switchOffPending(client, store, apiUrl).then(
                (outcome) => reportSwitchOff(outcome, 'its durst-subscription node was deleted'),
                (err: Error) => node.warn(`Durst subscription #${ref.subscriptionId} not switched off yet (${err.message}); the next ensure at this API retries it`));
        }

        async function run(msg: NodeMessageInFlow & Record<string, any>, sub: DurstSubscriberNode): Promise<{ statusCode: number; body: unknown }> {
            const action = (msg.action === undefined || msg.action === '' ? 'list' : String(msg.action).toLowerCase()) as Action;
            if (!ACTIONS.includes(action)) {
                throw usageError(`unknown msg.action "${String(msg.action)}"; use one of ${ACTIONS.join(', ')}`);
            }
            const payload = (typeof msg.payload === 'object' && msg.payload !== null && !Array.isArray(msg.payload)) ? msg.payload as Record<string, any> : {};
            const topicInput = typeof msg.topic === 'string' && msg.topic.trim() !== '' ? msg.topic : (payload.topic ?? configTopic);
            const path = typeof payload.path === 'string' ? payload.path : (configPath || null);
            const publishInitialState = typeof payload.publishInitialState === 'boolean' ? payload.publishInitialState : !!config.publishInitialState;
            const subscriptionId = idOf(msg.subscriptionId) ?? idOf(payload.id) ?? (node.subscriptionId !== undefined ? String(node.subscriptionId) : undefined);
            const needId = () => {
                if (subscriptionId === undefined) { throw usageError(`action "${action}" needs msg.subscriptionId`); }
                return subscriptionId;
            };
            const topic = () => {
                const checked = validateTopic(topicInput);
                if (!checked.valid) { throw usageError(checked.error); }
                return checked.topic;
            };

            // Input checks first: nothing is sent for a bad topic or a missing id.
            if (action === 'create' || action === 'update') { topic(); }
            if (['update', 'activate', 'deactivate', 'get'].includes(action)) { needId(); }
            let productionJobId: string | undefined;
            if (action === 'test') {
                productionJobId = idOf(msg.productionJobId) ?? idOf(payload.productionJobId);
                if (productionJobId === undefined) { throw usageError('action "test" needs a numeric msg.productionJobId'); }
            }

            const { id: subscriberId } = await sub.ensureRegistered();
            switch (action) {
                case 'create': {
                    const status = payload.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE';
                    const res = await sub.client.createSubscription(subscriberId, { path, status, topic: topic(), publishInitialState });
                    if (res.body && res.body.id !== undefined) { node.subscriptionId = Number(res.body.id); }
                    return res;
                }
                case 'update': {
                    const status = payload.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE';
                    return sub.client.updateSubscription(subscriberId, needId(), { path, status, topic: topic(), publishInitialState });
                }
                case 'activate':
                case 'deactivate': {
                    // The PUT carries the whole subscription; the current one is read so only the status changes.
                    const current = (await sub.client.getSubscription(subscriberId, needId())).body;
                    return sub.client.updateSubscription(subscriberId, needId(), {
                        path: current.path ?? null,
                        topic: current.topic,
                        publishInitialState: current.publishInitialState ?? false,
                        status: action === 'activate' ? 'ACTIVE' : 'INACTIVE'
                    });
                }
                case 'list': return sub.client.listSubscriptions(subscriberId);
                case 'get': return sub.client.getSubscription(subscriberId, needId());
                case 'test': return sub.client.testResponse(productionJobId as string);
            }
        }

        node.on('input', (msg: NodeMessageInFlow & Record<string, any>, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
            if (!subscriber || typeof subscriber.ensureRegistered !== 'function') {
                done(new Error('no durst-subscriber configured'));
                return;
            }
            run(msg, subscriber).then((res) => {
                msg.payload = res.body;
                msg.statusCode = res.statusCode;
                send(msg);
                done();
            }).catch((err: DurstApiError) => {
                // The subscriber may have been removed in Durst: check it again on the next call.
                if (err.statusCode === 404) { subscriber.invalidateRegistration(); }
                msg.statusCode = err.statusCode;
                if (err.body !== undefined) { msg.payload = err.body; }
                done(err instanceof Error ? err : new Error(String(err)));
            });
        });

        node.on('close', (removed: boolean, done: () => void) => {
            closed = true;
            if (retryTimer) { clearTimeout(retryTimer); }
            // A restart or redeploy keeps the subscription; only a deleted node gives it up. An ensure still in
            // flight is awaited first, so a redeploy starts from a settled state. Bounded: what is not done in
            // time stays queued in the store for the next ensure at this API.
            const sub = removed && subscriber && typeof subscriber.newClient === 'function' ? subscriber : undefined;
            let client: DurstRestClient | undefined;
            let finished = false;
            const finish = () => {
                if (finished) { return; }
                finished = true;
                released = true;
                clearTimeout(timer);
                client?.close();
                done();
            };
            const timer = setTimeout(() => {
                // Out of time: a deleted node's subscription stays queued for the next ensure at its API.
                if (removed) { store.retireSubscription(node.id); }
                finish();
            }, CLOSE_WAIT_MS);
            inFlight.then(() => {
                if (!removed || finished) { return undefined; }
                if (!sub) { store.retireSubscription(node.id); return undefined; }
                client = sub.newClient();
                return retire(sub, client);
            }).catch(() => undefined).then(finish);
        });
    }

    RED.nodes.registerType('durst-subscription', DurstSubscription as any);

    // The editor's topic builder reads the documented catalogue from here, so it has one source of truth.
    RED.httpAdmin.get('/print-events/durst/topics', RED.auth.needsPermission('durst-subscription.read'), (_req: any, res: any) => {
        res.json(DURST_TOPICS);
    });
};
