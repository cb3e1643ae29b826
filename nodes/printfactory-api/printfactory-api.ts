// printfactory-api: asks the PrintFactory Cloud REST API about the job or device a msg names (usually a msg of
// printfactory-notification, whose payload is often nothing but a JobGUID), with the account's MisKey.
// The answer replaces msg.payload; every other property of the msg is kept. Bursts, sharing of identical calls,
// the short cache, the concurrency limit and Retry-After: ../lib/printfactory/rest-client.ts.
import type { NodeAPI, Node, NodeDef, NodeMessage } from 'node-red';
import {
    API_ACTIONS, ApiAction, ApiAnswer, PrintFactoryApiClient, PrintFactoryApiError
} from '../lib/printfactory/rest-client';
import { tlsOptionsFor } from '../lib/net/tls';
import { ThrottledStatus } from '../lib/throttled-status';
import { isRecord } from '../lib/is-record';
import { nodeStatus } from '../lib/status';

interface ApiDef extends NodeDef {
    account: string;
    action?: string;
    /** Filter of the `jobs` action: job statuses (StatusList) and a DeviceGUID. */
    statusList?: unknown;
    deviceGuid?: string;
    cacheSeconds?: number | string;
    concurrency?: number | string;
    queueSize?: number | string;
    timeout?: number | string;
}

/** What printfactory-config offers its users for the REST API (see printfactory-config.ts). */
interface AccountNode extends Node<{ misKey?: string }> {
    apiUrl: string;
    tlsId?: string;
}

/** The job list filter fields the vendor documents: a msg.payload with any of them is a filter. */
const FILTER_FIELDS = ['SerialNumber', 'Job', 'JobGUID', 'DocumentGUID', 'Device', 'DeviceGUID', 'MediaType', 'MediaSize',
    'Queue', 'User', 'Producer', 'StatusList'];
const STATUS_THROTTLE_MS = 500;

function numberOr(value: unknown, fallback: number, min: number): number {
    const n = typeof value === 'string' ? Number(value.trim()) : value;
    return typeof n === 'number' && Number.isFinite(n) && n >= min && !(typeof value === 'string' && value.trim() === '') ? n : fallback;
}

/** The GUID from msg[property] (as printfactory-notification sets it), else msg.payload[field]. */
function guidOf(msg: Record<string, unknown>, property: string, field: string): string {
    for (const value of [msg[property], isRecord(msg.payload) ? msg.payload[field] : undefined]) {
        if (typeof value === 'string' && value.trim() !== '') { return value.trim(); }
    }
    return '';
}

function statusListOf(raw: unknown): string[] {
    const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
    return list.map((s) => String(s).trim()).filter((s) => s !== '');
}

