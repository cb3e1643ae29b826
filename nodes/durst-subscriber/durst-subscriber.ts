// durst-subscriber: config node holding the Durst Workflow API access and the subscriber registration
// (hostUri + how callbacks are authenticated). Subscription nodes call ensureRegistered(); webhook-in
// nodes read verificationSettings().
import type { NodeAPI, NodeDef } from 'node-red';
import { DurstRestClient, DurstApiError, ApiAuth } from '../lib/durst/rest-client';
import { reconcileSubscriber, RegistrationResult, SubscriberSettings, DurstSubscriberNode } from '../lib/durst/registration';
import type { ExternalAuthType, JwtMethod } from '../lib/durst/verify';
import { DEFAULT_JWT_HEADER, JWT_METHODS } from '../lib/durst/verify';
import { stateStoreFor, subscriberKey } from '../lib/durst/state-store';
import { HostSettings, localHostUri } from '../lib/durst/host-uri';
import { answerEditorErrorsAsJson, editorSecrets, isJsonRequest, NOT_JSON_ERROR } from '../lib/editor-secrets';
import { TlsOptions, tlsOptionsFor } from '../lib/net/tls';

interface SubscriberDef extends NodeDef {
    apiUrl: string;
    apiAuth: 'none' | 'basic' | 'bearer';
    hostUri: string;
    externalAuthType: ExternalAuthType;
    xAuthUser: string;
    jwtHeaderName: string;
    jwtMethod: JwtMethod;
    subscriberId: string | number;
    /** Optional id of a core tls-config node (CA, client certificate, verify) for an https:// API. */
    tls?: string;
}

interface SubscriberCredentials {
    apiUser?: string;
    apiPassword?: string;
    apiToken?: string;
    xAuthPassword?: string;
    jwtKey?: string;
}

const AUTH_TYPES: ExternalAuthType[] = ['NONE', 'XAUTH', 'JWT_SIGNING'];

function parseId(value: unknown): number | undefined {
    if (value === undefined || value === null || String(value).trim() === '') { return undefined; }
    const id = Number(value);
    return Number.isInteger(id) && id >= 0 ? id : undefined;
}

function apiAuthFrom(type: string, creds: SubscriberCredentials): ApiAuth {
    if (type === 'basic') { return { type: 'basic', user: creds.apiUser ?? '', password: creds.apiPassword ?? '' }; }
    if (type === 'bearer') { return { type: 'bearer', token: creds.apiToken ?? '' }; }
    return { type: 'none' };
}

function settingsFrom(config: Partial<SubscriberDef>, creds: SubscriberCredentials, host: HostSettings): SubscriberSettings {
    return {
        // Empty: this Node-RED on this machine (a local Durst simulator), see ../lib/durst/host-uri.ts.
        hostUri: String(config.hostUri ?? '').trim() || localHostUri(host),
        externalAuthType: AUTH_TYPES.includes(config.externalAuthType as ExternalAuthType) ? config.externalAuthType as ExternalAuthType : 'NONE',
        xAuthUser: config.xAuthUser ?? '',
        xAuthPassword: creds.xAuthPassword,
        jwtHeaderName: (config.jwtHeaderName || DEFAULT_JWT_HEADER).trim(),
        jwtMethod: JWT_METHODS.includes(config.jwtMethod as JwtMethod) ? config.jwtMethod as JwtMethod : 'HS256',
        jwtKey: creds.jwtKey
    };
}

function clientOptions(RED: NodeAPI, apiUrl: string, auth: ApiAuth, tls?: TlsOptions) {
    const settings = RED.settings as unknown as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
    return {
        apiUrl: apiUrl.trim(), auth, tls,
        timeoutMs: num(settings.durstApiTimeout),
        attempts: num(settings.durstApiAttempts),
        backoffMs: num(settings.durstApiRetryDelay)
    };
}

