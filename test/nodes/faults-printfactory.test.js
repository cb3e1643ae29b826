'use strict';
// Fault and bad-input cases of the PrintFactory side (printfactory-config + printfactory-notification)
// against the PrintFactory simulator over real loopback sockets, one table row per case
// (docs/faults.md lists them). Every row asserts what users care about: the status tells
// the truth, every notification the server sent while connected arrives exactly once, the
// runtime keeps working, and the MisKey never appears in a log line, msg or status.
const http = require('http');
const crypto = require('crypto');
const assert = require('assert');
const { EventEmitter } = require('events');
const WebSocket = require('ws');
const helper = require('node-red-node-test-helper');
const configNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const notificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const { PrintFactorySimulator, freshExample } = require('../../dist/simulators/printfactory');
const { connectionHolding } = require('../../dist/nodes/lib/printfactory/connection');
const { helperServerLeavesNothing } = require('../lib/resources');
const { sleep, waitFor } = require('../lib/wait');

helper.init(require.resolve('node-red'));

const STATUS = (key) => `printfactory-notification.status.${key}`;

// Short timings so faults resolve in a test's time: heartbeat 200 ms, handshake timeout 300 ms,
// backoff 50..200 ms. Auth retries stay slow (the point of that case).
const FAST = { pingInterval: 0.2, handshakeTimeout: 0.3, reconnectMin: 0.05, reconnectMax: 0.2, stableAfter: 60, authRetry: 300 };

let keyCounter = 0;
const usedKeys = [];
function newMisKey() {
    const key = `faults-mis-key-${process.pid}-${++keyCounter}-secret`;
    usedKeys.push(key);
    return key;
}

function statusesOf(node) {
    return node.status.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0]);
}
function lastStatus(node) {
    const all = statusesOf(node);
    return all[all.length - 1] || {};
}

/** Starts a simulator; `port` reuses a port (server restart). */
async function startSim(misKeys, port = 0) {
    const sim = new PrintFactorySimulator({ port, host: '127.0.0.1', misKeys });
    await sim.start();
    const events = { connections: 0, rejected: [] };
    sim.on('connection', () => { events.connections += 1; });
    sim.on('rejected', (reason) => events.rejected.push(reason));
    sim.events = events;
    return sim;
}

const { freePort } = require('../lib/ports');

/** Deploys config + notification node; resolves with handles to the nodes and the msgs that came out. */
async function deploy({ url, misKey, timings = FAST, extraNodes = [], extraCredentials = {} }) {
    const flow = [
        { id: 'pf', type: 'printfactory-config', name: 'acct', url, ...timings },
        { id: 'notify', type: 'printfactory-notification', name: '', account: 'pf', events: [], wires: [['out']] },
        { id: 'out', type: 'helper' },
        ...extraNodes
    ];
    await helper.load([configNode, notificationNode], flow, { pf: { misKey }, ...extraCredentials });
    const msgs = [];
    const outbox = new EventEmitter();
    helper.getNode('out').on('input', (m) => { msgs.push(m); outbox.emit('msg', m); });
    return { node: helper.getNode('notify'), msgs, outbox };
}

function guidsOf(msgs) {
    return msgs.map((m) => m.payload && (m.payload.JobGUID || m.payload.DeviceGUID)).filter(Boolean);
}

/** Sends `count` documented notifications with fresh GUIDs; returns the GUIDs sent. */
function sendBatch(sim, count) {
    const names = ['jobCreated', 'jobUpdated', 'deviceStatus', 'jobReprint', 'nesterJobCreated'];
    const sent = [];
    for (let i = 0; i < count; i++) {
        const payload = freshExample(names[i % names.length]);
        // The simulator keeps one realistic device GUID; a unique one lets each event be traced.
        if (payload.DeviceGUID) { payload.DeviceGUID = crypto.randomUUID(); }
        sent.push(payload.JobGUID || payload.DeviceGUID);
        assert.strictEqual(sim.broadcast(payload), 1, 'the simulator has exactly one client');
    }
    return sent;
}

async function expectDelivered(ctx, sent) {
    await waitFor(() => sent.every((g) => guidsOf(ctx.msgs).includes(g)), `${sent.length} notifications delivered`);
}

