// durst-webhook-in: receives Durst Workflow callbacks on a path of Node-RED's httpNode, verifies them with
// the subscriber's externalAuthType and emits one message per accepted callback.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { getDispatcher, normalisePath, WebhookDispatcher, WebhookRequest, WebhookResponse, WebhookTarget } from '../lib/durst/dispatcher';
import { verifyCallback } from '../lib/durst/verify';
import { classifyCallback, parseCallbackBody } from '../lib/durst/callback';
import { RateLimitedLog } from '../lib/rate-limited-log';
import type { DurstSubscriberNode } from '../lib/durst/registration';
import { CALLBACK_SECRET_EVENT, CallbackSecretReporter } from '../lib/durst/returned-secrets';
import { CallbackDeduper, dedupeWindowMs } from '../lib/durst/dedupe';
import { nodeStatus } from '../lib/status';

const REJECTION_LOG_INTERVAL_MS = 60000;

interface WebhookDef extends NodeDef {
    subscriber: string;
    url: string;
    /** Seconds within which a repeated callback is answered 200 but not sent on; 0 = off. */
    dedupeWindow?: number | string;
}

export = function (RED: NodeAPI): void {
    function DurstWebhookIn(this: Node, config: WebhookDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        const nodeState = nodeStatus(RED, node, 'durst-webhook-in');
        const subscriber = RED.nodes.getNode(config.subscriber) as (DurstSubscriberNode & CallbackSecretReporter) | null;
        const path = normalisePath(config.url || '/');
        let rejected = 0;
        let accepted = 0;
        let repeats = 0;
        const deduper = new CallbackDeduper(dedupeWindowMs(config.dedupeWindow));
        let dispatcher: WebhookDispatcher | undefined;
        let closed = false;

        const showStatus = () => {
            if (closed) { return; }
            const vars = { path, rejected, accepted, repeats };
            // Durst still signs with a secret the runtime no longer has: green would hide that callbacks fail.
            if (subscriber?.callbackSecretState?.() === 'notRegistered') {
                nodeState.set('red', 'ring', 'secretNotRegistered');
                return;
            }
            const withRepeats = repeats > 0 ? 'Repeats' : '';
            if (rejected > 0) {
                nodeState.set('yellow', 'dot', 'listeningRejected' + withRepeats, vars);
            } else {
                nodeState.set('green', 'dot', 'listening' + withRepeats, vars);
            }
        };

        // Every rejection counts in the status; the log gets the first at once, then a count per minute.
        const rejections = new RateLimitedLog((text) => node.warn(text), REJECTION_LOG_INTERVAL_MS,
            (count, seconds) => `rejected ${count} more Durst callbacks on ${path} in the last ${seconds} s`);
        const countRejection = (status: number, reason: string) => {
            rejected++;
            showStatus();
            // The reason never contains a secret or a header value.
            rejections.log(`rejected Durst callback on ${path} (HTTP ${status}): ${reason}`);
        };
        const reject = (status: number, error: string, logReason = error): WebhookResponse => {
            countRejection(status, logReason);
            return { status, body: { ok: false, error } };
        };

        // The steps of one callback, in order; each may end it with an answer.
        const receive = (request: WebhookRequest): WebhookResponse => {
            if (!subscriber || typeof subscriber.verificationSettings !== 'function') {
                return reject(503, 'webhook has no durst-subscriber configured');
            }
            const verdict = verifyCallback(subscriber.verificationSettings(), request.headers, request.rawBody);
            if (!verdict.ok) { return reject(401, 'unauthorized', verdict.reason); }
            const body = parseCallbackBody(request.rawBody, request.charset);
            if (!body.ok) { return reject(400, body.error); }
            // A repeat is acknowledged, so the sender does not retry it, but not sent on a second time.
            if (deduper.isRepeat(request.rawBody, body.value)) {
                repeats++;
                showStatus();
                return { status: 200, body: { ok: true, repeat: true } };
            }
            const { topic, event } = classifyCallback(body.value);
            const msg = { payload: body.value, topic, event, auth: verdict.auth };
            try {
                // Sent before answering, so a msg Node-RED cannot route is a 500 (Durst may retry), not a lost 200.
                node.send(msg);
            } catch (err) {
                // Not delivered: the sender's retry must not be taken for a repeat.
                deduper.forget(request.rawBody, body.value);
                node.error(err, msg);
                return reject(500, 'internal error', 'the msg could not be sent: ' + (err as Error).message);
            }
            accepted++;
            showStatus();
            return { status: 200, body: { ok: true } };
        };

        const target: WebhookTarget = {
            handle(request: WebhookRequest): WebhookResponse {
                try {
                    return receive(request);
                } catch (err) {
                    // With a msg, so a Catch node sees it; the callback itself may be what failed, so only its path.
                    node.error(`unexpected error while handling a Durst callback on ${path}: ${(err as Error)?.message}`, { path });
                    return reject(500, 'internal error', 'unexpected error');
                }
            },
            rejected(status: number, reason: string) {
                countRejection(status, reason);
            }
        };

        if (!subscriber) {
            node.status({ fill: 'red', shape: 'ring', text: RED._('durst-webhook-in.status.noSubscriber') });
            node.error('durst-webhook-in needs a durst-subscriber config node');
        } else {
            dispatcher = getDispatcher(RED);
            if (!dispatcher) {
                node.status({ fill: 'grey', shape: 'ring', text: RED._('durst-webhook-in.status.httpDisabled') });
                node.warn('httpNodeRoot is false: HTTP node endpoints are disabled, durst-webhook-in cannot receive callbacks');
            } else {
                try {
                    dispatcher.register(path, target);
                    showStatus();
                } catch (err) {
                    dispatcher = undefined;
                    nodeState.set('red', 'ring', 'duplicate', { path });
                    node.error((err as Error).message);
                }
            }
        }

        // The subscriber tells when its callback secret state changes (registered, or not after a change).
        const onSecretState = () => { if (dispatcher) { showStatus(); } };
        // Node's typings know only its own events; a config node is an EventEmitter like any node.
        const events = subscriber as unknown as NodeJS.EventEmitter | null;
        events?.on(CALLBACK_SECRET_EVENT, onSecretState);

        node.on('close', (_removed: boolean, done: () => void) => {
            closed = true;
            events?.removeListener(CALLBACK_SECRET_EVENT, onSecretState);
            dispatcher?.unregister(path, target);
            rejections.dispose();
            done();
        });
    }

    RED.nodes.registerType('durst-webhook-in', DurstWebhookIn);
};
