// durst-subscriber: config node holding the Durst Workflow API access (login, or basic/bearer for a gateway)
// and the subscriber registration (hostUri + how callbacks are authenticated). Everything that talks to
// Durst goes through its DurstService (../lib/durst/service.ts); the editor's "Register / check" uses a
// short-lived service with the form's values, so it logs in and registers exactly as the runtime does.
import type { NodeAPI, NodeDef } from 'node-red';
import { ApiAuth } from '../lib/durst/rest-client';
import { DurstApiError, DurstId, durstIdOf } from '../lib/durst/errors';
import { SubscriberSettings } from '../lib/durst/registration';
import { DurstService, DurstServiceOptions, DurstSubscriberNode, reportUnrunnableSwitchOffs } from '../lib/durst/service';
import { LOGIN_METHODS, LoginMethod } from '../lib/durst/session';
import type { ExternalAuthType, JwtMethod } from '../lib/durst/verify';
import { DEFAULT_JWT_HEADER, JWT_METHODS } from '../lib/durst/verify';
import { DurstStateStore, stateStoreFor } from '../lib/durst/state-store';
import { HostSettings, localHostUri } from '../lib/durst/host-uri';
import { answerEditorErrorsAsJson, editorSecrets, isJsonRequest, NOT_JSON_ERROR } from '../lib/editor-secrets';
import { tlsOptionsFor } from '../lib/net/tls';

type ApiAuthType = 'login' | 'none' | 'basic' | 'bearer';

