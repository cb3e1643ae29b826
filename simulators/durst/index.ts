// In-memory Durst Workflow subscriber/subscription API on a real HTTP server, for tests, the demo and the
// command line. It echoes secrets transformed (as the vendor docs show) but keeps the real ones to sign or
// authenticate the callbacks it POSTs to subscribers.
//
// As Durst documents it, every API call needs an `x-auth-token` from a login (GET /api/v1/login or POST
// /api/v2/login), valid for a time and until the services restart (restart()). The default is a login with
// DURST_SIM_LOGIN. setBehaviour() switches on the answers a Spring server plausibly gives and our nodes must
// survive (see SimBehaviour).
import * as crypto from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { SimulatorTls, serverTlsOptions } from '../tls';
import { EventEmitter } from 'events';
import * as jwt from 'jsonwebtoken';
import { topicMatches } from '../../nodes/lib/durst/topics';

export type SimApiAuth =
    | { type: 'none' }
    | { type: 'basic'; user: string; password: string }
    | { type: 'bearer'; token: string }
    /** Durst's own login: tokens from v1 and/or v2 login, valid tokenTtlMs (default 24 h) or until restart(). */
    | { type: 'login'; user: string; password: string; versions?: Array<'v1' | 'v2'>; tokenTtlMs?: number };

/** The simulator's default API login (the demo and the tests log in with it, as a user would). */
export const DURST_SIM_LOGIN = { user: 'workflow', password: 'workflow-sim-password' };

/**
 * Server behaviours a client must survive (vendor notes: a Spring application, possibly behind a proxy or SSO):
 * - hal: lists as HAL, `{"_embedded":{"subscriptionApiList":[...]},"page":{...},"_links":{"next":...}}`, 2 per page
 * - paged: lists as Spring pages, `{"content":[...],"totalPages":N,"number":n,"last":...}`, 2 per page (?page=n)
 * - single-get-405: GET .../subscriptions/{id} answers 405 (the page documents it under the list's path), and so
 *   does GET /subscribers/{id} (scope 'subscriber' or 'subscription' for one of them)
 * - html-200: every GET answers 200 with an HTML login page (an SSO or proxy in front)
 * - create-500: a create (subscriber or subscription, see scope) is stored, then answered 500
 * - create-slow: a create is stored at once but answered after slowCreateMs (longer than the client waits)
 * - empty-201: a create is answered 201 with an empty body
 * - uuid-ids: new subscribers and subscriptions get UUID string ids
 */
export type SimBehaviour = 'hal' | 'paged' | 'single-get-405' | 'html-200' | 'create-500' | 'create-slow' | 'empty-201' | 'uuid-ids';
export const SIM_BEHAVIOURS: SimBehaviour[] = ['hal', 'paged', 'single-get-405', 'html-200', 'create-500', 'create-slow', 'empty-201', 'uuid-ids'];
/** Which creates a create-* behaviour applies to. */
export type CreateScope = 'subscriber' | 'subscription' | 'both';

const LOGIN_PAGE = '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form method="post" action="/sso/login">' +
    '<input name="username"><input name="password" type="password"><button>Sign in</button></form></body></html>\n';

export interface DurstSimulatorOptions {
    port?: number;
    host?: string;
    apiAuth?: SimApiAuth;
    /** How XAUTH callbacks carry credentials: x-auth-user/x-auth-password headers (default) or HTTP Basic. */
    xAuthStyle?: 'headers' | 'basic';
    /** Timeout for each callback POST. */
    callbackTimeoutMs?: number;
    /**
     * Which of the two documented subscription-create paths exist: 'create' = POST .../subscriptions/create
     * (reference section), 'plain' = POST .../subscriptions (introduction). Default both.
     */
    subscriptionCreatePaths?: Array<'create' | 'plain'>;
    /** Serve the API over https:// with this key and certificate (e.g. from a private CA). */
    tls?: SimulatorTls;
    /** How long a create answer is held back with the create-slow behaviour (default 12 s: longer than a client's 10 s). */
    slowCreateMs?: number;
    /**
     * How the callback URL is made from hostUri and path: 'concat' (default) as the vendor page shows it, plain
     * text ("localhost:1234" + "path/to/webhook"); 'slash' with exactly one "/" between them.
     */
    callbackJoin?: 'concat' | 'slash';
    /**
     * Which secret callbacks are signed (JWT) or authenticated (XAUTH) with: the one sent at registration
     * (default), the one echoed back ("returned", as Durst may do), or the echoed one base64-decoded.
     */
    signWith?: SignWith;
}