function assertExactlyOnce(ctx, sent) {
    const got = guidsOf(ctx.msgs);
    for (const g of sent) {
        assert.strictEqual(got.filter((x) => x === g).length, 1, `notification ${g} delivered exactly once`);
    }
}

async function connected(ctx) {
    await waitFor(() => lastStatus(ctx.node).fill === 'green', 'green connected status');
}

/** Once connected (green), three fresh notifications arrive; returns their GUIDs. */
async function deliversAgain(ctx) {
    await connected(ctx);
    const sent = sendBatch(ctx.sim, 3);
    await expectDelivered(ctx, sent);
    return sent;
}

// ------------------------------------------------------------------------------------------
// Connection faults

const CONNECTION_CASES = [
    {
        name: 'server restart',
        outcome: 'yellow "reconnecting", then green; every event sent while connected arrives once',
        async run(ctx) {
            const first = sendBatch(ctx.sim, 5);
            await expectDelivered(ctx, first);
            const port = ctx.sim.port;
            await ctx.sim.stop();
            await waitFor(() => lastStatus(ctx.node).text === STATUS('reconnecting'), 'reconnecting status');
            ctx.sim = await startSim([ctx.misKey], port);
            await waitFor(() => ctx.sim.connectionCount === 1, 'reconnect after restart');
            await connected(ctx);
            const second = sendBatch(ctx.sim, 5);
            await expectDelivered(ctx, second);
            assertExactlyOnce(ctx, [...first, ...second]);
        }
    },
    {
        name: 'drop every N messages (N = 20, 5 drops)',
        outcome: 'reconnects after each drop with backoff; 100 of 100 events, none twice',
        async run(ctx) {
            const all = [];
            for (let round = 0; round < 5; round++) {
                const before = ctx.sim.events.connections;
                const sent = sendBatch(ctx.sim, 20);
                all.push(...sent);
                await expectDelivered(ctx, sent);
                ctx.sim.dropAll();
                await waitFor(() => ctx.sim.events.connections > before && ctx.sim.connectionCount === 1, `reconnect ${round + 1}`);
                await connected(ctx);
            }
            assertExactlyOnce(ctx, all);
            assert.strictEqual(ctx.msgs.length, 100);
        }
    },
    {
        name: 'half-open socket (server stops answering pings)',
        outcome: 'no pong within the heartbeat: terminate, yellow "reconnecting", then green again',
        async run(ctx) {
            const before = ctx.sim.events.connections;
            ctx.sim.setAnswerPings(false);
            await waitFor(() => lastStatus(ctx.node).text === STATUS('reconnecting'), 'heartbeat detects the dead socket', 3000);
            ctx.sim.setAnswerPings(true);
            await waitFor(() => ctx.sim.events.connections > before && ctx.sim.connectionCount === 1, 'a new connection');
            const sent = await deliversAgain(ctx);
            assertExactlyOnce(ctx, sent);
        }
    },
    {
        name: 'handshake that never completes',
        outcome: 'handshake timeout, yellow "reconnecting" (never green while hung); connects once the server answers',
        hangHandshake: true,
        async run(ctx) {
            await waitFor(() => statusesOf(ctx.node).filter((s) => s.text === STATUS('reconnecting')).length >= 2, 'handshake timeouts', 4000);
            assert.ok(!statusesOf(ctx.node).some((s) => s.fill === 'green'), 'never green while the handshake hangs');
            assert.strictEqual(ctx.sim.connectionCount, 0);
            ctx.sim.setHangHandshake(false);
            await waitFor(() => ctx.sim.connectionCount === 1, 'connects once the server answers', 4000);
            await deliversAgain(ctx);
        }
    },
    {
        name: '403 at handshake (MisKey not accepted)',
        outcome: 'red "auth failed (HTTP 403)"; one attempt, next only after authRetry (no tight loop)',
        simKeys: () => ['some-other-organisation'],
        skipConnect: true,
        async run(ctx) {
            await waitFor(() => lastStatus(ctx.node).text === STATUS('authFailed'), 'auth failed status');
            assert.strictEqual(lastStatus(ctx.node).fill, 'red');
            // a duration: exactly one attempt in one second.
            await sleep(1000);
            assert.strictEqual(ctx.sim.events.rejected.length, 1, 'exactly one attempt in a second');
            assert.ok(helper.log().getCalls().some((c) => /refused the MisKey \(HTTP 403\)/.test(JSON.stringify(c.args))), 'a warning says why');
        }
    },
    {
        name: '401 at handshake (server answers 401 to the upgrade)',
        outcome: 'red "auth failed (HTTP 401)"; one attempt, no tight loop',
        custom401: true,
        skipConnect: true,
        async run(ctx) {
            await waitFor(() => lastStatus(ctx.node).text === STATUS('authFailed'), 'auth failed status');
            // a duration: exactly one attempt in one second.
            await sleep(1000);
            assert.strictEqual(ctx.upgrades(), 1, 'exactly one attempt in a second');
        }
    },
    {
        name: 'second connection for the same MisKey from another config node with other settings (not a twin)',
        outcome: 'only one socket at the server; the second node shows red "MisKey already connected" and a warning',
        extra: (misKey) => ({
            extraNodes: [
                { id: 'pf2', type: 'printfactory-config', name: 'same account again', url: '', ...FAST, stableAfter: 61 },
                { id: 'notify2', type: 'printfactory-notification', name: '', account: 'pf2', events: [], wires: [['out']] }
            ],
            extraCredentials: { pf2: { misKey } }
        }),
        skipConnect: true,
        async run(ctx) {
            const second = helper.getNode('notify2');
            await waitFor(() => lastStatus(second).text === STATUS('duplicate') || lastStatus(ctx.node).text === STATUS('duplicate'), 'duplicate status');
            // a duration: the duplicate never connects within 300 ms.
            await sleep(300);
            assert.strictEqual(ctx.sim.connectionCount, 1);
            assert.deepStrictEqual(ctx.sim.events.rejected, [], 'the duplicate never even tried the server');
            assert.ok(helper.log().getCalls().some((c) => /same MisKey/.test(JSON.stringify(c.args))), 'a warning says why');
        }
    },
    {
        name: 'second connection for the same MisKey from elsewhere (server answers 409)',
        outcome: 'yellow "reconnecting" with backoff while the other holds it; connects when it leaves',
        skipConnect: true,
        async before(ctx) {
            ctx.other = new WebSocket(ctx.sim.url, { headers: { MisKey: ctx.misKey } });
            await new Promise((resolve, reject) => { ctx.other.once('open', resolve); ctx.other.once('error', reject); });
        },
        async run(ctx) {
            await waitFor(() => ctx.sim.events.rejected.filter((r) => r === 'duplicate').length >= 2, 'refused as duplicate');
            // Waited for, not read once: between two refusals the status is "connecting" for the moment an attempt
            // takes, and on a loaded machine the next attempt may already be under way.
            await waitFor(() => lastStatus(ctx.node).text === STATUS('reconnecting') && lastStatus(ctx.node).fill === 'yellow', 'yellow "reconnecting" between refusals');
            const attempts = ctx.sim.events.rejected.length;
            assert.ok(attempts < 20, `backoff, not a tight loop (${attempts} attempts)`);
            await new Promise((resolve) => { ctx.other.once('close', resolve); ctx.other.close(); });
            await waitFor(() => ctx.sim.connectionCount === 1 && lastStatus(ctx.node).fill === 'green', 'connects after the other left');
            await deliversAgain(ctx);
        }
    },
    {
        name: 'connection refused',
        outcome: 'yellow "reconnecting" with growing backoff; connects when the server appears',
        refused: true,
        skipConnect: true,
        async run(ctx) {
            await waitFor(() => lastStatus(ctx.node).text === STATUS('reconnecting'), 'reconnecting status');
            assert.ok(helper.log().getCalls().some((c) => /ECONNREFUSED/.test(JSON.stringify(c.args))), 'the warning names ECONNREFUSED');
            ctx.sim = await startSim([ctx.misKey], ctx.port);
            await waitFor(() => ctx.sim.connectionCount === 1, 'connects when the server appears', 3000);
            await deliversAgain(ctx);
        }
    },
    {
        name: 'DNS failure (unresolvable host)',
        outcome: 'yellow "reconnecting"; warning names the lookup error; no crash',
        url: 'ws://printfactory-sim.invalid:27489',
        skipConnect: true,
        async run(ctx) {
            await waitFor(() => lastStatus(ctx.node).text === STATUS('reconnecting'), 'reconnecting status');
            assert.ok(helper.log().getCalls().some((c) => /ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(JSON.stringify(c.args))), 'the warning names the DNS error');
        }
    }
];