interface SubscriberDef extends NodeDef {
    apiUrl: string;
    /** 'login' (Durst's own x-auth-token login; the editor's default) or none/basic/bearer for a gateway in front. */
    apiAuth: ApiAuthType;
    loginMethod: LoginMethod;
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

interface EventBus { on(name: string, fn: () => void): void; removeListener(name: string, fn: () => void): void }
const flowsStartedListeners = new WeakMap<EventBus, () => void>();

function parseId(value: unknown): DurstId | undefined {
    if (value === undefined || value === null || String(value).trim() === '') { return undefined; }
    return durstIdOf(typeof value === 'number' ? value : String(value));
}

/**
 * The API access of a node or form. A flow from before 'login' existed always carries its apiAuth; one without
 * any (hand-written) logs in when it has an API user, else sends nothing.
 */
function apiAuthFrom(type: unknown, loginMethod: unknown, creds: SubscriberCredentials): ApiAuth {
    if (type === 'basic') { return { type: 'basic', user: creds.apiUser ?? '', password: creds.apiPassword ?? '' }; }
    if (type === 'bearer') { return { type: 'bearer', token: creds.apiToken ?? '' }; }
    if (type === 'login' || (type === undefined && creds.apiUser)) {
        const method = LOGIN_METHODS.includes(loginMethod as LoginMethod) ? loginMethod as LoginMethod : 'auto';
        return { type: 'login', user: creds.apiUser ?? '', password: creds.apiPassword ?? '', method };
    }
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

/** The service options of a deployed node or an editor form: one place, so both log in and register alike. */
function serviceOptions(RED: NodeAPI, config: Partial<SubscriberDef>, creds: SubscriberCredentials, configNodeId: string,
    store: DurstStateStore, log: DurstServiceOptions['log']): DurstServiceOptions {
    const settings = RED.settings as unknown as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
    const tls = tlsOptionsFor(RED, config.tls);
    return {
        configNodeId,
        apiUrl: String(config.apiUrl ?? '').trim(),
        auth: apiAuthFrom(config.apiAuth, config.loginMethod, creds),
        settings: settingsFrom(config, creds, RED.settings as HostSettings),
        pinnedId: parseId(config.subscriberId),
        store,
        log,
        configError: tls.error,
        client: {
            tls: tls.options,
            timeoutMs: num(settings.durstApiTimeout),
            attempts: num(settings.durstApiAttempts),
            backoffMs: num(settings.durstApiRetryDelay)
        },
        retryFirstMs: num(settings.durstEnsureRetryDelay)
    };
}

export = function (RED: NodeAPI): void {
    const store = () => stateStoreFor(RED.settings, (text) => RED.log.warn(text));

    function DurstSubscriber(this: DurstSubscriberNode, config: SubscriberDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        const creds: SubscriberCredentials = node.credentials ?? {};
        const options = serviceOptions(RED, config, creds, node.id, store(), {
            info: (text) => node.log(text), warn: (text) => node.warn(text), error: (text) => node.error(text)
        });
        if (options.configError) { node.error(options.configError); }
        const service = new DurstService(options);
        node.service = service;
        node.client = service.client;
        node.apiUrl = service.apiUrl;
        node.hostUri = options.settings.hostUri;
        node.knownSubscriberId = () => service.knownSubscriberId();
        node.ensureRegistered = () => service.register();
        node.invalidateRegistration = () => service.invalidateRegistration();
        node.verificationSettings = () => {
            const s = options.settings;
            return { externalAuthType: s.externalAuthType, xAuthUser: s.xAuthUser, xAuthPassword: s.xAuthPassword,
                jwtHeaderName: s.jwtHeaderName, jwtMethod: s.jwtMethod, jwtKey: s.jwtKey };
        };
        // Queued switch-offs of this API run now, whether or not any durst-subscription is left.
        service.start();

        node.on('close', (_removed: boolean, done: () => void) => {
            service.close();
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

    // Switch-offs queued for an API that no deployed durst-subscriber serves: reported once, when flows start.
    // One listener per runtime event bus (a test harness may load this module many times on one bus).
    const events = (RED as unknown as { events?: EventBus }).events;
    if (events) {
        const previous = flowsStartedListeners.get(events);
        if (previous) { events.removeListener('flows:started', previous); }
        const listener = () => {
            try { reportUnrunnableSwitchOffs(store(), (text) => RED.log.warn(text)); } catch (err) { RED.log.warn(String(err)); }
        };
        flowsStartedListeners.set(events, listener);
        events.on('flows:started', listener);
    }

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
            deployedUrl: (deployed) => (deployed as DurstSubscriberNode).apiUrl,
            form: (body.credentials ?? {}) as Record<string, unknown>,
            fields: ['apiUser', 'apiPassword', 'apiToken', 'xAuthPassword', 'jwtKey'],
            properties: { hostUri: body.hostUri, xAuthUser: body.xAuthUser, jwtHeaderName: body.jwtHeaderName }
        });
        if (!secrets.ok) { res.status(400).json({ ok: false, error: secrets.error, code: secrets.code }); return; }
        const creds = secrets.credentials as SubscriberCredentials;
        const newSecret = secrets.typed.includes('xAuthPassword') || secrets.typed.includes('jwtKey');
        Object.assign(body, secrets.properties, { apiUrl: secrets.url });
        if (body.subscriberId !== undefined && String(body.subscriberId).trim() !== '' && parseId(body.subscriberId) === undefined) {
            res.status(400).json({ ok: false, error: 'subscriberId must be a number or an id such as a UUID' });
            return;
        }
        // The tls-config node chosen in the form; it must be deployed, like the core nodes' config nodes.
        const options = serviceOptions(RED, body, creds, typeof body.id === 'string' ? body.id : '', store(),
            { info: (text) => RED.log.info(text), warn: (text) => RED.log.warn(text), error: (text) => RED.log.error(text) });
        if (options.configError) { res.status(400).json({ ok: false, error: options.configError }); return; }
        // The editor asks for it: one attempt, no retries in the background.
        const service = new DurstService({ ...options, client: { ...options.client, attempts: 1 } });
        service.register({ forceUpdate: newSecret, allowCreate: true })
            .finally(() => service.close())
            .then((result) => {
                res.json({ subscriberId: result.id, action: result.action });
            })
            .catch((err: DurstApiError) => {
                const status = err.statusCode;
                // 502: Durst unreachable or failing; 400: rejected request, refused login or invalid form values.
                const upstreamFault = (status !== undefined && status >= 500) || (err.code !== undefined && !['EAUTH', 'ECONFIG'].includes(err.code));
                res.status(upstreamFault ? 502 : 400).json({ ok: false, error: err.message, statusCode: status, code: err.code === 'EAUTH' ? 'loginRefused' : undefined });
            });
    });
};