export type SignWith = 'sent' | 'returned' | 'returned-decoded';

export type SimId = number | string;

export interface SubscriberRecord {
    id: SimId;
    hostUri: string;
    externalAuthType: 'NONE' | 'XAUTH' | 'JWT_SIGNING';
    xAuthInfo?: { user: string; password: string };
    jwtSigningInfo?: { httpHeaderName: string; method: 'HS256' | 'HS384' | 'HS512'; key: string };
}

export interface SubscriptionRecord {
    id: SimId;
    subscriberId: SimId;
    path: string | null;
    topic: string;
    status: 'ACTIVE' | 'INACTIVE';
    publishInitialState: boolean;
}

export interface Delivery {
    url: string;
    /** HTTP status of the callback answer; 0 when the request failed. */
    status: number;
    topic: string;
    body: object;
    headers: Record<string, string>;
    error?: string;
}

type EntityType = 'PRODUCTION_JOB' | 'MOTIF' | 'ARTICLE' | 'PRINT_ORDER';

const PRODUCTION_JOB_LIFECYCLE = ['CREATED', 'OUTPUT_CONFIG_ASSIGNED', 'IMPOSED', 'SENT_TO_PRINTER', 'PRINTING', 'PRINTED', 'FINISHED'];
const WORKFLOW_STEPS = ['Load Document', 'Preflight', 'Render To Buffer Page 1', 'Generate Preview', 'Update Sub/Workflow Status'];
const WORKFLOW_KINDS = ['motif-checkin', 'production-job-calculate-ink-usage'];
const WORKFLOW_PROGRESS = [15, 40, 65, 85, 100];
const INKS = ['Cyan', 'Magenta', 'Yellow', 'Black'];
const PRINTERS = [{ id: 5, name: 'P5 500', serialNumber: '123 4567' }, { id: 3, name: 'P5 TEX iSUB' }];

// The sim's stand-in for Durst's secret transformation: 16 bytes of an HMAC, base64 (24 chars, "==" end).
const ECHO_SALT = 'durst-simulator-echo';
export function echoSecret(secret: string): string {
    return crypto.createHmac('sha256', ECHO_SALT).update(secret).digest().subarray(0, 16).toString('base64');
}

export class DurstSimulator extends EventEmitter {
    readonly deliveries: Delivery[] = [];
    private readonly options: Required<Omit<DurstSimulatorOptions, 'apiAuth' | 'tls'>> & { apiAuth: SimApiAuth };
    private readonly tls?: SimulatorTls;
    private server?: http.Server;
    private readonly subscriberMap = new Map<string, SubscriberRecord>();
    private readonly subscriptionMap = new Map<string, SubscriptionRecord>();
    /** Issued login tokens and when each expires (ms epoch). */
    private readonly tokens = new Map<string, number>();
    private readonly behaviours = new Map<SimBehaviour, CreateScope>();
    private readonly heldAnswers = new Set<NodeJS.Timeout>();
    /** Logins answered with a token. */
    logins = 0;
    private readonly entityStatus = new Map<string, string>();
    private nextSubscriberId = 17;
    private nextSubscriptionId = 4;
    private failures: { count: number; status: number } = { count: 0, status: 503 };
    private latencyMs = 0;
    private trickleTimer?: NodeJS.Timeout;
    private trickleStep = 0;
    private trickleGeneration = 0;
    private jobTurn = 0;
    private nextJobId = 2068;
    private readonly jobsInFlight: Array<{ id: number; stage: number }> = [];
    private workflowTurn = 0;
    private workflowCount = 0;
    private readonly workflowsInFlight: Array<{ kind: string; id: number; motifId: number; stage: number; start: Date }> = [];
    private readonly sockets = new Set<import('net').Socket>();
    /** TCP connections accepted by the API server. */
    connections = 0;
    /** Number of API requests answered (including injected failures). */
    apiCalls = 0;
    /**
     * Method, path (without the query: a v1 login carries the password there) and Authorization header (tests
     * check which credentials arrived), and whether an x-auth-token came along, of every API request in order.
     */
    readonly requests: Array<{ method: string; path: string; authorization?: string; token?: boolean }> = [];

