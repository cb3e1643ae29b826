// durst-subscription: manages Durst Workflow subscriptions of one subscriber. On deploy it can make sure
// exactly one ACTIVE subscription for its topic+path exists; on input it runs msg.action against the API.
// All of it goes through the subscriber's DurstService (../lib/durst/service.ts), which owns the login,
// the registration, the retries and the switch-off queue; this node only shows and reports the outcome.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeMessage, NodeStatusFill, NodeStatusShape } from 'node-red';
import { DurstApiError, DurstId, durstIdOf } from '../lib/durst/errors';
import type { DurstService, DurstSubscriberNode, EnsureHandle, EnsureState } from '../lib/durst/service';
import { DURST_TOPICS, validateTopic } from '../lib/durst/topics';
import { stateStoreFor } from '../lib/durst/state-store';
import { isRecord } from '../lib/is-record';
import { nodeStatus, StatusVars } from '../lib/status';

interface SubscriptionDef extends NodeDef {
    subscriber: string;
    topic: string;
    path: string;
    publishInitialState: boolean;
    ensureOnDeploy: boolean;
}

interface SubscriptionNode extends Node {
    subscriptionId?: DurstId;
}

type Action = 'create' | 'update' | 'activate' | 'deactivate' | 'list' | 'get' | 'test';
const ACTIONS: Action[] = ['create', 'update', 'activate', 'deactivate', 'list', 'get', 'test'];

function idOf(value: unknown): string | undefined {
    const id = durstIdOf(value);
    return id === undefined ? undefined : String(id);
}

/** Production job ids are documented as integers. */
function jobIdOf(value: unknown): string | undefined {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) { return String(value); }
    if (typeof value === 'string' && /^\d{1,10}$/.test(value.trim())) { return value.trim(); }
    return undefined;
}

function usageError(message: string): DurstApiError {
    return new DurstApiError(message);
}

/** A short reason for a status text: the HTTP status, or what kind of failure it was. */
function shortReason(err: DurstApiError): string {
    if (err.code === 'EHTML') { return 'HTML page instead of the API (proxy or login page?)'; }
    if (err.code === 'ESHAPE') { return 'unexpected answer'; }
    if (err.statusCode !== undefined) { return 'HTTP ' + err.statusCode; }
    if (err.code) { return err.code; }
    return err.message.length > 60 ? err.message.slice(0, 57) + '…' : err.message;
}

