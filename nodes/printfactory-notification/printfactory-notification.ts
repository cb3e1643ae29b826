// printfactory-notification: emits one msg per PrintFactory Cloud notification received on the
// account's shared WebSocket, classified into an event name (../lib/printfactory/classify.ts).
// With `connectionEvents` it also emits connection.up / connection.down, because PrintFactory keeps
// no history: a flow must learn when it may have missed notifications.
import type { NodeAPI, Node, NodeDef, NodeMessage } from 'node-red';
import { isPrintFactoryEvent } from '../lib/printfactory/classify';
import { RateLimitedLog } from '../lib/rate-limited-log';
import type { BadFrameReason, ConnectionStatus, ConnectionUser, DisconnectCause, Notification } from '../lib/printfactory/connection';
import type { Problem } from '../lib/printfactory/problems';
import { nodeStatus } from '../lib/status';

interface NotificationDef extends NodeDef {
    account: string;
    events?: unknown;
    connectionEvents?: boolean | string;
}

interface AccountNode extends Node {
    register(user: ConnectionUser): void;
    deregister(user: ConnectionUser): Promise<void>;
    /** The cause of a reconnect in words, from printfactory-config's catalogue (shared with its Test connection). */
    problemText?(problem: Problem): string;
}

// Status updates go to every open editor: at most one per second while messages stream in.
const STATUS_THROTTLE_MS = 1000;
// A filtered node says what it left out as `unknown`: one warning at once, then at most one a minute with a count.
const UNKNOWN_LOG_INTERVAL_MS = 60000;

/** What an unknown notification looks like, for the log: its key names (never values), or its JSON type. */
function shapeOf(payload: unknown): string {
    if (Array.isArray(payload)) { return 'a JSON array'; }
    if (payload === null) { return 'JSON null'; }
    if (typeof payload !== 'object') { return `a JSON ${typeof payload}`; }
    const keys = Object.keys(payload as object);
    if (keys.length === 0) { return 'an empty object'; }
    const shown = keys.slice(0, 12).map((k) => JSON.stringify(k.length > 40 ? k.slice(0, 40) + '…' : k));
    return `an object with keys ${shown.join(', ')}${keys.length > shown.length ? ` and ${keys.length - shown.length} more` : ''}`;
}

/** connection.down reasons: short, stable English (flows switch on them), whatever the editor language. */
const DOWN_REASONS: Record<DisconnectCause, string> = {
    serverClosed: 'server closed',
    heartbeatMissed: 'heartbeat missed',
    networkError: 'network error',
    frameTooLarge: 'frame too large',
    unreachable: 'unreachable',
    handshakeTimeout: 'handshake timeout',
    refused: 'refused by server',
    displaced: 'displaced by another connection'
};

/** The connection.down payload for a status that means "not connected", or null for connected/transitional ones. */
function downPayload(status: ConnectionStatus): { state: 'disconnected'; reason: string; detail: string } | null {
    const down = (reason: string, detail: string) => ({ state: 'disconnected' as const, reason, detail });
    switch (status.state) {
        case 'reconnecting': return down(DOWN_REASONS[status.cause] ?? 'error', status.reason);
        case 'authFailed': return down('auth failed', `HTTP ${status.statusCode}`);
        case 'duplicate': return down('MisKey in use', `another printfactory-config node (${status.holder}) holds this MisKey`);
        // The HA lease: another instance receives the notifications now ('joining' is transitional, like connecting).
        case 'standby':
            if (status.why === 'held') { return down('standby', `instance ${status.holder} holds the PrintFactory connection`); }
            return status.why === 'brokerDown' ? down('HA broker unreachable', 'the HA lease cannot be renewed or read') : null;
        case 'error':
            if (status.reason === 'badUrl') { return down('invalid URL', 'the URL must start with ws:// or wss://'); }
            if (status.reason === 'noMisKey') { return down('no MisKey', 'the account has no MisKey'); }
            return down('error', status.reason);
        default: return null;
    }
}