    constructor(options: DurstSimulatorOptions = {}) {
        super();
        this.options = {
            port: options.port ?? 0,
            host: options.host ?? '127.0.0.1',
            apiAuth: options.apiAuth ?? { type: 'login', ...DURST_SIM_LOGIN },
            xAuthStyle: options.xAuthStyle ?? 'headers',
            callbackTimeoutMs: options.callbackTimeoutMs ?? 5000,
            subscriptionCreatePaths: options.subscriptionCreatePaths ?? ['create', 'plain'],
            slowCreateMs: options.slowCreateMs ?? 12000,
            callbackJoin: options.callbackJoin ?? 'concat',
            signWith: options.signWith ?? 'sent'
        };
        this.tls = options.tls;
    }

    get port(): number {
        const address = this.server?.address();
        return address && typeof address === 'object' ? address.port : 0;
    }

    get url(): string { return `${this.tls ? 'https' : 'http'}://${this.options.host}:${this.port}`; }

    start(): Promise<void> {
        return new Promise((resolve, reject) => {
            const handler = (req: http.IncomingMessage, res: http.ServerResponse) => { this.onRequest(req, res); };
            const server: http.Server = this.tls ? https.createServer(serverTlsOptions(this.tls), handler) : http.createServer(handler);
            server.on('connection', (socket) => {
                this.connections += 1;
                this.sockets.add(socket);
                socket.on('close', () => this.sockets.delete(socket));
            });
            server.once('error', reject);
            server.listen(this.options.port, this.options.host, () => {
                server.removeListener('error', reject);
                this.server = server;
                resolve();
            });
        });
    }

    stop(): Promise<void> {
        this.stopTrickle();
        for (const timer of this.heldAnswers) { clearTimeout(timer); }
        this.heldAnswers.clear();
        const server = this.server;
        this.server = undefined;
        if (!server) { return Promise.resolve(); }
        return new Promise((resolve) => {
            server.close(() => resolve());
            for (const socket of this.sockets) { socket.destroy(); }
        });
    }

    subscribers(): SubscriberRecord[] { return [...this.subscriberMap.values()].map((s) => structuredClone(s)); }

    subscriptions(subscriberId: SimId): SubscriptionRecord[] {
        return [...this.subscriptionMap.values()].filter((s) => String(s.subscriberId) === String(subscriberId)).map((s) => ({ ...s }));
    }

    /** Removes a subscriber (and its subscriptions), as an administrator deleting it in Durst would. */
    deleteSubscriber(id: SimId): boolean {
        for (const [sid, s] of this.subscriptionMap) { if (String(s.subscriberId) === String(id)) { this.subscriptionMap.delete(sid); } }
        return this.subscriberMap.delete(String(id));
    }

    /** Switches a server behaviour on (for creates: which ones) or off; see SimBehaviour. */
    setBehaviour(behaviour: SimBehaviour, on: boolean | CreateScope = true): void {
        if (!SIM_BEHAVIOURS.includes(behaviour)) { throw new Error(`unknown behaviour ${behaviour}`); }
        if (on === false) { this.behaviours.delete(behaviour); } else { this.behaviours.set(behaviour, on === true ? 'both' : on); }
    }

    /** Every behaviour off. */
    clearBehaviours(): void { this.behaviours.clear(); }

    /** The behaviours switched on now. */
    activeBehaviours(): SimBehaviour[] { return [...this.behaviours.keys()]; }

    private has(behaviour: SimBehaviour, kind?: 'subscriber' | 'subscription'): boolean {
        const scope = this.behaviours.get(behaviour);
        return scope !== undefined && (kind === undefined || scope === 'both' || scope === kind);
    }

    /** A valid token, as a login would give it (for tests and tools that call the API directly). */
    issueToken(): string {
        const token = crypto.randomBytes(24).toString('base64url');
        const auth = this.options.apiAuth;
        const ttl = auth.type === 'login' && auth.tokenTtlMs !== undefined ? auth.tokenTtlMs : 24 * 3600 * 1000;
        this.tokens.set(token, Date.now() + ttl);
        return token;
    }

