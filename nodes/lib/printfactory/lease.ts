// The HA lease: which of several Node-RED instances with the same MisKey may open the organisation's one
// PrintFactory connection. It uses only what an MQTT broker gives (retained messages, a Last Will, the order
// in which the broker hands one topic's messages to every subscriber) plus local timers; the design and why it
// is safe are in docs/architecture.md ("HA lease") and docs/several-instances.md. PrintFactoryConnection asks it
// through the HoldGate interface; it knows nothing about sockets to PrintFactory.
//
// Topics (base = print-events/printfactory-lease/<hash of the trimmed MisKey>, never the MisKey itself):
//   <base>/holder        retained holder record {v,id,name,epoch,renewedAt,takeoverMs}; {v,id:null,epoch,releasedBy} = free
//   <base>/gone          the Last Will of every participant's own MQTT client {v,gone:<id>} (not retained)
//   <base>/sync/<id>     a participant's own marker: once it comes back, the retained record has been read
// Rule: the holder is whoever wrote the last record that this participant received, while that record is
// renewed. Every subscriber gets one topic's messages in the broker's order, so all agree on "the last".
// A claim carries the highest epoch seen + 1 (a fencing token): a record with a lower epoch than one already
// seen is a late write of a holder that has lost the lease (TCP delivered it after a partition) and is ignored.
import { createHash, randomBytes } from 'crypto';
import os from 'os';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';

export const LEASE_TOPIC_PREFIX = 'print-events/printfactory-lease/';
export const DEFAULT_TAKEOVER_MS = 15000;
/** Below this the renewals (takeover / 5) would flood the broker and a slow broker would look like a dead one. */
export const MIN_TAKEOVER_MS = 2000;
const RECORD_VERSION = 1;
const MAX_NAME_LENGTH = 200;

/** What the lease tells the connection: open the socket, or stay closed (and why, for the status). */
export type HoldDecision =
    | { hold: true; previousHolder: string | null }
    | { hold: false; holder: string | null; why: 'joining' | 'held' | 'brokerDown' };

/** Decides whether a connection may open its socket. */
export interface HoldGate {
    /** Starts taking part; `onChange` gets every change of decision (the first one possibly at once). */
    join(onChange: (decision: HoldDecision) => void): void;
    /** Gives the hold up and stops taking part. Called after the socket is closed. Never rejects. */
    leave(): Promise<void>;
}

export interface LeaseLogger { log(text: string): void; warn(text: string): void }

export interface LeaseOptions {
    /** mqtt://, mqtts://, ws://, wss:// URL of the broker. */
    brokerUrl: string;
    /** Connection settings of the broker (credentials, TLS, protocol version, ws options): see leaseSettingsOf(). */
    mqttOptions?: IClientOptions;
    misKey: string;
    /** haTakeover: a standby takes over within this after the holder died. */
    takeoverMs?: number;
    /** This participant's name in the holder record (shown by the others' standby status). */
    name?: string;
    logger: LeaseLogger;
}

/** The timings that follow from haTakeover (T); docs/architecture.md explains the ordering they guarantee. */
export interface LeaseTimings {
    takeoverMs: number;
    /** The holder rewrites its record this often: T/5. */
    renewMs: number;
    /** A holder whose last acknowledged renewal was sent this long ago closes its connection: 2T/5. */
    stepDownMs: number;
    /** A standby that received no renewal for this long claims the lease: 3T/5. */
    expiryMs: number;
    /** A claimant holds only once its own record came back and no later one arrived within this: T/10, at most 1 s. */
    settleMs: number;
    /** MQTT keep-alive of the lease client, in seconds: T. A silent holder's Will then comes after its own step-down. */
    keepaliveS: number;
    reconnectMs: number;
}

export function leaseTimings(takeoverMs: number = DEFAULT_TAKEOVER_MS): LeaseTimings {
    const t = Number.isFinite(takeoverMs) && takeoverMs > 0 ? Math.max(MIN_TAKEOVER_MS, takeoverMs) : DEFAULT_TAKEOVER_MS;
    return {
        takeoverMs: t,
        renewMs: Math.round(t / 5),
        stepDownMs: Math.round((2 * t) / 5),
        expiryMs: Math.round((3 * t) / 5),
        settleMs: Math.min(1000, Math.round(t / 10)),
        keepaliveS: Math.max(1, Math.ceil(t / 1000)),
        reconnectMs: Math.min(1000, Math.round(t / 5))
    };
}