/** The configured event filter as a Set, or null for "every event". Unknown names are reported. */
function eventFilter(raw: unknown, warn: (text: string) => void): Set<string> | null {
    let list: unknown[] = [];
    if (Array.isArray(raw)) {
        list = raw;
    } else if (typeof raw === 'string' && raw.trim() !== '') {
        list = raw.split(/[\s,]+/);
    }
    const names = list.map((v) => String(v).trim()).filter((v) => v !== '');
    const unknown = names.filter((n) => !isPrintFactoryEvent(n));
    if (unknown.length > 0) { warn(`ignoring unknown event name(s) in the filter: ${unknown.join(', ')}`); }
    const known = names.filter((n) => isPrintFactoryEvent(n));
    return known.length > 0 ? new Set(known) : null;
}

export = function (RED: NodeAPI): void {
    function PrintFactoryNotification(this: Node, config: NotificationDef) {
        RED.nodes.createNode(this, config);
        const node = this;
        const filter = eventFilter(config.events, (text) => node.warn(text));
        const connectionEvents = config.connectionEvents === true || config.connectionEvents === 'true';
        const account = RED.nodes.getNode(config.account) as AccountNode | null;
        const t = nodeStatus(RED, node, 'printfactory-notification').text;

        let received = 0;
        let dropped = 0;
        // Notifications of no known shape that the event filter left out (they are never silently lost).
        let leftOut = 0;
        const unknownLog = new RateLimitedLog((text) => node.warn(text), UNKNOWN_LOG_INTERVAL_MS,
            (count, secs) => `left out ${count} more notifications of unknown shape in the last ${secs} s ` +
                '(tick "unknown" in the events to receive them)');
        let connected = false;
        let statusTimer: NodeJS.Timeout | null = null;
        let statusDirty = false;
        // Connection events: `up` is null until the first state is known, so the first one is always reported.
        let up: boolean | null = null;
        let closing = false;
        // Events arising inside the constructor (register() reports the current state at once) wait until the
        // flow has created the nodes they are wired to; anything later flushes them first, keeping the order.
        let constructing = true;
        const pending: NodeMessage[] = [];
        let pendingFlush: NodeJS.Immediate | null = null;

        function flushPending(): void {
            if (pendingFlush) { clearImmediate(pendingFlush); pendingFlush = null; }
            while (pending.length > 0) { node.send(pending.shift() as NodeMessage); }
        }

        function emitConnectionEvent(event: 'connection.up' | 'connection.down', payload: object): void {
            const msg = { payload, topic: event, event, receivedAt: new Date().toISOString() } as NodeMessage;
            if (constructing) { pending.push(msg); return; }
            flushPending();
            node.send(msg);
        }

        function connectionChanged(status: ConnectionStatus): void {
            if (!connectionEvents || closing) { return; }
            if (status.state === 'connected') {
                if (up === true) { return; }
                up = true;
                const disconnectedAt = status.disconnectedAt;
                emitConnectionEvent('connection.up', {
                    state: 'connected',
                    downtimeMs: disconnectedAt === null ? null : Math.max(0, Date.now() - disconnectedAt),
                    disconnectedAt: disconnectedAt === null ? null : new Date(disconnectedAt).toISOString(),
                    // The HA lease moved to this instance: it cannot know how long the previous holder was gone.
                    ...(status.tookOver ? { holderChanged: true, previousHolder: status.tookOver.previousHolder } : {})
                });
                return;
            }
            const down = downPayload(status);
            // One connection.down per outage: retries that fail again change the status dot, not the flow.
            if (!down || up === false) { return; }
            up = false;
            emitConnectionEvent('connection.down', down);
        }

        function showConnected(): void {
            statusDirty = false;
            const key = 'connected' + (dropped > 0 ? 'Dropped' : '') + (leftOut > 0 ? 'Unknown' : '');
            node.status({ fill: 'green', shape: 'dot', text: t(key, { count: received, dropped, unknown: leftOut }) });
        }

        // Leading edge at once, then at most once per STATUS_THROTTLE_MS.
        function countChanged(): void {
            if (!connected) { return; }
            if (statusTimer) { statusDirty = true; return; }
            showConnected();
            statusTimer = setTimeout(function flush() {
                statusTimer = null;
                if (statusDirty && connected) { showConnected(); }
            }, STATUS_THROTTLE_MS);
        }

        function showStatus(status: ConnectionStatus): void {
            connectionChanged(status);
            connected = status.state === 'connected';
            switch (status.state) {
                case 'connected': showConnected(); break;
                case 'connecting': node.status({ fill: 'yellow', shape: 'ring', text: t('connecting') }); break;
                case 'reconnecting': {
                    // The cause in words (409, TLS, DNS, rate limit, displaced ...), not only the retry time.
                    const cause = account && typeof account.problemText === 'function' && status.problem ? account.problemText(status.problem) : status.reason;
                    node.status({ fill: 'yellow', shape: 'ring', text: t('reconnecting', { cause, seconds: Math.max(1, Math.round(status.retryInMs / 1000)) }) });
                    break;
                }
                case 'authFailed':
                    node.status({ fill: 'red', shape: 'ring', text: t('authFailed', { code: status.statusCode, seconds: Math.round(status.retryInMs / 1000) }) });
                    break;
                case 'duplicate': node.status({ fill: 'red', shape: 'ring', text: t('duplicate') }); break;
                case 'standby':
                    node.status({ fill: 'grey', shape: 'ring', text: status.why === 'held' ? t('standby', { holder: status.holder ?? '?' }) : t(status.why === 'joining' ? 'standbyJoining' : 'standbyBrokerDown') });
                    break;
                case 'error': node.status({ fill: 'red', shape: 'ring', text: t(status.reason === 'badUrl' || status.reason === 'noMisKey' ? status.reason : 'error', { reason: status.reason }) }); break;
                default: node.status({ fill: 'grey', shape: 'ring', text: t('idle') });
            }
        }

        const user: ConnectionUser = {
            onNotification(n: Notification): void {
                if (filter && !filter.has(n.event)) {
                    // A shape the classifier does not know may be a new vendor event: say so, never drop it silently.
                    if (n.event === 'unknown') {
                        leftOut += 1;
                        unknownLog.log(`left out a notification of unknown shape (${shapeOf(n.payload)}): the event filter ` +
                            'does not pass "unknown"; tick it to receive such notifications');
                        countChanged();
                    }
                    return;
                }
                if (pending.length > 0) { flushPending(); }
                received += 1;
                const msg: NodeMessage & Record<string, unknown> = {
                    payload: n.payload,
                    topic: n.event,
                    event: n.event,
                    receivedAt: n.receivedAt
                };
                if (n.jobGuid !== undefined) { msg.jobGuid = n.jobGuid; }
                if (n.deviceGuid !== undefined) { msg.deviceGuid = n.deviceGuid; }
                node.send(msg);
                countChanged();
            },
            onStatus: showStatus,
            onBadFrame(reason: BadFrameReason): void {
                dropped += 1;
                if (connected) {
                    node.status({ fill: 'green', shape: 'dot', text: t('badFrame', { reason: RED._(`printfactory-notification.badFrame.${reason}`), count: received, dropped }) });
                }
            }
        };

        if (!account || typeof account.register !== 'function') {
            node.status({ fill: 'red', shape: 'ring', text: t('noAccount') });
            node.warn(RED._('printfactory-notification.errors.noAccount'));
            node.on('close', (_removed: boolean, done: () => void) => done());
            return;
        }
        account.register(user);
        constructing = false;
        if (pending.length > 0) {
            pendingFlush = setImmediate(() => {
                pendingFlush = null;
                try { flushPending(); } catch (err) { node.error(err); }
            });
        }

        node.on('close', (_removed: boolean, done: () => void) => {
            // Our own redeploy or stop closes the socket on purpose: that is no connection.down for this node.
            closing = true;
            pending.length = 0;
            if (pendingFlush) { clearImmediate(pendingFlush); pendingFlush = null; }
            if (statusTimer) { clearTimeout(statusTimer); statusTimer = null; }
            unknownLog.dispose();
            connected = false;
            // The last user's deregister resolves once the socket is closed.
            account.deregister(user).then(() => done(), () => done());
        });
    }

    RED.nodes.registerType('printfactory-notification', PrintFactoryNotification);
};