    /** Headers that authenticate a direct API call (tests): the login token, Basic or Bearer as configured. */
    authHeaders(): Record<string, string> {
        const auth = this.options.apiAuth;
        if (auth.type === 'login') { return { 'x-auth-token': this.issueToken() }; }
        if (auth.type === 'basic') { return { authorization: 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64') }; }
        if (auth.type === 'bearer') { return { authorization: 'Bearer ' + auth.token }; }
        return {};
    }

    /** Every token expires now (as after 24 hours): the next call with one is answered 401. */
    expireTokens(): void { this.tokens.clear(); }

    /**
     * A restart of the Durst services: every token is void and every open connection is dropped; subscribers and
     * subscriptions stay (Durst keeps them in its database).
     */
    restart(): void {
        this.tokens.clear();
        for (const socket of this.sockets) { socket.destroy(); }
    }

    injectFailures(count: number, status = 503): void { this.failures = { count, status }; }

    setLatency(ms: number): void { this.latencyMs = Math.max(0, ms); }
    /** Answers held back by the latency (or a slow create) and not sent yet. */
    get answersHeld(): number { return this.heldAnswers.size; }

    fireStatus(entityType: EntityType, entityId: number, newStatus: string, oldStatus?: string): Promise<Delivery[]> {
        const key = `${entityType}/${entityId}`;
        const previous = oldStatus ?? this.entityStatus.get(key);
        this.entityStatus.set(key, newStatus);
        const body: Record<string, unknown> = { entityType, entityId, created: new Date().toISOString() };
        if (previous !== undefined) { body.oldStatus = previous; }
        body.newStatus = newStatus;
        if (entityType === 'PRODUCTION_JOB') { body.printer = PRINTERS[entityId % PRINTERS.length]; }
        return this.deliverToMatching([`STATUS/${entityType}/${entityId}`], body);
    }

    fireWorkflow(name: string, id: number, extra: object = {}): Promise<Delivery[]> {
        const now = new Date();
        const body = {
            id, name, status: 'SUCCESS', progress: 100, currentStep: 'Update Workflow Status', stateMessage: 'Done',
            startTimestamp: new Date(now.getTime() - 30000).toISOString(), endTimestamp: now.toISOString(), executionTime: 30,
            ...extra
        };
        // WORKFLOW/{workflowid}/* may name the workflow by type or by id; both are matched.
        return this.deliverToMatching([`WORKFLOW/${name}/${id}`, `WORKFLOW/${id}/${name}`], body);
    }

    fireRepo(body: object): Promise<Delivery[]> {
        const record = body as Record<string, unknown>;
        const kind = String(record.type ?? record.entityType ?? 'SUBSTRATE');
        return this.deliverToMatching([`REPO/${kind}/${String(record.id ?? record.entityId ?? 0)}`], body);
    }

    startTrickle(intervalMs: number): void {
        this.stopTrickle();
        const interval = Math.max(50, intervalMs);
        const generation = ++this.trickleGeneration;
        // Self-scheduling, so a slow receiver never gets events out of order.
        const tick = () => {
            this.trickleOnce().catch(() => undefined).then(() => {
                if (this.trickleTimer && generation === this.trickleGeneration) { this.trickleTimer = setTimeout(tick, interval); }
            });
        };
        this.trickleTimer = setTimeout(tick, interval);
    }

    stopTrickle(): void {
        if (this.trickleTimer) { clearTimeout(this.trickleTimer); }
        this.trickleTimer = undefined;
        this.trickleGeneration++;
    }

    // A small factory. Two of three ticks advance a production job: up to three jobs are in flight at once,
    // each moving through its lifecycle one status per turn (a new job starts when one finishes). Every third
    // tick advances a workflow: a motif check-in (MOTIF CREATED ... CHECKED_IN) and an ink-usage calculation
    // for a production job run side by side, their progress climbing in steps to 100 %.
    private async trickleOnce(): Promise<void> {
        const step = this.trickleStep++;
        if (step % 3 !== 2) {
            const turn = this.jobTurn++;
            if (this.jobsInFlight.length === 0 || (this.jobsInFlight.length < 3 && turn % 4 === 0)) {
                this.jobsInFlight.push({ id: this.nextJobId++, stage: 0 });
            }
            const job = this.jobsInFlight[turn % this.jobsInFlight.length];
            const status = PRODUCTION_JOB_LIFECYCLE[job.stage++];
            if (job.stage >= PRODUCTION_JOB_LIFECYCLE.length) { this.jobsInFlight.splice(this.jobsInFlight.indexOf(job), 1); }
            await this.fireStatus('PRODUCTION_JOB', job.id, status);
            return;
        }
        const turn = this.workflowTurn++;
        if (this.workflowsInFlight.length < 2) {
            const kind = WORKFLOW_KINDS[this.workflowCount % WORKFLOW_KINDS.length];
            this.workflowsInFlight.push({ kind, id: 12842 + this.workflowCount, motifId: 11079 + this.workflowCount, stage: 0, start: new Date() });
            this.workflowCount += 1;
        }
        const wf = this.workflowsInFlight[turn % this.workflowsInFlight.length];
        const stage = wf.stage++;
        if (stage === 0 && wf.kind === 'motif-checkin') { await this.fireStatus('MOTIF', wf.motifId, 'CREATED'); }
        const progress = WORKFLOW_PROGRESS[stage];
        const done = progress === 100;
        const now = new Date();
        await this.fireWorkflow(wf.kind, wf.id, {
            status: done ? 'SUCCESS' : 'RUNNING', progress,
            currentStep: done ? 'Update Sub/Workflow Status' : WORKFLOW_STEPS[Math.min(stage, WORKFLOW_STEPS.length - 1)],
            stateMessage: wf.kind === 'motif-checkin' ? (done ? 'Render To Buffer Page 1' : 'Preflight') : `Painting (${INKS[stage % INKS.length]} - ${progress}%)`,
            startTimestamp: wf.start.toISOString(), endTimestamp: done ? now.toISOString() : null,
            executionTime: Math.round((now.getTime() - wf.start.getTime()) / 1000)
        });
        if (done) {
            this.workflowsInFlight.splice(this.workflowsInFlight.indexOf(wf), 1);
            if (wf.kind === 'motif-checkin') { await this.fireStatus('MOTIF', wf.motifId, 'CHECKED_IN'); }
        }
    }

    private async deliverToMatching(eventTopics: string[], body: object): Promise<Delivery[]> {
        const targets = [...this.subscriptionMap.values()].filter((s) => s.status === 'ACTIVE'
            && this.subscriberMap.has(String(s.subscriberId)) && eventTopics.some((t) => topicMatches(s.topic, t)));
        return Promise.all(targets.map((s) => this.deliver(this.subscriberMap.get(String(s.subscriberId)) as SubscriberRecord, s, eventTopics[0], body)));
    }

    private callbackUrl(subscriber: SubscriberRecord, path: string | null): string {
        let host = subscriber.hostUri.trim();
        if (!/^https?:\/\//i.test(host)) { host = 'http://' + host; }
        if (!path) { return host; }
        if (this.options.callbackJoin === 'concat') { return host + path; }
        return host.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
    }

    /** Signs later callbacks with the sent secret, the returned one, or the returned one base64-decoded. */
    setSignWith(signWith: SignWith): void { this.options.signWith = signWith; }

    private signingSecret(secret: string): string | Buffer {
        if (this.options.signWith === 'sent') { return secret; }
        return this.options.signWith === 'returned' ? echoSecret(secret) : Buffer.from(echoSecret(secret), 'base64');
    }

    private deliver(subscriber: SubscriberRecord, subscription: SubscriptionRecord, topic: string, body: object): Promise<Delivery> {
        const url = this.callbackUrl(subscriber, subscription.path);
        const raw = Buffer.from(JSON.stringify(body));
        const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(raw.length) };
        if (subscriber.externalAuthType === 'XAUTH' && subscriber.xAuthInfo) {
            const user = subscriber.xAuthInfo.user;
            const secret = this.signingSecret(subscriber.xAuthInfo.password);
            // Decoded bytes fit only into Basic (base64); the x-auth-password header gets the returned text then.
            const password = Buffer.isBuffer(secret) ? echoSecret(subscriber.xAuthInfo.password) : secret;
            if (this.options.xAuthStyle === 'basic') {
                headers.authorization = 'Basic ' + Buffer.concat([Buffer.from(`${user}:`), Buffer.isBuffer(secret) ? secret : Buffer.from(secret)]).toString('base64');
            } else {
                headers['x-auth-user'] = user;
                headers['x-auth-password'] = password;
            }
        } else if (subscriber.externalAuthType === 'JWT_SIGNING' && subscriber.jwtSigningInfo) {
            const info = subscriber.jwtSigningInfo;
            const iat = Math.floor(Date.now() / 1000);
            headers[info.httpHeaderName.toLowerCase()] = jwt.sign(
                { iat, exp: iat + 300, sub: topic, bodySha256: crypto.createHash('sha256').update(raw).digest('hex') },
                this.signingSecret(info.key), { algorithm: info.method, noTimestamp: true });
        }
        const delivery: Delivery = { url, status: 0, topic, body, headers };
        this.deliveries.push(delivery);
        return new Promise((resolve) => {
            let request: http.ClientRequest;
            try {
                request = http.request(url, { method: 'POST', headers, timeout: this.options.callbackTimeoutMs, agent: false });
            } catch (err) {
                delivery.error = (err as Error).message;
                resolve(delivery);
                return;
            }
            request.on('response', (res) => {
                delivery.status = res.statusCode ?? 0;
                res.resume();
                res.on('end', () => { this.emit('delivery', delivery); resolve(delivery); });
            });
            request.on('timeout', () => request.destroy(new Error('callback timed out')));
            request.on('error', (err) => { delivery.error = err.message; this.emit('delivery', delivery); resolve(delivery); });
            request.end(raw);
        });
    }

    // ---- API ----

    private authorised(req: http.IncomingMessage): boolean {
        const auth = this.options.apiAuth;
        const header = req.headers.authorization ?? '';
        if (auth.type === 'basic') { return header === 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64'); }
        if (auth.type === 'bearer') { return header === 'Bearer ' + auth.token; }
        if (auth.type === 'login') {
            const token = req.headers['x-auth-token'];
            const expires = typeof token === 'string' ? this.tokens.get(token) : undefined;
            if (expires === undefined) { return false; }
            if (expires <= Date.now()) { this.tokens.delete(token as string); return false; }
        }
        return true;
    }

    /** The documented logins. v1: GET with query, token in the header only; v2: POST JSON, token in header and body. */
    private login(method: string, url: URL, body: any, answer: Answer): boolean {
        const auth = this.options.apiAuth;
        const isV1 = url.pathname === '/api/v1/login';
        const isV2 = url.pathname === '/api/v2/login';
        if (!isV1 && !isV2) { return false; }
        const versions = auth.type === 'login' ? auth.versions ?? ['v1', 'v2'] : [];
        if (!versions.includes(isV1 ? 'v1' : 'v2')) { answer(404); return true; }
        if (isV1 && method !== 'GET') { answer(405); return true; }
        if (isV2 && method !== 'POST') { answer(405); return true; }
        const username = isV1 ? url.searchParams.get('username') : body?.username;
        const password = isV1 ? url.searchParams.get('password') : body?.password;
        if (auth.type !== 'login' || username !== auth.user || password !== auth.password) { answer(401); return true; }
        const token = this.issueToken();
        this.logins += 1;
        if (isV1) {
            answer(200, { id: 5, username, activeUntil: '2038-01-19' }, { 'x-auth-token': token });
        } else {
            answer(200, { userId: 5, username, 'X-Auth-Token': token }, { 'X-Auth-Token': token });
        }
        return true;
    }

    private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
            const answer: Answer = (status, body, headers = {}, delayMs = 0) => {
                const send = () => {
                    if (res.destroyed) { return; }
                    if (body === undefined) { res.writeHead(status, headers); res.end(); return; }
                    const html = typeof body === 'string' && body.startsWith('<!DOCTYPE');
                    const text = typeof body === 'string' ? body : JSON.stringify(body);
                    res.writeHead(status, { 'Content-Type': html ? 'text/html;charset=UTF-8' : 'application/json', ...headers });
                    res.end(text);
                };
                const wait = this.latencyMs + delayMs;
                if (wait > 0) {
                    const timer = setTimeout(() => { this.heldAnswers.delete(timer); send(); }, wait);
                    this.heldAnswers.add(timer);
                } else {
                    send();
                }
            };
            const url = new URL(req.url ?? '/', 'http://sim.invalid');
            const method = req.method ?? 'GET';
            this.apiCalls++;
            this.requests.push({ method, path: url.pathname, authorization: req.headers.authorization, token: typeof req.headers['x-auth-token'] === 'string' });
            if (this.failures.count > 0) {
                this.failures.count--;
                answer(this.failures.status, { error: 'injected failure' });
                return;
            }
            // An SSO or proxy login page in front answers every GET, whoever asks.
            if (method === 'GET' && this.has('html-200')) { answer(200, LOGIN_PAGE); return; }
            let body: any;
            if (chunks.length > 0) {
                try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { answer(400, { error: 'invalid JSON' }); return; }
            }
            if (this.login(method, url, body, answer)) { return; }
            if (!this.authorised(req)) { answer(401); return; }
            try {
                this.route(method, url, body, answer);
            } catch (err) {
                answer(500, { error: (err as Error).message });
            }
        });
    }