/** The lease topics' base for a MisKey: a hash of the trimmed key (the server trims it too), never the key. */
export function leaseTopicBase(misKey: string): string {
    const hash = createHash('sha256').update('print-events-lease:' + String(misKey ?? '').trim()).digest('hex');
    return LEASE_TOPIC_PREFIX + hash.slice(0, 32);
}

/** Default participant name: host and process, so two processes on one host differ. */
export function defaultInstanceName(): string {
    return `${os.hostname()}/${process.pid}`;
}

/**
 * The broker URL and client options of a Node-RED core `mqtt-broker` config node, for a client of our own (its
 * single client cannot carry a Last Will per instance). Taken from the node's computed `brokerurl` and `options`
 * (so credentials, TLS from its tls-config, protocol version and a proxy for ws:// are the node's), without what
 * belongs to that node's own session: client id, clean flag, keep-alive, reconnect period, Will, v5 properties.
 */
export function leaseSettingsOf(brokerNode: unknown): { url: string; options: IClientOptions } | { error: string } {
    const n = brokerNode as { type?: unknown; brokerurl?: unknown; options?: unknown } | null | undefined;
    if (!n || typeof n !== 'object') { return { error: 'not deployed' }; }
    if (n.type !== 'mqtt-broker' || typeof n.brokerurl !== 'string' || !n.brokerurl || typeof n.options !== 'object' || !n.options) {
        return { error: 'not an mqtt-broker config node' };
    }
    const {
        will: _will, clientId: _clientId, clean: _clean, keepalive: _keepalive, reconnectPeriod: _reconnect,
        properties: _properties, ...rest
    } = n.options as IClientOptions;
    return { url: n.brokerurl, options: { ...rest } };
}

/**
 * A lease on the broker of a deployed `mqtt-broker` config node (`haBroker`). Throws with a message for the status
 * when that node is missing or is not an mqtt-broker node: the connection then stays closed (fail closed).
 */
export function leaseOnBrokerNode(brokerNode: unknown, brokerId: string, options: Omit<LeaseOptions, 'brokerUrl' | 'mqttOptions'>): PrintFactoryLease {
    const settings = leaseSettingsOf(brokerNode);
    if ('error' in settings) { throw new Error(`HA broker ${brokerId}: ${settings.error}`); }
    return new PrintFactoryLease({ ...options, brokerUrl: settings.url, mqttOptions: settings.options });
}

interface HolderRecord { id: string; name: string; epoch: number }

type Role = 'joining' | 'standby' | 'claiming' | 'holder';

function parseJson(payload: Buffer): Record<string, unknown> | null {
    if (payload.length === 0 || payload.length > 4096) { return null; }
    try {
        const value = JSON.parse(payload.toString('utf8')) as unknown;
        return value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null;
    } catch {
        return null;
    }
}

export class PrintFactoryLease implements HoldGate {
    readonly id = randomBytes(8).toString('hex');
    readonly name: string;
    readonly topics: { base: string; holder: string; gone: string; sync: string };
    readonly timings: LeaseTimings;
    private readonly brokerUrl: string;
    private readonly mqttOptions: IClientOptions;
    private readonly logger: LeaseLogger;
    private client: MqttClient | null = null;
    private onChange: ((decision: HoldDecision) => void) | null = null;
    private role: Role = 'joining';
    /** The last holder record received (null = free or unknown) and whether it has been read since the last (re)connect. */
    private record: HolderRecord | null = null;
    /** The highest epoch seen on the holder topic, and ours while we claim or hold. */
    private maxEpoch = 0;
    private myEpoch = 0;
    private synced = false;
    private syncNonce = '';
    /** The holder known before this participant claimed: connection.up names it. */
    private previousHolder: string | null = null;
    private lastDecision = '';
    private expiryTimer: NodeJS.Timeout | null = null;
    private settleTimer: NodeJS.Timeout | null = null;
    private renewTimer: NodeJS.Timeout | null = null;
    private stepDownTimer: NodeJS.Timeout | null = null;
    private leaving: Promise<void> | null = null;
    private brokerWarned = false;
    /** Holder: when the last renewal that the broker acknowledged was sent (the step-down counts from it). */
    private lastAckedSentAt = 0;

