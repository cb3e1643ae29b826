// In-memory Durst Workflow subscriber/subscription API on a real HTTP server, for tests, the demo and the
// command line. It echoes secrets transformed (as the vendor docs show) but keeps the real ones to sign or
// authenticate the callbacks it POSTs to subscribers.
import * as crypto from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { SimulatorTls, serverTlsOptions } from '../tls';
import { EventEmitter } from 'events';
import * as jwt from 'jsonwebtoken';
import { topicMatches } from '../../nodes/lib/durst/topics';

export type SimApiAuth = { type: 'none' } | { type: 'basic'; user: string; password: string } | { type: 'bearer'; token: string };

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
}

export interface SubscriberRecord {
    id: number;
    hostUri: string;
    externalAuthType: 'NONE' | 'XAUTH' | 'JWT_SIGNING';
    xAuthInfo?: { user: string; password: string };
    jwtSigningInfo?: { httpHeaderName: string; method: 'HS256' | 'HS384' | 'HS512'; key: string };
}

export interface SubscriptionRecord {
    id: number;
    subscriberId: number;
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
    private readonly subscriberMap = new Map<number, SubscriberRecord>();
    private readonly subscriptionMap = new Map<number, SubscriptionRecord>();
    private readonly entityStatus = new Map<string, string>();
    private nextSubscriberId = 17;
    private nextSubscriptionId = 4;
    private failures: { count: number; status: number } = { count: 0, status: 503 };
    private latencyMs = 0;
    private trickleTimer?: NodeJS.Timeout;
    private trickleStep = 0;
    private trickleGeneration = 0;
    private jobStep = 0;
    private motifStep = 0;
    private readonly sockets = new Set<import('net').Socket>();
    /** TCP connections accepted by the API server. */
    connections = 0;
    /** Number of API requests answered (including injected failures). */
    apiCalls = 0;
    /** Method, path and Authorization header (tests check which credentials arrived) of every API request, in arrival order. */
    readonly requests: Array<{ method: string; path: string; authorization?: string }> = [];