    private newId(kind: 'subscriber' | 'subscription'): SimId {
        if (this.has('uuid-ids')) { return crypto.randomUUID(); }
        return kind === 'subscriber' ? this.nextSubscriberId++ : this.nextSubscriptionId++;
    }

    /** The answer to a create that was stored, as the create-* and empty-201 behaviours shape it. */
    private answerCreate(kind: 'subscriber' | 'subscription', answer: Answer, body: object): void {
        if (this.has('create-500', kind)) { answer(500, { error: 'Internal Server Error' }); return; }
        const delay = this.has('create-slow', kind) ? this.options.slowCreateMs : 0;
        answer(201, this.has('empty-201', kind) ? undefined : body, {}, delay);
    }

    /** A list answer, shaped as the hal / paged behaviours say (2 entries per page then). */
    private listAnswer(subscriberId: SimId, url: URL): { status: number; body: unknown } {
        const all = this.subscriptions(subscriberId).map(publicSubscription);
        if (!this.has('hal') && !this.has('paged')) { return { status: 200, body: all }; }
        const size = 2;
        const totalPages = Math.max(1, Math.ceil(all.length / size));
        const number = Math.min(Math.max(0, Number(url.searchParams.get('page') ?? 0) || 0), totalPages - 1);
        const content = all.slice(number * size, number * size + size);
        if (this.has('paged')) {
            return { status: 200, body: { content, totalPages, totalElements: all.length, number, size, first: number === 0, last: number + 1 >= totalPages } };
        }
        const self = `/api/v1/subscribers/${encodeURIComponent(String(subscriberId))}/subscriptions`;
        const links: Record<string, { href: string }> = { self: { href: `${self}?page=${number}&size=${size}` } };
        if (number + 1 < totalPages) { links.next = { href: `${self}?page=${number + 1}&size=${size}` }; }
        const hal: Record<string, unknown> = { _links: links, page: { size, totalElements: all.length, totalPages, number } };
        if (content.length > 0) { hal._embedded = { subscriptionApiList: content }; }
        return { status: 200, body: hal };
    }