// ------------------------------------------------------------------------------------------
// Bad frames: each is followed by a valid notification, which must still arrive exactly once.

const FIVE_MB_FRAME = JSON.stringify({ JobGUID: 'five-mb', Status: 'Created', Padding: 'x'.repeat(5 * 1024 * 1024) });
const BAD_FRAMES = [
    { name: 'non-JSON text', send: (sim) => sim.sendGarbage('text'), dropped: 'notJson' },
    { name: 'binary frame', send: (sim) => sim.sendGarbage('binary'), dropped: 'binary' },
    { name: '5 MB frame', send: (sim) => sim.broadcast(FIVE_MB_FRAME), dropped: 'tooLarge' },
    { name: 'deeply nested JSON (5,000 levels)', send: (sim) => sim.sendGarbage('deep'), dropped: 'tooDeep' },
    // Node-RED's cloneMessage would make the key the prototype of the msg clones on a second wire.
    { name: 'JSON with a "__proto__" key', send: (sim) => sim.broadcast('{"JobGUID":"p","Status":"Created","__proto__":{"Status":"Deleted"}}'), dropped: 'protoKey' },
    { name: 'JSON with an escaped "\\u005f_proto__" key, nested', send: (sim) => sim.broadcast('{"JobGUID":"p","Job":{"\\u005f_proto__":{"x":1}}}'), dropped: 'protoKey' },
    // Valid JSON of no documented shape is delivered as event "unknown", so new vendor events are never lost.
    // A top-level array is a list of notifications: one msg per element.
    { name: 'a JSON array of a notification and two numbers', send: (sim) => sim.sendGarbage('array'), delivered: ['job.updated', 'unknown', 'unknown'] },
    { name: 'JSON that is not an object (a number)', send: (sim) => sim.broadcast('42'), delivered: ['unknown'] },
    { name: 'JSON null', send: (sim) => sim.broadcast('null'), delivered: ['unknown'] },
    // Keep-alives on the data channel are no notifications and no bad frames.
    { name: 'the text keep-alive "ping"', send: (sim) => sim.broadcast('ping'), delivered: [] },
    { name: 'an empty text frame', send: (sim) => sim.broadcast(''), delivered: [] },
    { name: 'a whitespace-only text frame', send: (sim) => sim.broadcast(' \r\n'), delivered: [] }
];