    constructor(options: LeaseOptions) {
        this.brokerUrl = options.brokerUrl;
        this.mqttOptions = options.mqttOptions ?? {};
        this.logger = options.logger;
        this.timings = leaseTimings(options.takeoverMs);
        this.name = String(options.name || defaultInstanceName()).slice(0, MAX_NAME_LENGTH);
        const base = leaseTopicBase(options.misKey);
        this.topics = { base, holder: `${base}/holder`, gone: `${base}/gone`, sync: `${base}/sync/${this.id}` };
    }

    /** For tests and logs: 'joining' | 'standby' | 'claiming' | 'holder'. */
    get state(): Role { return this.role; }
    /** The holder this participant currently believes in (its own name while it holds). */
    get holderName(): string | null { return this.record?.name ?? null; }

    join(onChange: (decision: HoldDecision) => void): void {
        if (this.client || this.leaving) { return; }
        this.onChange = onChange;
        this.decide({ hold: false, holder: null, why: 'joining' });
        const client = mqtt.connect(this.brokerUrl, {
            ...this.mqttOptions,
            clientId: `print-events-lease-${this.id}`,
            clean: true,
            keepalive: this.timings.keepaliveS,
            reconnectPeriod: this.timings.reconnectMs,
            connectTimeout: Math.max(this.timings.takeoverMs, 5000),
            resubscribe: false,
            will: { topic: this.topics.gone, payload: Buffer.from(JSON.stringify({ v: RECORD_VERSION, gone: this.id, name: this.name })), qos: 1, retain: false }
        });
        this.client = client;
        client.on('connect', () => this.onConnect(client));
        client.on('message', (topic, payload) => this.guard(() => this.onMessage(topic, payload)));
        client.on('close', () => this.guard(() => this.onBrokerLost()));
        client.on('error', (err) => {
            if (!this.brokerWarned) {
                this.brokerWarned = true;
                this.logger.warn(`HA broker ${this.brokerUrl}: ${err.message}; retrying`);
            }
        });
    }

    leave(): Promise<void> {
        if (this.leaving) { return this.leaving; }
        const client = this.client;
        this.onChange = null;
        this.clearTimers();
        const wasHolding = this.role === 'holder' || this.role === 'claiming';
        this.role = 'joining';
        this.leaving = new Promise<void>((resolve) => {
            if (!client) { resolve(); return; }
            const end = (force: boolean): void => {
                // end(true) without DISCONNECT: the broker then sends the Will, which frees the lease at once.
                const timer = setTimeout(() => { client.end(true); resolve(); }, 2000);
                client.end(force, {}, () => { clearTimeout(timer); resolve(); });
            };
            // Free the lease for the others at once, if the record on the broker is still ours.
            if (wasHolding && client.connected && this.record?.id === this.id) {
                const release = JSON.stringify({ v: RECORD_VERSION, id: null, epoch: this.myEpoch, releasedBy: this.id, name: this.name });
                const timer = setTimeout(() => end(true), 2000);
                client.publish(this.topics.holder, release, { qos: 1, retain: true }, () => { clearTimeout(timer); end(false); });
            } else {
                end(!client.connected);
            }
        }).then(() => {
            client?.removeAllListeners();
            client?.on('error', () => undefined);
            this.client = null;
        });
        return this.leaving;
    }

    // ---------------------------------------------------------------------------------------------

    private guard(fn: () => void): void {
        try { fn(); } catch (err) { this.logger.warn(`HA lease: ${(err as Error).message}`); }
    }

    private decide(decision: HoldDecision): void {
        const key = JSON.stringify(decision);
        if (key === this.lastDecision) { return; }
        this.lastDecision = key;
        try { this.onChange?.(decision); } catch (err) { this.logger.warn(`HA lease: ${(err as Error).message}`); }
    }

    private clearTimers(): void {
        for (const timer of [this.expiryTimer, this.settleTimer, this.renewTimer, this.stepDownTimer]) {
            if (timer) { clearTimeout(timer); }
        }
        this.expiryTimer = this.settleTimer = this.renewTimer = this.stepDownTimer = null;
    }