    private route(method: string, url: URL, body: any, answer: Answer): void {
        const path = url.pathname;
        let m: RegExpExecArray | null;
        if (method === 'POST' && path === '/api/v1/subscribers/create') {
            const error = this.validateSubscriber(body);
            if (error) { answer(400, { error }); return; }
            const record = this.toSubscriber(this.newId('subscriber'), body);
            this.subscriberMap.set(String(record.id), record);
            this.answerCreate('subscriber', answer, this.echoSubscriber(record));
            return;
        }
        if (method === 'GET' && (m = /^\/api\/v1\/subscribers\/testresponse\/(\d+)$/.exec(path))) {
            const jobId = Number(m[1]);
            answer(200);
            this.fireStatus('PRODUCTION_JOB', jobId, 'CREATED', this.entityStatus.get(`PRODUCTION_JOB/${jobId}`)).catch(() => undefined);
            return;
        }
        if ((m = /^\/api\/v1\/subscribers\/([^/]+)$/.exec(path))) {
            const subscriber = this.subscriberMap.get(decodeURIComponent(m[1]));
            if (!subscriber) { answer(404); return; }
            if (method === 'GET') { answer(this.has('single-get-405', 'subscriber') ? 405 : 200, this.has('single-get-405', 'subscriber') ? undefined : this.echoSubscriber(subscriber)); return; }
            if (method === 'PUT') {
                const error = this.validateSubscriber(body);
                if (error) { answer(400, { error }); return; }
                const record = this.toSubscriber(subscriber.id, body);
                this.subscriberMap.set(String(record.id), record);
                answer(201, this.echoSubscriber(record));
                return;
            }
            answer(405);
            return;
        }
        if ((m = /^\/api\/v1\/subscribers\/([^/]+)\/subscriptions(\/create)?$/.exec(path))) {
            const subscriber = this.subscriberMap.get(decodeURIComponent(m[1]));
            if (!subscriber) { answer(404); return; }
            const subscriberId = subscriber.id;
            if (method === 'GET' && !m[2]) { const list = this.listAnswer(subscriberId, url); answer(list.status, list.body); return; }
            if (method !== 'POST') { answer(405); return; }
            if (!this.options.subscriptionCreatePaths.includes(m[2] ? 'create' : 'plain')) { answer(m[2] ? 404 : 405); return; }
            if (!body || typeof body.topic !== 'string') { answer(400, { error: 'topic required' }); return; }
            const record: SubscriptionRecord = {
                id: this.newId('subscription'), subscriberId, path: typeof body.path === 'string' ? body.path : null,
                topic: body.topic, status: body.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE', publishInitialState: body.publishInitialState === true
            };
            this.subscriptionMap.set(String(record.id), record);
            this.answerCreate('subscription', answer, publicSubscription(record));
            if (record.publishInitialState && record.status === 'ACTIVE') { this.publishInitialState(record); }
            return;
        }
        if ((m = /^\/api\/v1\/subscribers\/([^/]+)\/subscriptions\/([^/]+)$/.exec(path))) {
            const subscriberKey = decodeURIComponent(m[1]);
            const subscription = this.subscriptionMap.get(decodeURIComponent(m[2]));
            if (!this.subscriberMap.has(subscriberKey) || !subscription || String(subscription.subscriberId) !== subscriberKey) { answer(404); return; }
            if (method === 'GET') {
                if (this.has('single-get-405', 'subscription')) { answer(405); return; }
                answer(200, publicSubscription(subscription));
                return;
            }
            if (method === 'PUT') {
                if (!body || typeof body !== 'object') { answer(400, { error: 'body required' }); return; }
                if (typeof body.topic === 'string') { subscription.topic = body.topic; }
                if ('path' in body) { subscription.path = typeof body.path === 'string' ? body.path : null; }
                if (body.status === 'ACTIVE' || body.status === 'INACTIVE') { subscription.status = body.status; }
                if (typeof body.publishInitialState === 'boolean') { subscription.publishInitialState = body.publishInitialState; }
                answer(201, publicSubscription(subscription));
                return;
            }
            answer(405);
            return;
        }
        answer(404);
    }