export = function (RED: NodeAPI): void {
    function DurstSubscription(this: SubscriptionNode, config: SubscriptionDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        const subscriber = RED.nodes.getNode(config.subscriber) as DurstSubscriberNode | null;
        const service = subscriber && subscriber.service ? subscriber.service : undefined;
        const configTopic = String(config.topic ?? '').trim();
        const configPath = String(config.path ?? '').trim();
        let closed = false;
        let handle: EnsureHandle | undefined;

        const nodeStatusOf = nodeStatus(RED, node, 'durst-subscription');
        const status = (fill: NodeStatusFill, shape: NodeStatusShape, key: string, vars?: StatusVars) => {
            if (!closed) { nodeStatusOf.set(fill, shape, key, vars); }
        };

        // What the service reports about this node's ensure: the status tells it, and a failure reaches Catch nodes.
        function onEnsureState(state: EnsureState): void {
            if (state.state === 'ensuring') { status('yellow', 'ring', 'ensuring'); return; }
            if (state.state === 'active') {
                node.subscriptionId = state.id;
                if (state.off.length > 0) {
                    status('green', 'dot', 'activeSwitchedOff', { id: state.id, topic: state.topic, off: state.off.map((n) => '#' + n).join(', ') });
                } else {
                    status('green', 'dot', 'active', { id: state.id, topic: state.topic });
                }
                return;
            }
            const err = state.error;
            if (state.kind === 'auth') {
                status('red', 'ring', 'loginRefused', { user: state.user ?? '' });
            } else if (state.kind === 'unconfirmed') {
                status('red', 'ring', 'unconfirmed');
            } else {
                status('red', 'ring', 'error', { status: shortReason(err) });
            }
            const error = new DurstApiError('Durst subscription not ensured: ' + err.message + (state.retryInMs !== undefined ? ' (will retry)' : ''),
                { statusCode: err.statusCode, code: err.code });
            const msg: Record<string, unknown> = { topic: configTopic, path: configPath, statusCode: err.statusCode };
            if (err.code !== undefined) { msg.code = err.code; }
            node.error(error, msg);
        }

        const store = stateStoreFor(RED.settings, (text) => RED.log.warn(text));
        if (!service) {
            status('red', 'ring', 'noSubscriber');
        } else if (configTopic && !validateTopic(configTopic).valid) {
            status('red', 'ring', 'invalidTopic');
            node.error((validateTopic(configTopic) as { error: string }).error);
        } else if (config.ensureOnDeploy) {
            if (!configTopic) {
                status('red', 'ring', 'invalidTopic');
                node.error('ensureOnDeploy needs a topic');
            } else {
                handle = service.ensure({ nodeId: node.id, topic: configTopic, path: configPath,
                    publishInitialState: !!config.publishInitialState, onState: onEnsureState });
            }
        } else {
            // Without "ensure on deploy" the user manages the subscription: what this node ensured before is
            // handed over as it is, and never switched off by the package.
            if (store.releaseSubscription(node.id)) { node.log('no longer ensures its Durst subscription; it is left as it is'); }
            status('grey', 'ring', 'idle');
        }

        async function run(msg: NodeMessageInFlow & Record<string, any>, service: DurstService): Promise<{ statusCode: number; body: unknown }> {
            const action = (msg.action === undefined || msg.action === '' ? 'list' : String(msg.action).toLowerCase()) as Action;
            if (!ACTIONS.includes(action)) {
                throw usageError(`unknown msg.action "${String(msg.action)}"; use one of ${ACTIONS.join(', ')}`);
            }
            const payload: Record<string, any> = isRecord(msg.payload) ? msg.payload : {};
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
                productionJobId = jobIdOf(msg.productionJobId) ?? jobIdOf(payload.productionJobId);
                if (productionJobId === undefined) { throw usageError('action "test" needs a numeric msg.productionJobId'); }
            }

            return service.call(async (client, subscriberId) => {
            switch (action) {
                case 'create': {
                    const status = payload.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE';
                    const res = await client.createSubscription(subscriberId, { path, status, topic: topic(), publishInitialState });
                    const created = durstIdOf(res.body?.id);
                    if (created !== undefined) { node.subscriptionId = created; }
                    return res;
                }
                case 'update': {
                    const status = payload.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE';
                    return client.updateSubscription(subscriberId, needId(), { path, status, topic: topic(), publishInitialState });
                }
                case 'activate':
                case 'deactivate': {
                    // The PUT carries the whole subscription; the current one is read so only the status changes.
                    const current = (await client.getSubscription(subscriberId, needId())).body;
                    return client.updateSubscription(subscriberId, needId(), {
                        path: current.path ?? null,
                        topic: current.topic,
                        publishInitialState: current.publishInitialState ?? false,
                        status: action === 'activate' ? 'ACTIVE' : 'INACTIVE'
                    });
                }
                case 'list': return client.listSubscriptions(subscriberId);
                case 'get': return client.getSubscription(subscriberId, needId());
                case 'test': return client.testResponse(productionJobId as string);
            }
            });
        }

        node.on('input', (msg: NodeMessageInFlow & Record<string, any>, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
            if (!service) {
                done(new Error('no durst-subscriber configured'));
                return;
            }
            run(msg, service).then((res) => {
                msg.payload = res.body;
                msg.statusCode = res.statusCode;
                send(msg);
                done();
            }).catch((err: DurstApiError) => {
                msg.statusCode = err.statusCode;
                if (err.body !== undefined) { msg.payload = err.body; }
                done(err instanceof Error ? err : new Error(String(err)));
            });
        });

        node.on('close', (removed: boolean, done: () => void) => {
            closed = true;
            // A restart or redeploy keeps the subscription; only a deleted node gives it up (the service queues it
            // and switches it off, now or at its next start). An ensure in flight is awaited first (bounded).
            if (!handle) {
                if (removed && !service) { store.retireSubscription(node.id); }
                done();
                return;
            }
            handle.stop(removed).catch((err: Error) => node.warn(`closing: ${err.message}`)).then(() => done());
        });
    }

    RED.nodes.registerType('durst-subscription', DurstSubscription);

    // The editor's topic builder reads the documented catalogue from here, so it has one source of truth.
    RED.httpAdmin.get('/print-events/durst/topics', RED.auth.needsPermission('durst-subscription.read'), (_req: any, res: any) => {
        res.json(DURST_TOPICS);
    });
};