export = function (RED: NodeAPI): void {
    function PrintFactoryApi(this: Node, config: ApiDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        const t = nodeStatus(RED, node, 'printfactory-api').text;
        const status = new ThrottledStatus(node, STATUS_THROTTLE_MS);
        const defaultAction = (API_ACTIONS as readonly string[]).includes(String(config.action)) ? config.action as ApiAction : 'job';
        const ownFilter: Record<string, unknown> = {};
        const statuses = statusListOf(config.statusList);
        if (statuses.length > 0) { ownFilter.StatusList = statuses; }
        if (typeof config.deviceGuid === 'string' && config.deviceGuid.trim() !== '') { ownFilter.DeviceGUID = config.deviceGuid.trim(); }

        let client: PrintFactoryApiClient | null = null;
        let setupError = '';
        const account = RED.nodes.getNode(config.account) as AccountNode | null;
        if (!account || typeof account.apiUrl !== 'string') {
            setupError = RED._('printfactory-api.errors.noAccount');
            node.status({ fill: 'red', shape: 'ring', text: t('noAccount') });
        } else if (!account.credentials?.misKey) {
            setupError = RED._('printfactory-api.errors.noMisKey');
            node.status({ fill: 'red', shape: 'ring', text: t('noMisKey') });
        } else {
            const tls = tlsOptionsFor(RED, account.tlsId);
            if (tls.error) {
                setupError = tls.error;
                node.status({ fill: 'red', shape: 'ring', text: t('error', { reason: tls.error }) });
            } else {
                client = new PrintFactoryApiClient({
                    apiUrl: account.apiUrl,
                    misKey: account.credentials.misKey,
                    tls: tls.options,
                    timeoutMs: Math.round(numberOr(config.timeout, 10, 0.1) * 1000),
                    cacheMs: Math.round(numberOr(config.cacheSeconds, 2, 0) * 1000),
                    concurrency: Math.floor(numberOr(config.concurrency, 4, 1)),
                    queueSize: Math.floor(numberOr(config.queueSize, 100, 0)),
                    onRetry: ({ statusCode, retryInMs }) => status.set({
                        fill: 'yellow', shape: 'ring', text: t('retrying', { statusCode, seconds: Math.max(1, Math.round(retryInMs / 1000)) })
                    })
                });
            }
        }
        if (setupError) { node.error(setupError); }

        let answers = 0;

        /** The call a msg asks for, or an error text (the msg names no GUID, an unknown action). */
        function callFor(msg: Record<string, unknown>, api: PrintFactoryApiClient): Promise<ApiAnswer> | string {
            const action = msg.action === undefined || msg.action === '' ? defaultAction : String(msg.action);
            switch (action) {
                case 'job': {
                    const guid = guidOf(msg, 'jobGuid', 'JobGUID');
                    return guid ? api.jobStatus(guid) : RED._('printfactory-api.errors.noJobGuid');
                }
                case 'jobs': {
                    const given = isRecord(msg.payload) && FILTER_FIELDS.some((f) => f in (msg.payload as object));
                    const filter: Record<string, unknown> = {};
                    // Only the documented fields go to PrintFactory: a notification's other fields are no filter.
                    if (given) { for (const f of FILTER_FIELDS) { if ((msg.payload as Record<string, unknown>)[f] !== undefined) { filter[f] = (msg.payload as Record<string, unknown>)[f]; } } }
                    return api.jobList(given ? filter : ownFilter);
                }
                case 'device':
                case 'queues': {
                    const guid = guidOf(msg, 'deviceGuid', 'DeviceGUID');
                    if (!guid) { return RED._('printfactory-api.errors.noDeviceGuid'); }
                    return action === 'device' ? api.deviceStatus(guid) : api.deviceQueues(guid);
                }
                default:
                    return RED._('printfactory-api.errors.badAction', { action, actions: API_ACTIONS.join(', ') });
            }
        }

        function showFailure(err: PrintFactoryApiError): void {
            const code = err.statusCode;
            let text: string;
            switch (err.code) {
                case 'EHTTP': text = t(code === 401 ? 'authFailed' : 'httpError', { statusCode: code ?? '', message: err.vendorMessage ?? '' }); break;
                case 'ENOTJSON': text = t('notJson', { statusCode: code ?? '' }); break;
                case 'ETIMEDOUT': text = t('timeout'); break;
                case 'EQUEUEFULL': text = t('queueFull'); break;
                case 'EPROXY': text = t('proxy'); break;
                default: text = t('unreachable');
            }
            // A refused MisKey is the account's problem and shows at once; other failures are per msg.
            if (code === 401) { status.close(); node.status({ fill: 'red', shape: 'ring', text }); } else { status.set({ fill: 'red', shape: 'ring', text }); }
        }

        node.on('input', (msg: NodeMessage & Record<string, unknown>, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
            if (!client) { done(new Error(setupError)); return; }
            let call: Promise<ApiAnswer> | string;
            try {
                call = callFor(msg, client);
            } catch (err) {
                done(err as Error);
                return;
            }
            if (typeof call === 'string') {
                delete msg.statusCode;
                status.set({ fill: 'red', shape: 'ring', text: t('badInput') });
                done(new Error(call));
                return;
            }
            call.then((answer) => {
                answers += 1;
                msg.payload = answer.body;
                msg.statusCode = answer.statusCode;
                status.set({ fill: 'green', shape: 'dot', text: t('ok', { statusCode: answer.statusCode, count: answers }) });
                try {
                    send(msg);
                    done();
                } catch (err) {
                    done(err as Error);
                }
            }, (err: unknown) => {
                const apiError = err instanceof PrintFactoryApiError ? err : new PrintFactoryApiError(String((err as Error)?.message ?? err), 'ENETWORK');
                if (apiError.code === 'ECLOSED') { done(); return; }
                // The status of this call, or none: a status from an earlier node in the flow is not this answer's.
                if (apiError.statusCode !== undefined) { msg.statusCode = apiError.statusCode; } else { delete msg.statusCode; }
                showFailure(apiError);
                done(apiError);
            }).catch((err: unknown) => {
                // Only reached if done() itself threw: the runtime must keep running.
                node.warn(String((err as Error)?.message ?? err));
            });
        });

        node.on('close', (_removed: boolean, done: () => void) => {
            status.close();
            client?.close();
            client = null;
            done();
        });
    }

    RED.nodes.registerType('printfactory-api', PrintFactoryApi);
};