export = function (RED: NodeAPI): void {
    function DurstSubscriber(this: DurstSubscriberNode, config: SubscriberDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        const creds: SubscriberCredentials = node.credentials ?? {};
        const apiUrl = String(config.apiUrl ?? '').trim();
        const settings = settingsFrom(config, creds, RED.settings as HostSettings);
        // Ids learnt at runtime (created or re-registered) are remembered in the user dir, so restarts and
        // redeploys reuse them even when the flow pins none.
        const store = stateStoreFor(RED.settings, (text) => RED.log.warn(text));
        const storeKey = subscriberKey(node.id, apiUrl, settings.hostUri);
        const pinnedId = parseId(config.subscriberId);
        node.hostUri = settings.hostUri;
        (node as DurstSubscriberNode & { apiUrl?: string }).apiUrl = apiUrl;
        const tls = tlsOptionsFor(RED, config.tls);
        if (tls.error) { node.error(tls.error); }
        node.newClient = () => new DurstRestClient(clientOptions(RED, apiUrl || 'http://invalid.invalid', apiAuthFrom(config.apiAuth, creds), tls.options));
        node.client = node.newClient();
        let pending: Promise<RegistrationResult> | undefined;
        let closed = false;

        node.knownSubscriberId = () => store.subscriberId(storeKey, pinnedId) ?? pinnedId;

        node.ensureRegistered = () => {
            if (pending) { return pending; }
            if (!apiUrl) { return Promise.reject(new DurstApiError('apiUrl is not set on the durst-subscriber node')); }
            if (tls.error) { return Promise.reject(new DurstApiError(tls.error)); }
            const attempt = reconcileSubscriber(node.client, settings, node.knownSubscriberId(), {
                warn: (text) => node.warn(text),
                fingerprintScope: apiUrl
            }).then((result) => {
                if (result.action === 'created' || result.action === 'recreated') { store.forgetSubscriptionsOf(apiUrl, result.id); }
                if (result.id !== node.knownSubscriberId()) {
                    store.rememberSubscriber(storeKey, result.id, pinnedId, { apiUrl, hostUri: settings.hostUri, configNode: node.id });
                }
                if (!closed && result.action !== 'unchanged') {
                    node.log(`Durst subscriber ${result.id} ${result.action}`);
                }
                return result;
            });
            pending = attempt;
            // A failure is not cached: the next caller tries again.
            attempt.catch(() => { if (pending === attempt) { pending = undefined; } });
            return attempt;
        };

        node.invalidateRegistration = () => { pending = undefined; };

        node.verificationSettings = () => ({
            externalAuthType: settings.externalAuthType,
            xAuthUser: settings.xAuthUser,
            xAuthPassword: settings.xAuthPassword,
            jwtHeaderName: settings.jwtHeaderName,
            jwtMethod: settings.jwtMethod,
            jwtKey: settings.jwtKey
        });

        node.on('close', (_removed: boolean, done: () => void) => {
            closed = true;
            node.client.close();
            done();
        });
    }

    RED.nodes.registerType('durst-subscriber', DurstSubscriber as any, {
        credentials: {
            apiUser: { type: 'text' },
            apiPassword: { type: 'password' },
            apiToken: { type: 'password' },
            xAuthPassword: { type: 'password' },
            jwtKey: { type: 'password' }
        }
    });

    // Editor "Register / check": creates or checks the subscriber with the values in the form and answers
    // the id to put into the subscriberId field. Which secrets it may use (stored ones only with the deployed
    // API URL, `${VAR}` resolved as the runtime does) is decided in ../lib/editor-secrets.ts.
    answerEditorErrorsAsJson(RED.httpAdmin);
    RED.httpAdmin.post('/print-events/durst/subscriber/register', RED.auth.needsPermission('durst-subscriber.write'), (req: any, res: any) => {
        if (!isJsonRequest(req)) { res.status(415).json({ ok: false, error: NOT_JSON_ERROR }); return; }
        const body = (req.body ?? {}) as Partial<SubscriberDef> & { id?: string; credentials?: SubscriberCredentials };
        if (!String(body.apiUrl ?? '').trim()) { res.status(400).json({ ok: false, error: 'apiUrl is required' }); return; }
        if (!/^https?:\/\/[^/\s]/i.test(String(body.apiUrl).trim())) { res.status(400).json({ ok: false, error: 'apiUrl must start with http:// or https://' }); return; }
        const secrets = editorSecrets(RED, {
            type: 'durst-subscriber',
            id: body.id,
            url: String(body.apiUrl).trim(),
            deployedUrl: (deployed) => (deployed as DurstSubscriberNode & { apiUrl?: string }).apiUrl,
            form: (body.credentials ?? {}) as Record<string, unknown>,
            fields: ['apiUser', 'apiPassword', 'apiToken', 'xAuthPassword', 'jwtKey'],
            properties: { hostUri: body.hostUri, xAuthUser: body.xAuthUser, jwtHeaderName: body.jwtHeaderName }
        });
        if (!secrets.ok) { res.status(400).json({ ok: false, error: secrets.error, code: secrets.code }); return; }
        const apiUrl = secrets.url;
        const creds = secrets.credentials as SubscriberCredentials;
        const newSecret = secrets.typed.includes('xAuthPassword') || secrets.typed.includes('jwtKey');
        Object.assign(body, secrets.properties);
        // The tls-config node chosen in the form; it must be deployed, like the core nodes' config nodes.
        const tls = tlsOptionsFor(RED, body.tls);
        if (tls.error) { res.status(400).json({ ok: false, error: tls.error }); return; }
        const client = new DurstRestClient(clientOptions(RED, apiUrl, apiAuthFrom(String(body.apiAuth ?? 'none'), creds), tls.options));
        const settings = settingsFrom(body, creds, RED.settings as HostSettings);
        const store = stateStoreFor(RED.settings, (text) => RED.log.warn(text));
        const storeKey = body.id ? subscriberKey(body.id, apiUrl, settings.hostUri) : undefined;
        const pinnedId = parseId(body.subscriberId);
        const knownId = pinnedId ?? (storeKey ? store.subscriberId(storeKey, undefined) : undefined);
        reconcileSubscriber(client, settings, knownId, { forceUpdate: newSecret, fingerprintScope: apiUrl })
            .finally(() => client.close())
            .then((result) => {
                if (result.action === 'created' || result.action === 'recreated') { store.forgetSubscriptionsOf(apiUrl, result.id); }
                if (storeKey && body.id && result.id !== knownId) {
                    store.rememberSubscriber(storeKey, result.id, pinnedId, { apiUrl, hostUri: settings.hostUri, configNode: body.id });
                }
                res.json({ subscriberId: result.id, action: result.action });
            })
            .catch((err: DurstApiError) => {
                const status = err.statusCode;
                // 502: Durst unreachable or failing; 400: rejected request or invalid form values.
                const upstreamFault = (status !== undefined && status >= 500) || err.code !== undefined;
                res.status(upstreamFault ? 502 : 400).json({ ok: false, error: err.message, statusCode: status });
            });
    });
};