    private onConnect(client: MqttClient): void {
        if (this.client !== client || this.leaving) { return; }
        if (this.brokerWarned) { this.logger.log(`HA broker ${this.brokerUrl} reachable again`); }
        this.brokerWarned = false;
        this.synced = false;
        // Whatever was read before the outage is stale: the retained record is read again below.
        this.record = null;
        this.syncNonce = randomBytes(6).toString('hex');
        const nonce = this.syncNonce;
        client.subscribe([this.topics.holder, this.topics.gone, this.topics.sync], { qos: 1 }, (err) => {
            if (err || this.client !== client || nonce !== this.syncNonce) { return; }
            // The broker sends the retained record in answer to the subscription; our marker, published after the
            // SUBACK, comes back after it. Only then is "no record" known to mean "free".
            client.publish(this.topics.sync, nonce, { qos: 1 });
        });
    }

    private onBrokerLost(): void {
        this.synced = false;
        // A standby that cannot see the holder must not claim; a holder keeps its connection until stepDownMs
        // after its last acknowledged renewal (its timer runs on), so a short broker blip costs nothing.
        if (this.settleTimer) { clearTimeout(this.settleTimer); this.settleTimer = null; }
        if (this.expiryTimer) { clearTimeout(this.expiryTimer); this.expiryTimer = null; }
        if (this.role === 'claiming') { this.role = 'joining'; }
        if (this.role !== 'holder') {
            this.role = 'joining';
            this.decide({ hold: false, holder: this.record?.name ?? null, why: 'brokerDown' });
        }
    }

    private onMessage(topic: string, payload: Buffer): void {
        // Leaving: a claim now would land after our release and hold the others off until it expired.
        if (this.leaving) { return; }
        if (topic === this.topics.sync) {
            if (payload.toString('utf8') === this.syncNonce && !this.synced) {
                this.synced = true;
                this.evaluate();
            }
            return;
        }
        const body = parseJson(payload);
        if (topic === this.topics.gone) {
            // Only the Will of the holder we believe in frees the lease; a standby's Will changes nothing.
            if (body && typeof body.gone === 'string' && this.record && body.gone === this.record.id && body.gone !== this.id) {
                this.logger.log(`HA lease: holder ${this.record.name} is gone`);
                this.record = null;
                if (this.synced) { this.evaluate(); }
            }
            return;
        }
        if (topic !== this.topics.holder) { return; }
        const epoch = body && Number.isSafeInteger(body.epoch) && (body.epoch as number) >= 0 ? body.epoch as number : 0;
        if (payload.length === 0) {
            this.record = null;                                   // the retained record was cleared
        } else if (body && (body.id === null || (typeof body.id === 'string' && body.id))) {
            if (epoch < this.maxEpoch) {
                // A late write of a holder that lost the lease: ignored. Our own retained record is restored at once.
                if (this.role === 'holder' && this.synced) { this.renew(); }
                return;
            }
            this.maxEpoch = epoch;
            this.record = typeof body.id === 'string'            // else released
                ? { id: body.id, epoch, name: typeof body.name === 'string' && body.name ? body.name.slice(0, MAX_NAME_LENGTH) : body.id }
                : null;
        } else {
            return;                                               // not a record of ours: ignored
        }
        if (this.synced) { this.evaluate(); }
    }

    /** Applies the rule to the last record received. */
    private evaluate(): void {
        const record = this.record;
        if (this.role === 'holder') {
            if (record && record.id !== this.id) { this.stepDown(record); return; }
            // Missing (a broker restarted without its retained messages, or someone cleared it): write it again now.
            // Our own renewal coming back changes nothing.
            if (!record) { this.renew(); }
            return;
        }
        if (record && record.id === this.id) {
            // Our claim is the last record: it wins unless a later one arrives within settleMs. (Also a record of
            // ours still retained from before an outage: nobody claimed since.)
            this.role = 'claiming';
            this.myEpoch = record.epoch;
            if (this.expiryTimer) { clearTimeout(this.expiryTimer); this.expiryTimer = null; }
            this.startSettle();
            return;
        }
        if (!record) {
            // Free. (Also while claiming: a release that came after our claim must not leave us waiting.)
            this.claim();
            return;
        }
        // Another holder wrote last: wait for it to stop renewing.
        if (this.settleTimer) { clearTimeout(this.settleTimer); this.settleTimer = null; }
        this.role = 'standby';
        this.previousHolder = record.name;
        this.decide({ hold: false, holder: record.name, why: 'held' });
        if (this.expiryTimer) { clearTimeout(this.expiryTimer); }
        this.expiryTimer = setTimeout(() => this.guard(() => {
            this.expiryTimer = null;
            if (this.role !== 'standby' || !this.synced || this.record !== record) { return; }
            this.logger.log(`HA lease: holder ${record.name} did not renew for ${this.timings.expiryMs} ms; claiming`);
            this.record = null;
            this.evaluate();
        }), this.timings.expiryMs);
    }

