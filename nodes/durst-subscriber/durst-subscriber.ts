// durst-subscriber: config node holding the Durst Workflow API access (login, or basic/bearer for a gateway)
// and the subscriber registration (hostUri + how callbacks are authenticated). Everything that talks to
// Durst goes through its DurstService (../lib/durst/service.ts); the editor's "Register / check" uses a
// short-lived service with the form's values, so it logs in and registers exactly as the runtime does.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { ApiAuth } from '../lib/durst/rest-client';
import { DurstApiError, DurstId, durstIdOf } from '../lib/durst/errors';
import { backoffDelay } from '../lib/backoff';
import { SubscriberSettings, nonSecretDifferences, validateSubscriberSettings } from '../lib/durst/registration';
import { DurstService, DurstServiceOptions, DurstSubscriberNode, reportUnrunnableSwitchOffs } from '../lib/durst/service';
import { LOGIN_METHODS, LoginMethod } from '../lib/durst/session';
import type { ExternalAuthType, JwtMethod } from '../lib/durst/verify';
import { DEFAULT_JWT_HEADER, JWT_METHODS } from '../lib/durst/verify';
import { DurstStateStore, stateStoreFor } from '../lib/durst/state-store';
import { HostSettings, hostUriProblem, localHostUri } from '../lib/durst/host-uri';
import { editorSecrets } from '../lib/editor-secrets';
import { adminPost, AdminError } from '../lib/admin-routes';
import { registerTwinsRoute } from '../lib/twins';
import { tlsOptionsFor } from '../lib/net/tls';
import { packageSettings } from '../lib/settings';
import { CALLBACK_SECRET_EVENT, CallbackSecretReporter, CallbackSecrets, CallbackSecretState, returnedSecretStoreFor } from '../lib/durst/returned-secrets';
import { planRegistration } from '../lib/durst/registration-plan';

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
/** The config node as the runtime builds it: the service's view of it, with this node's credentials. */
type SubscriberNode = DurstSubscriberNode & Node<SubscriberCredentials>;

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
    store: DurstStateStore, log: DurstServiceOptions['log']): DurstServiceOptions & { callbackSecrets: CallbackSecrets } {
    const settings = packageSettings(RED);
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
    const tls = tlsOptionsFor(RED, config.tls);
    const apiUrl = String(config.apiUrl ?? '').trim();
    const subscriber = settingsFrom(config, creds, settings);
    // The secret last registered and what Durst returned for it (encrypted in the user dir): a changed secret is a
    // difference that needs a PUT, and every registration records what Durst answered.
    const callbackSecrets = new CallbackSecrets(returnedSecretStoreFor(settings, (text) => RED.log.warn(text)),
        configNodeId ? `${configNodeId}|${apiUrl}` : '', subscriber);
    const secretDifference = (): string[] => (callbackSecrets.changed() ? ['secret'] : []);
    return {
        callbackSecrets,
        compare: (remote, desired) => [...nonSecretDifferences(remote, desired), ...secretDifference()],
        unseenDifferences: secretDifference,
        afterRegistration: (result) => callbackSecrets.recordRegistration(result),
        configNodeId,
        apiUrl,
        auth: apiAuthFrom(config.apiAuth, config.loginMethod, creds),
        settings: subscriber,
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

    function DurstSubscriber(this: SubscriberNode, config: SubscriberDef) {
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
        const secrets = options.callbackSecrets;
        node.verificationSettings = () => {
            const s = options.settings;
            return { externalAuthType: s.externalAuthType, xAuthUser: s.xAuthUser, xAuthPassword: s.xAuthPassword,
                jwtHeaderName: s.jwtHeaderName, jwtMethod: s.jwtMethod, jwtKey: s.jwtKey, secrets: secrets.candidates() };
        };
        // Whether Durst has the callback secret the runtime resolves now; the webhook nodes show it.
        let secretState: CallbackSecretState = secrets.changed() ? 'unknown' : 'registered';
        const setSecretState = (state: CallbackSecretState) => {
            if (state === secretState) { return; }
            secretState = state;
            node.emit(CALLBACK_SECRET_EVENT, state);
        };
        (node as DurstSubscriberNode & CallbackSecretReporter).callbackSecretState = () => secretState;
        secrets.onRecorded = () => setSecretState('registered');
        let secretRetry: NodeJS.Timeout | undefined;
        let closed = false;
        // The secret changed since it was registered (a `${VAR}` or a key edited outside Node-RED): update Durst
        // now, not at some later ensure; until that works the webhooks show red instead of a green that lies.
        const registerChangedSecret = (attempt: number) => {
            secretRetry = undefined;
            service.register().then(() => setSecretState('registered'), (err: Error) => {
                if (closed) { return; }
                setSecretState('notRegistered');
                const delay = backoffDelay(attempt, options.retryFirstMs ?? 5000, 120000);
                node.warn(`the callback secret changed since it was registered, and Durst could not be updated: ${err.message}; retrying in ${Math.round(delay / 1000)} s`);
                secretRetry = setTimeout(() => registerChangedSecret(attempt + 1), delay);
            });
        };
        if (secrets.changed() && service.apiUrl && !options.configError) { registerChangedSecret(1); }
        // Queued switch-offs of this API run now, whether or not any durst-subscription is left.
        service.start();

        node.on('close', (_removed: boolean, done: () => void) => {
            closed = true;
            if (secretRetry) { clearTimeout(secretRetry); }
            service.close();
            done();
        });
    }

    const credentials = {
        apiUser: { type: 'text' },
        apiPassword: { type: 'password' },
        apiToken: { type: 'password' },
        xAuthPassword: { type: 'password' },
        jwtKey: { type: 'password' }
    } as const;
    RED.nodes.registerType<SubscriberNode, SubscriberDef, unknown, SubscriberCredentials>('durst-subscriber', DurstSubscriber, { credentials });
    // The editor's twin finder asks which durst-subscribers carry equal credentials (../lib/twins.ts).
    registerTwinsRoute(RED, 'durst-subscriber', Object.keys(credentials));

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

    // Editor "Register / check": with `mode: 'check'` (the button's first step) it only reads Durst and answers
    // `{ plan }`: what a registration would change. The dialog shows it and sends `mode: 'apply'` only when the
    // user confirms, so an unsaved, cancelled dialog never changes the live subscriber. `apply` creates or
    // checks the subscriber with the values in the form and answers the id to put into the subscriberId field. Which secrets it may use (stored ones only with the deployed
    // API URL, `${VAR}` resolved as the runtime does) is decided in ../lib/editor-secrets.ts.
    adminPost(RED, '/print-events/durst/subscriber/register', 'durst-subscriber.write', async (req) => {
        const body = (req.body ?? {}) as Partial<SubscriberDef> & { id?: string; mode?: string; credentials?: SubscriberCredentials };
        if (!String(body.apiUrl ?? '').trim()) { throw new AdminError(400, 'apiUrlRequired', 'apiUrl is required'); }
        if (!/^https?:\/\/[^/\s]/i.test(String(body.apiUrl).trim())) { throw new AdminError(400, 'apiUrlScheme', 'apiUrl must start with http:// or https://'); }
        const secrets = editorSecrets(RED, {
            type: 'durst-subscriber',
            id: body.id,
            url: String(body.apiUrl).trim(),
            deployedUrl: (deployed) => (deployed as DurstSubscriberNode).apiUrl,
            form: (body.credentials ?? {}) as Record<string, unknown>,
            fields: ['apiUser', 'apiPassword', 'apiToken', 'xAuthPassword', 'jwtKey'],
            properties: { hostUri: body.hostUri, xAuthUser: body.xAuthUser, jwtHeaderName: body.jwtHeaderName }
        });
        if (!secrets.ok) { throw new AdminError(400, secrets.code ?? 'invalid', secrets.error, { error: secrets.error }); }
        const creds = secrets.credentials as SubscriberCredentials;
        const newSecret = secrets.typed.includes('xAuthPassword') || secrets.typed.includes('jwtKey');
        Object.assign(body, secrets.properties, { apiUrl: secrets.url });
        if (body.subscriberId !== undefined && String(body.subscriberId).trim() !== '' && parseId(body.subscriberId) === undefined) {
            throw new AdminError(400, 'subscriberIdInvalid', 'subscriberId must be a number or an id such as a UUID');
        }
        // The tls-config node chosen in the form; it must be deployed, like the core nodes' config nodes.
        const options = serviceOptions(RED, body, creds, typeof body.id === 'string' ? body.id : '', store(),
            { info: (text) => RED.log.info(text), warn: (text) => RED.log.warn(text), error: (text) => RED.log.error(text) });
        if (options.configError) { throw new AdminError(400, 'invalid', options.configError, { error: options.configError }); }
        const hostProblem = hostUriProblem(options.settings.hostUri);
        if (hostProblem) { throw new AdminError(400, 'hostUri', hostProblem, { error: hostProblem }); }
        const invalid = validateSubscriberSettings(options.settings);
        if (invalid) { throw new AdminError(400, 'invalid', invalid, { error: invalid }); }
        // The dialog of a deployed subscriber is about ITS subscriber in Durst, also with a Host URI edited in the
        // form (the remembered id is filed under the deployed Host URI): a change is an update of that one.
        const deployed = typeof body.id === 'string' ? RED.nodes.getNode(body.id) as DurstSubscriberNode | null : null;
        if (options.pinnedId === undefined && deployed && typeof deployed.knownSubscriberId === 'function' && deployed.apiUrl === options.apiUrl) {
            options.pinnedId = deployed.knownSubscriberId();
        }
        // The editor asks for it: one attempt, no retries in the background.
        const service = new DurstService({ ...options, client: { ...options.client, attempts: 1 } });
        try {
            if (body.mode === 'apply') {
                const result = await service.register({ forceUpdate: newSecret, allowCreate: true });
                return { subscriberId: result.id, action: result.action };
            }
            const plan = await planRegistration(service.client, options.settings, service.knownSubscriberId(), (remote) => service.subscriberDifferences(remote),
                newSecret || options.callbackSecrets.changed());
            return { plan };
        } catch (err) {
            const e = err as DurstApiError;
            const status = e.statusCode;
            // 502: Durst unreachable or failing; 400: rejected request, refused login or invalid form values.
            const upstreamFault = (status !== undefined && status >= 500) || (e.code !== undefined && !['EAUTH', 'ECONFIG'].includes(e.code));
            const code = e.code === 'EAUTH' ? 'loginRefused' : e.code === 'EHTML' ? 'htmlPage' : e.code === 'EUNCONFIRMED' ? 'unconfirmed'
                : status !== undefined ? 'http' : 'unreachable';
            throw new AdminError(upstreamFault ? 502 : 400, code, e.message, { error: e.message, statusCode: status ?? '' }, status);
        } finally {
            await service.close();
        }
    });
};