describe('faults: PrintFactory', function () {
    this.timeout(20000);
    helperServerLeavesNothing(helper, () => {
        for (const key of usedKeys) {
            assert.strictEqual(connectionHolding(key), undefined, 'no connection still holds a MisKey after close');
        }
    });

    function assertNoSecret(ctx) {
        for (const call of helper.log().getCalls()) {
            assert.ok(!JSON.stringify(call.args).includes(ctx.misKey), `MisKey in a log line: ${JSON.stringify(call.args).slice(0, 200)}`);
        }
        for (const m of ctx.msgs) { assert.ok(!JSON.stringify(m).includes(ctx.misKey), 'MisKey in a msg'); }
        for (const s of statusesOf(ctx.node)) { assert.ok(!JSON.stringify(s).includes(ctx.misKey), 'MisKey in a status'); }
    }

    describe('connection faults', function () {
        for (const c of CONNECTION_CASES) {
            it(`${c.name}: ${c.outcome}`, async function () {
                const ctx = { misKey: newMisKey() };
                let raw401;
                let upgrades = 0;
                try {
                    let url = c.url;
                    if (c.custom401) {
                        raw401 = http.createServer((_req, res) => { res.statusCode = 426; res.end(); });
                        raw401.on('upgrade', (_req, socket) => {
                            upgrades += 1;
                            socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
                        });
                        await new Promise((resolve) => raw401.listen(0, '127.0.0.1', resolve));
                        url = `ws://127.0.0.1:${raw401.address().port}`;
                        ctx.upgrades = () => upgrades;
                    } else if (c.refused) {
                        ctx.port = await freePort();
                        url = `ws://127.0.0.1:${ctx.port}`;
                    } else if (!url) {
                        ctx.sim = await startSim(c.simKeys ? c.simKeys() : [ctx.misKey]);
                        if (c.hangHandshake) { ctx.sim.setHangHandshake(true); }
                        url = ctx.sim.url;
                    }
                    if (c.before) { await c.before(ctx); }
                    const extra = c.extra ? c.extra(ctx.misKey) : {};
                    for (const n of extra.extraNodes || []) { if (n.type === 'printfactory-config') { n.url = url; } }
                    Object.assign(ctx, await deploy({ url, misKey: ctx.misKey, ...extra }));
                    if (!c.skipConnect && !c.hangHandshake) {
                        await waitFor(() => ctx.sim.connectionCount === 1, 'first connection');
                        await connected(ctx);
                    }
                    await c.run(ctx);
                    assertNoSecret(ctx);
                } finally {
                    await helper.unload();
                    if (ctx.other) { ctx.other.terminate(); }
                    if (ctx.sim) { await ctx.sim.stop(); }
                    if (raw401) { await new Promise((resolve) => raw401.close(resolve)); }
                }
            });
        }
    });

    describe('bad frames', function () {
        let ctx;
        before(async function () {
            ctx = { misKey: newMisKey() };
            ctx.sim = await startSim([ctx.misKey]);
            Object.assign(ctx, await deploy({ url: ctx.sim.url, misKey: ctx.misKey }));
            await waitFor(() => ctx.sim.connectionCount === 1, 'first connection');
            await connected(ctx);
        });
        after(async function () {
            await helper.unload();
            await ctx.sim.stop();
        });

        for (const f of BAD_FRAMES) {
            const outcome = f.dropped ? `dropped (${f.dropped}) with a warning and a status note`
                : f.delivered.length === 0 ? 'ignored quietly (no msg, no bad-frame note)' : `delivered as ${f.delivered.join(', ')}`;
            it(`${f.name}: ${outcome}; the socket stays open and the next event arrives once`, async function () {
                const connectionsBefore = ctx.sim.events.connections;
                const msgsBefore = ctx.msgs.length;
                const statusesBefore = statusesOf(ctx.node).length;
                f.send(ctx.sim);
                const sent = sendBatch(ctx.sim, 1);
                await expectDelivered(ctx, sent);
                assertExactlyOnce(ctx, sent);
                const newMsgs = ctx.msgs.slice(msgsBefore);
                if (f.dropped) {
                    assert.strictEqual(newMsgs.length, 1, 'the bad frame produced no msg');
                    const notes = statusesOf(ctx.node).slice(statusesBefore);
                    assert.ok(notes.some((s) => s.text === STATUS('badFrame') || s.text === STATUS('connectedDropped')),
                        `status notes the dropped frame: ${JSON.stringify(notes)}`);
                } else {
                    assert.deepStrictEqual(newMsgs.slice(0, -1).map((m) => m.event), f.delivered, 'the frame\'s msgs, then the next event');
                    const notes = statusesOf(ctx.node).slice(statusesBefore);
                    assert.ok(!notes.some((s) => s.text === STATUS('badFrame')), `no bad-frame note: ${JSON.stringify(notes)}`);
                }
                assert.strictEqual(ctx.sim.connectionCount, 1);
                assert.strictEqual(ctx.sim.events.connections, connectionsBefore, 'no reconnect was needed');
                assert.strictEqual(lastStatus(ctx.node).fill, 'green');
                assertNoSecret(ctx);
            });
        }

        it('a storm of 1,000 bad frames: one warning (rate-limited), events keep flowing', async function () {
            const warningsBefore = helper.log().getCalls().filter((c) => /dropped/.test(JSON.stringify(c.args))).length;
            for (let i = 0; i < 1000; i++) { ctx.sim.sendGarbage(i % 2 ? 'text' : 'binary'); }
            const sent = sendBatch(ctx.sim, 10);
            await expectDelivered(ctx, sent);
            assertExactlyOnce(ctx, sent);
            const warnings = helper.log().getCalls().filter((c) => /dropped/.test(JSON.stringify(c.args))).length - warningsBefore;
            assert.ok(warnings <= 2, `bad-frame warnings are rate-limited (${warnings})`);
        });
    });
});