    constructor(options: DurstSimulatorOptions = {}) {
        super();
        this.options = {
            port: options.port ?? 0,
            host: options.host ?? '127.0.0.1',
            apiAuth: options.apiAuth ?? { type: 'none' },
            xAuthStyle: options.xAuthStyle ?? 'headers',
            callbackTimeoutMs: options.callbackTimeoutMs ?? 5000,
            subscriptionCreatePaths: options.subscriptionCreatePaths ?? ['create', 'plain']
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
        const server = this.server;
        this.server = undefined;
        if (!server) { return Promise.resolve(); }
        return new Promise((resolve) => {
            server.close(() => resolve());
            for (const socket of this.sockets) { socket.destroy(); }
        });
    }

    subscribers(): SubscriberRecord[] { return [...this.subscriberMap.values()].map((s) => structuredClone(s)); }

    subscriptions(subscriberId: number): SubscriptionRecord[] {
        return [...this.subscriptionMap.values()].filter((s) => s.subscriberId === Number(subscriberId)).map((s) => ({ ...s }));
    }

    /** Removes a subscriber (and its subscriptions), as an administrator deleting it in Durst would. */
    deleteSubscriber(id: number): boolean {
        for (const [sid, s] of this.subscriptionMap) { if (s.subscriberId === id) { this.subscriptionMap.delete(sid); } }
        return this.subscriberMap.delete(id);
    }

    injectFailures(count: number, status = 503): void { this.failures = { count, status }; }

    setLatency(ms: number): void { this.latencyMs = Math.max(0, ms); }

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

    // A small factory: production jobs move through their lifecycle one status per tick; every third tick a
    // motif check-in advances (workflow progress 30 % -> 70 % -> 100 %, then the motif is CHECKED_IN).
    private async trickleOnce(): Promise<void> {
        const step = this.trickleStep++;
        if (step % 3 !== 2) {
            const n = this.jobStep++;
            const jobId = 2068 + Math.floor(n / PRODUCTION_JOB_LIFECYCLE.length);
            await this.fireStatus('PRODUCTION_JOB', jobId, PRODUCTION_JOB_LIFECYCLE[n % PRODUCTION_JOB_LIFECYCLE.length]);
            return;
        }
        const n = this.motifStep++;
        const motifId = 11079 + Math.floor(n / 3);
        const workflowId = 12842 + Math.floor(n / 3);
        const phase = n % 3;
        if (phase === 0) { await this.fireStatus('MOTIF', motifId, 'CREATED'); }
        const progress = [30, 70, 100][phase];
        await this.fireWorkflow('motif-checkin', workflowId, {
            status: progress === 100 ? 'SUCCESS' : 'RUNNING', progress,
            currentStep: WORKFLOW_STEPS[phase + 1], stateMessage: progress === 100 ? 'Render To Buffer Page 1' : 'Preflight',
            endTimestamp: progress === 100 ? new Date().toISOString() : null
        });
        if (phase === 2) { await this.fireStatus('MOTIF', motifId, 'CHECKED_IN'); }
    }

    private async deliverToMatching(eventTopics: string[], body: object): Promise<Delivery[]> {
        const targets = [...this.subscriptionMap.values()].filter((s) => s.status === 'ACTIVE'
            && this.subscriberMap.has(s.subscriberId) && eventTopics.some((t) => topicMatches(s.topic, t)));
        return Promise.all(targets.map((s) => this.deliver(this.subscriberMap.get(s.subscriberId) as SubscriberRecord, s, eventTopics[0], body)));
    }

    private callbackUrl(subscriber: SubscriberRecord, path: string | null): string {
        let host = subscriber.hostUri.trim();
        if (!/^https?:\/\//i.test(host)) { host = 'http://' + host; }
        if (!path) { return host; }
        return host.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
    }

    private deliver(subscriber: SubscriberRecord, subscription: SubscriptionRecord, topic: string, body: object): Promise<Delivery> {
        const url = this.callbackUrl(subscriber, subscription.path);
        const raw = Buffer.from(JSON.stringify(body));
        const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(raw.length) };
        if (subscriber.externalAuthType === 'XAUTH' && subscriber.xAuthInfo) {
            const { user, password } = subscriber.xAuthInfo;
            if (this.options.xAuthStyle === 'basic') {
                headers.authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
            } else {
                headers['x-auth-user'] = user;
                headers['x-auth-password'] = password;
            }
        } else if (subscriber.externalAuthType === 'JWT_SIGNING' && subscriber.jwtSigningInfo) {
            const info = subscriber.jwtSigningInfo;
            const iat = Math.floor(Date.now() / 1000);
            headers[info.httpHeaderName.toLowerCase()] = jwt.sign(
                { iat, exp: iat + 300, sub: topic, bodySha256: crypto.createHash('sha256').update(raw).digest('hex') },
                info.key, { algorithm: info.method, noTimestamp: true });
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
        return true;
    }

    private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
            const answer = (status: number, body?: unknown) => {
                const send = () => {
                    if (body === undefined) { res.writeHead(status); res.end(); return; }
                    const text = typeof body === 'string' ? body : JSON.stringify(body);
                    res.writeHead(status, { 'Content-Type': 'application/json' });
                    res.end(text);
                };
                if (this.latencyMs > 0) { setTimeout(send, this.latencyMs); } else { send(); }
            };
            this.apiCalls++;
            this.requests.push({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0], authorization: req.headers.authorization });
            if (this.failures.count > 0) {
                this.failures.count--;
                answer(this.failures.status, { error: 'injected failure' });
                return;
            }
            if (!this.authorised(req)) { answer(401); return; }
            let body: any;
            if (chunks.length > 0) {
                try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { answer(400, { error: 'invalid JSON' }); return; }
            }
            try {
                this.route(req.method ?? 'GET', (req.url ?? '/').split('?')[0], body, answer);
            } catch (err) {
                answer(500, { error: (err as Error).message });
            }
        });
    }

    private route(method: string, path: string, body: any, answer: (status: number, body?: unknown) => void): void {
        let m: RegExpExecArray | null;
        if (method === 'POST' && path === '/api/v1/subscribers/create') {
            const error = this.validateSubscriber(body);
            if (error) { answer(400, { error }); return; }
            const record = this.toSubscriber(this.nextSubscriberId++, body);
            this.subscriberMap.set(record.id, record);
            answer(201, this.echoSubscriber(record));
            return;
        }
        if (method === 'GET' && (m = /^\/api\/v1\/subscribers\/testresponse\/(\d+)$/.exec(path))) {
            const jobId = Number(m[1]);
            answer(200);
            this.fireStatus('PRODUCTION_JOB', jobId, 'CREATED', this.entityStatus.get(`PRODUCTION_JOB/${jobId}`)).catch(() => undefined);
            return;
        }
        if ((m = /^\/api\/v1\/subscribers\/(\d+)$/.exec(path))) {
            const subscriber = this.subscriberMap.get(Number(m[1]));
            if (!subscriber) { answer(404); return; }
            if (method === 'GET') { answer(200, this.echoSubscriber(subscriber)); return; }
            if (method === 'PUT') {
                const error = this.validateSubscriber(body);
                if (error) { answer(400, { error }); return; }
                const record = this.toSubscriber(subscriber.id, body);
                this.subscriberMap.set(record.id, record);
                answer(201, this.echoSubscriber(record));
                return;
            }
            answer(405);
            return;
        }
        if ((m = /^\/api\/v1\/subscribers\/(\d+)\/subscriptions(\/create)?$/.exec(path))) {
            const subscriberId = Number(m[1]);
            if (!this.subscriberMap.has(subscriberId)) { answer(404); return; }
            if (method === 'GET' && !m[2]) { answer(200, this.subscriptions(subscriberId).map(publicSubscription)); return; }
            if (method !== 'POST') { answer(405); return; }
            if (!this.options.subscriptionCreatePaths.includes(m[2] ? 'create' : 'plain')) { answer(m[2] ? 404 : 405); return; }
            if (!body || typeof body.topic !== 'string') { answer(400, { error: 'topic required' }); return; }
            const record: SubscriptionRecord = {
                id: this.nextSubscriptionId++, subscriberId, path: typeof body.path === 'string' ? body.path : null,
                topic: body.topic, status: body.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE', publishInitialState: body.publishInitialState === true
            };
            this.subscriptionMap.set(record.id, record);
            answer(201, publicSubscription(record));
            if (record.publishInitialState && record.status === 'ACTIVE') { this.publishInitialState(record); }
            return;
        }
        if ((m = /^\/api\/v1\/subscribers\/(\d+)\/subscriptions\/(\d+)$/.exec(path))) {
            const subscription = this.subscriptionMap.get(Number(m[2]));
            if (!this.subscriberMap.has(Number(m[1])) || !subscription || subscription.subscriberId !== Number(m[1])) { answer(404); return; }
            if (method === 'GET') { answer(200, publicSubscription(subscription)); return; }
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
        const subscriber = this.subscriberMap.get(subscription.subscriberId);
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

    private toSubscriber(id: number, body: any): SubscriberRecord {
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

function publicSubscription(s: SubscriptionRecord): object {
    return { id: s.id, path: s.path, topic: s.topic, status: s.status, publishInitialState: s.publishInitialState };
}