    private publishInitialState(subscription: SubscriptionRecord): void {
        const m = /^STATUS\/(PRODUCTION_JOB|MOTIF|ARTICLE|PRINT_ORDER)\/(\d+)$/.exec(subscription.topic);
        const subscriber = this.subscriberMap.get(String(subscription.subscriberId));
        if (!m || !subscriber) { return; }
        const key = `${m[1]}/${m[2]}`;
        const body = { entityType: m[1], entityId: Number(m[2]), created: new Date().toISOString(), newStatus: this.entityStatus.get(key) ?? 'CREATED' };
        // After the 201 has gone out, like a server publishing asynchronously.
        setImmediate(() => { this.deliver(subscriber, subscription, subscription.topic, body).catch(() => undefined); });
    }

    private validateSubscriber(body: any): string | undefined {
        if (!body || typeof body !== 'object') { return 'body required'; }
        if (typeof body.hostUri !== 'string' || body.hostUri === '') { return 'hostUri required'; }
        const type = body.externalAuthType ?? 'NONE';
        if (!['NONE', 'XAUTH', 'JWT_SIGNING'].includes(type)) { return 'unknown externalAuthType'; }
        if (type === 'XAUTH' && (typeof body.xAuthInfo?.password !== 'string')) { return 'xAuthInfo required'; }
        if (type === 'JWT_SIGNING' && typeof body.jwtSigningInfo?.key !== 'string') { return 'jwtSigningInfo required'; }
        return undefined;
    }