    private claim(): void {
        const client = this.client;
        if (!client || !this.synced) { return; }
        if (this.expiryTimer) { clearTimeout(this.expiryTimer); this.expiryTimer = null; }
        this.role = 'claiming';
        this.myEpoch = this.maxEpoch + 1;
        client.publish(this.topics.holder, this.recordPayload(), { qos: 1, retain: true });
        // The decision follows when our own record comes back (evaluate -> startSettle).
    }

    private startSettle(): void {
        if (this.settleTimer) { return; }
        this.settleTimer = setTimeout(() => this.guard(() => {
            this.settleTimer = null;
            if (this.role !== 'claiming' || !this.synced || this.record?.id !== this.id) { return; }
            this.role = 'holder';
            // The claim itself came back through the broker just now: that counts as the first renewal.
            this.lastAckedSentAt = Date.now() - this.timings.settleMs;
            this.logger.log(`HA lease: this instance (${this.name}) holds the PrintFactory connection` +
                (this.previousHolder ? ` (after ${this.previousHolder})` : ''));
            this.decide({ hold: true, previousHolder: this.previousHolder });
            this.renew();
        }), this.timings.settleMs);
    }

    /** Holder: publish the record now and again every renewMs; each acknowledged one pushes the step-down back. */
    private renew(): void {
        const client = this.client;
        if (this.renewTimer) { clearTimeout(this.renewTimer); this.renewTimer = null; }
        if (this.role !== 'holder') { return; }
        if (!this.stepDownTimer) { this.armStepDown(this.lastAckedSentAt); }
        // A holder that was frozen (a paused VM, a stalled event loop) past its deadline must not write its record
        // over a successor's: its overdue step-down comes first.
        if (Date.now() - this.lastAckedSentAt >= this.timings.stepDownMs) { this.stepDown(null); return; }
        if (client?.connected) {
            const sentAt = Date.now();
            client.publish(this.topics.holder, this.recordPayload(), { qos: 1, retain: true }, (err) => this.guard(() => {
                if (!err && this.role === 'holder' && this.client === client) {
                    this.lastAckedSentAt = Math.max(this.lastAckedSentAt, sentAt);
                    this.armStepDown(this.lastAckedSentAt);
                }
            }));
        }
        this.renewTimer = setTimeout(() => this.guard(() => { this.renewTimer = null; this.renew(); }), this.timings.renewMs);
    }

    /** The step-down fires stepDownMs after the sending of the last renewal the broker acknowledged. */
    private armStepDown(sentAt: number): void {
        if (this.stepDownTimer) { clearTimeout(this.stepDownTimer); }
        const delay = Math.max(0, sentAt + this.timings.stepDownMs - Date.now());
        this.stepDownTimer = setTimeout(() => this.guard(() => {
            this.stepDownTimer = null;
            if (this.role !== 'holder') { return; }
            this.logger.warn(`HA lease: could not renew the lease on ${this.brokerUrl} for ${this.timings.stepDownMs} ms; ` +
                'closing the PrintFactory connection so that no two instances hold it');
            this.stepDown(null);
        }), delay);
    }

    private stepDown(newHolder: HolderRecord | null): void {
        if (this.renewTimer) { clearTimeout(this.renewTimer); this.renewTimer = null; }
        if (this.stepDownTimer) { clearTimeout(this.stepDownTimer); this.stepDownTimer = null; }
        if (newHolder) {
            this.logger.log(`HA lease: ${newHolder.name} took the lease over; closing the PrintFactory connection`);
            this.role = 'standby';
            this.evaluate();
        } else {
            this.role = 'joining';
            this.decide({ hold: false, holder: null, why: 'brokerDown' });
            // Still connected to the broker but unable to renew: read the record afresh before anything else.
            if (this.client?.connected) { this.synced = false; this.onConnect(this.client); }
        }
    }

    private recordPayload(): string {
        return JSON.stringify({
            v: RECORD_VERSION, id: this.id, name: this.name, epoch: this.myEpoch, renewedAt: new Date().toISOString(), takeoverMs: this.timings.takeoverMs
        });
    }
}
