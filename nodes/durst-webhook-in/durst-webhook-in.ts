// durst-webhook-in: receives Durst Workflow callbacks on a path of Node-RED's httpNode, verifies them with
// the subscriber's externalAuthType and emits one message per accepted callback.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { getDispatcher, normalisePath, WebhookDispatcher, WebhookRequest, WebhookResponse, WebhookTarget } from '../lib/durst/dispatcher';
import { verifyCallback } from '../lib/durst/verify';
import { classifyCallback } from '../lib/durst/callback';
import type { DurstSubscriberNode } from '../lib/durst/registration';
import { CallbackDeduper, dedupeWindowMs } from '../lib/durst/dedupe';

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
        const subscriber = RED.nodes.getNode(config.subscriber) as DurstSubscriberNode | null;
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
            const withRepeats = repeats > 0 ? 'Repeats' : '';
            if (rejected > 0) {
                node.status({ fill: 'yellow', shape: 'dot', text: RED._('durst-webhook-in.status.listeningRejected' + withRepeats, vars as any) });
            } else {
                node.status({ fill: 'green', shape: 'dot', text: RED._('durst-webhook-in.status.listening' + withRepeats, vars as any) });
            }
        };

        const target: WebhookTarget = {
            handle(request: WebhookRequest): WebhookResponse {
                if (!subscriber || typeof subscriber.verificationSettings !== 'function') {
                    rejected++;
                    showStatus();
                    return { status: 503, body: { ok: false, error: 'webhook has no durst-subscriber configured' } };
                }
                const verdict = verifyCallback(subscriber.verificationSettings(), request.headers, request.rawBody);
                if (!verdict.ok) {
                    rejected++;
                    showStatus();
                    // Logged at warn level without headers: the reason never contains the secret.
                    node.warn(`rejected Durst callback on ${path}: ${verdict.reason}`);
                    return { status: 401, body: { ok: false, error: 'unauthorized' } };
                }
                let payload: unknown;
                try {
                    payload = JSON.parse(request.rawBody.toString('utf8'));
                } catch (err) {
                    rejected++;
                    showStatus();
                    return { status: 400, body: { ok: false, error: 'invalid JSON: ' + (err as Error).message } };
                }
                // A repeat is acknowledged, so the sender does not retry it, but not sent on a second time.
                if (deduper.isRepeat(request.rawBody, payload)) {
                    repeats++;
                    showStatus();
                    return { status: 200, body: { ok: true, repeat: true } };
                }
                const { topic, event } = classifyCallback(payload);
                accepted++;
                // Answer first; Durst only needs the acknowledgement.
                setImmediate(() => {
                    if (closed) { return; }
                    node.send({ payload, topic, event, auth: verdict.auth } as any);
                    showStatus();
                });
                return { status: 200, body: { ok: true } };
            },
            rejected(_status: number, _reason: string) {
                rejected++;
                showStatus();
            }
        };

        if (!subscriber) {
            node.status({ fill: 'red', shape: 'ring', text: RED._('durst-webhook-in.status.noSubscriber') });
            node.error('durst-webhook-in needs a durst-subscriber config node');
        } else {
            dispatcher = getDispatcher(RED as any);
            if (!dispatcher) {
                node.status({ fill: 'grey', shape: 'ring', text: RED._('durst-webhook-in.status.httpDisabled') });
                node.warn('httpNodeRoot is false: HTTP node endpoints are disabled, durst-webhook-in cannot receive callbacks');
            } else {
                try {
                    dispatcher.register(path, target);
                    showStatus();
                } catch (err) {
                    dispatcher = undefined;
                    node.status({ fill: 'red', shape: 'ring', text: RED._('durst-webhook-in.status.duplicate', { path } as any) });
                    node.error((err as Error).message);
                }
            }
        }

        node.on('close', (_removed: boolean, done: () => void) => {
            closed = true;
            dispatcher?.unregister(path, target);
            done();
        });
    }

    RED.nodes.registerType('durst-webhook-in', DurstWebhookIn as any);
};