    private toSubscriber(id: SimId, body: any): SubscriberRecord {
        const record: SubscriberRecord = { id, hostUri: body.hostUri, externalAuthType: body.externalAuthType ?? 'NONE' };
        if (record.externalAuthType === 'XAUTH') {
            record.xAuthInfo = { user: String(body.xAuthInfo.user ?? ''), password: body.xAuthInfo.password };
        }
        if (record.externalAuthType === 'JWT_SIGNING') {
            const info = body.jwtSigningInfo;
            const method = ['HS256', 'HS384', 'HS512'].includes(info.method) ? info.method : 'HS256';
            record.jwtSigningInfo = { httpHeaderName: info.httpHeaderName || 'x-jwt-token', method, key: info.key };
        }
        return record;
    }

    private echoSubscriber(record: SubscriberRecord): object {
        const echo: any = { id: record.id, hostUri: record.hostUri, externalAuthType: record.externalAuthType };
        if (record.xAuthInfo) { echo.xAuthInfo = { user: record.xAuthInfo.user, password: echoSecret(record.xAuthInfo.password) }; }
        if (record.jwtSigningInfo) {
            echo.jwtSigningInfo = { httpHeaderName: record.jwtSigningInfo.httpHeaderName, method: record.jwtSigningInfo.method, key: echoSecret(record.jwtSigningInfo.key) };
        }
        return echo;
    }
}

type Answer = (status: number, body?: unknown, headers?: Record<string, string>, delayMs?: number) => void;

function publicSubscription(s: SubscriptionRecord): object {
    return { id: s.id, path: s.path, topic: s.topic, status: s.status, publishInitialState: s.publishInitialState };
}
