'use strict';
// printfactory-notification's connection events (connection.up / connection.down), driven through the
// test helper against the real PrintFactory simulator on loopback: first connection, drops, half-open
// sockets, auth failures, another client holding the organisation's connection, redeploys and stops.
const assert = require('assert');
const net = require('net');
const WebSocket = require('ws');
const helper = require('node-red-node-test-helper');
const { setFlows } = require('../lib/set-flows');
const configNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const notificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const { sleep, waitFor } = require('../lib/wait');
const { startPrintFactoryRig, stopPrintFactoryRig } = require('../lib/printfactory-helper');

helper.init(require.resolve('node-red'));

const MIS_KEY = 'connection-events-key-3b7d';
// Fast timings (seconds) so failure paths take milliseconds.
const FAST = { pingInterval: 0.1, handshakeTimeout: 0.4, reconnectMin: 0.05, reconnectMax: 0.2, stableAfter: 60, authRetry: 0.2 };
const TAB = { id: 'tab', type: 'tab', label: 'test' };
const CREDS = { cfg: { misKey: MIS_KEY } };

const config = (url, extra = {}) => ({ id: 'cfg', type: 'printfactory-config', name: 'account', url, ...FAST, ...extra });
const notification = (id, extra = {}, out = 'out') =>
    ({ id, type: 'printfactory-notification', z: 'tab', account: 'cfg', events: [], connectionEvents: true, wires: [[out]], ...extra });
const sink = (id = 'out') => ({ id, type: 'helper', z: 'tab' });

function collect(id = 'out') {
    const msgs = [];
    helper.getNode(id).on('input', (msg) => msgs.push(msg));
    return msgs;
}
const connectionMsgs = (msgs) => msgs.filter((m) => /^connection\./.test(m.topic));
const topics = (msgs) => connectionMsgs(msgs).map((m) => m.topic);
const isIso = (text) => typeof text === 'string' && text.endsWith('Z') && !Number.isNaN(Date.parse(text));

/** Records what a node sends, also while it is closing (when its wires may already be gone). */
function recordSends(id) {
    const node = helper.getNode(id);
    const sent = [];
    const send = node.send;
    node.send = function (msg) { sent.push(msg); return send.apply(this, arguments); };
    return sent;
}

describe('printfactory-notification connection events', function () {
    this.timeout(10000);
    let sim;

    beforeEach(async function () { sim = await startPrintFactoryRig(helper, [MIS_KEY]); });
    afterEach(() => stopPrintFactoryRig(helper, sim));

    async function load(flow, credentials = CREDS) {
        await helper.load([configNode, notificationNode], flow, credentials);
    }

    it('reports the first connection as connection.up with null downtime, past the event filter', async function () {
        await load([TAB, config(sim.url), notification('pf', { events: ['device.status'] }), sink()]);
        const msgs = collect();
        await waitFor(() => topics(msgs).length === 1, 'connection.up');
        const [up] = msgs;
        assert.strictEqual(up.topic, 'connection.up');
        assert.strictEqual(up.event, 'connection.up');
        assert.deepStrictEqual(up.payload, { state: 'connected', downtimeMs: null, disconnectedAt: null });
        assert.ok(isIso(up.receivedAt), 'receivedAt is an ISO time');
        // The filter still applies to notifications.
        sim.sendExample('jobCreated');
        sim.sendExample('deviceStatus');
        await waitFor(() => msgs.length === 2, 'the device.status notification');
        assert.strictEqual(msgs[1].topic, 'device.status');
    });

    it('a dropped connection gives connection.down "server closed", then connection.up with the gap', async function () {
        await load([TAB, config(sim.url), notification('pf'), sink()]);
        const msgs = collect();
        await waitFor(() => topics(msgs).length === 1, 'the first connection.up');
        sim.dropAll();
        await waitFor(() => topics(msgs).length === 3, 'connection.down and connection.up');
        const [, down, up] = connectionMsgs(msgs);
        assert.strictEqual(down.topic, 'connection.down');
        assert.strictEqual(down.event, 'connection.down');
        assert.strictEqual(down.payload.state, 'disconnected');
        assert.strictEqual(down.payload.reason, 'server closed');
        assert.match(down.payload.detail, /code \d+/);
        assert.ok(isIso(down.receivedAt));
        assert.strictEqual(up.topic, 'connection.up');
        assert.strictEqual(up.payload.state, 'connected');
        assert.ok(Number.isInteger(up.payload.downtimeMs) && up.payload.downtimeMs >= 0, `downtimeMs ${up.payload.downtimeMs}`);
        assert.ok(isIso(up.payload.disconnectedAt), 'disconnectedAt is an ISO time');
        // The missed window is disconnectedAt .. up.receivedAt and contains the down message's time.
        const lostAt = Date.parse(up.payload.disconnectedAt);
        assert.ok(lostAt <= Date.parse(down.receivedAt) && Date.parse(down.receivedAt) <= Date.parse(up.receivedAt));
        assert.ok(Date.parse(up.receivedAt) - lostAt >= up.payload.downtimeMs, 'downtimeMs lies within the window');
        sim.sendExample('jobReprint');
        await waitFor(() => msgs.some((m) => m.topic === 'job.reprint'), 'a notification after the gap');
    });

    it('a half-open socket gives connection.down "heartbeat missed"', async function () {
        await load([TAB, config(sim.url), notification('pf'), sink()]);
        const msgs = collect();
        await waitFor(() => topics(msgs).length === 1, 'connection.up');
        sim.setAnswerPings(false);
        await waitFor(() => topics(msgs).length === 2, 'connection.down');
        assert.deepStrictEqual([msgs[1].topic, msgs[1].payload.reason], ['connection.down', 'heartbeat missed']);
        assert.match(msgs[1].payload.detail, /no pong/);
        sim.setAnswerPings(true);
        await waitFor(() => topics(msgs).length === 3, 'connection.up after the heartbeat outage');
        assert.strictEqual(msgs[2].topic, 'connection.up');
        assert.ok(msgs[2].payload.downtimeMs >= 0);
    });

    it('a frame above the 16 MB limit gives connection.down "frame too large"', async function () {
        // Building and sending 17 MB stalls this process (the simulator runs in it) for longer than FAST's 0.1 s
        // heartbeat on a loaded machine: a slow heartbeat keeps the test about the frame's size.
        await load([TAB, config(sim.url, { pingInterval: 30 }), notification('pf'), sink()]);
        const msgs = collect();
        await waitFor(() => topics(msgs).length === 1, 'connection.up');
        sim.broadcast('"' + 'x'.repeat(17 * 1024 * 1024) + '"');
        await waitFor(() => topics(msgs).length === 3, 'connection.down and the reconnect');
        assert.deepStrictEqual([msgs[1].topic, msgs[1].payload.reason], ['connection.down', 'frame too large']);
        assert.strictEqual(msgs[2].topic, 'connection.up');
    });

    it('a refused MisKey gives one connection.down "auth failed", however often the retry fails', async function () {
        const rejected = [];
        sim.on('rejected', (reason) => rejected.push(reason));
        await load([TAB, config(sim.url), notification('pf'), sink()], { cfg: { misKey: 'not-the-key' } });
        const msgs = collect();
        await waitFor(() => rejected.length >= 3, 'three refused attempts');
        assert.deepStrictEqual(topics(msgs), ['connection.down']);
        assert.deepStrictEqual(msgs[0].payload, { state: 'disconnected', reason: 'auth failed', detail: 'HTTP 403' });
    });

    it('another client holding the organisation\'s connection: "refused by server", then a first connection.up', async function () {
        const other = new WebSocket(sim.url, { headers: { MisKey: MIS_KEY } });
        await new Promise((resolve, reject) => { other.once('open', resolve); other.once('error', reject); });
        await load([TAB, config(sim.url), notification('pf'), sink()]);
        const msgs = collect();
        await waitFor(() => topics(msgs).length === 1, 'connection.down');
        assert.strictEqual(msgs[0].payload.reason, 'refused by server');
        assert.match(msgs[0].payload.detail, /409/);
        other.close();
        await waitFor(() => topics(msgs).length === 2, 'connection.up once the other client left');
        // This node never had the connection: nothing can be said about a gap.
        assert.deepStrictEqual(msgs[1].payload, { state: 'connected', downtimeMs: null, disconnectedAt: null });
    });

    it('a node without the option sends neither event, next to one with it', async function () {
        await load([TAB, config(sim.url), notification('with', {}, 'outWith'), notification('without', { connectionEvents: false }, 'outWithout'),
            sink('outWith'), sink('outWithout')]);
        const withEvents = collect('outWith');
        const without = collect('outWithout');
        await waitFor(() => topics(withEvents).length === 1, 'connection.up on the node with the option');
        sim.dropAll();
        await waitFor(() => topics(withEvents).length === 3, 'down and up on the node with the option');
        sim.sendExample('jobCreated');
        await waitFor(() => without.length === 1 && withEvents.length === 4, 'the notification on both');
        assert.deepStrictEqual(without.map((m) => m.topic), ['job.created']);
        assert.strictEqual(sim.connectionCount, 1);
    });

    it('a node deployed onto an open connection reports connection.up with nulls, after its wires exist', async function () {
        const flow = [TAB, config(sim.url), notification('first', {}, 'out1'), sink('out1')];
        await load(flow);
        const first = collect('out1');
        await waitFor(() => topics(first).length === 1, 'connection.up on the first node');
        // "nodes" deploy: the connection stays open, the new node and its sink start together.
        await setFlows(helper, [...flow, notification('second', {}, 'out2'), sink('out2')], 'nodes', CREDS);
        const second = collect('out2');
        await waitFor(() => topics(second).length === 1, 'connection.up on the new node');
        assert.deepStrictEqual(second[0].payload, { state: 'connected', downtimeMs: null, disconnectedAt: null });
        assert.strictEqual(sim.peakConnections, 1);
        assert.deepStrictEqual(topics(first), ['connection.up'], 'the node that stayed saw no change');
    });

    it('a redeploy and a stop are no connection.down for the closing node', async function () {
        const flow = [TAB, config(sim.url), notification('pf'), sink()];
        await load(flow);
        let msgs = collect();
        await waitFor(() => topics(msgs).length === 1, 'connection.up');
        let sent = recordSends('pf');
        // A full redeploy closes the socket (last user and config node leave) and opens a new one.
        await setFlows(helper, [TAB, config(sim.url, { name: 'renamed' }), notification('pf'), sink()], 'full', CREDS);
        assert.deepStrictEqual(topics(sent), [], 'the closing node sent a connection event');
        msgs = collect();
        await waitFor(() => topics(msgs).length === 1, 'connection.up of the redeployed node');
        assert.deepStrictEqual(msgs[0].payload, { state: 'connected', downtimeMs: null, disconnectedAt: null });
        // Stopping the runtime closes everything on purpose too.
        sent = recordSends('pf');
        await helper.unload();
        await waitFor(() => sim.connectionCount === 0, 'the socket to close');
        // a duration: no connection event may be sent within 50 ms of the stop.
        await sleep(50);
        assert.deepStrictEqual(topics(sent), [], 'the stopping node sent a connection event');
    });

    it('a node started during an outage reports connection.down at once and the whole gap on connection.up', async function () {
        const flow = [TAB, config(sim.url), notification('first', { connectionEvents: false }, 'out1'), sink('out1')];
        await load(flow);
        await waitFor(() => sim.connectionCount === 1, 'the connection');
        // Keep the server from answering the reconnect: the outage lasts until setHangHandshake(false).
        sim.setHangHandshake(true);
        sim.dropAll();
        const connection = helper.getNode('cfg').connection;
        await waitFor(() => connection.status.state !== 'connected', 'the client to notice the drop');
        const lateDeployedAt = Date.now();
        await setFlows(helper, [...flow, notification('late', {}, 'out2'), sink('out2')], 'nodes', CREDS);
        const late = collect('out2');
        await waitFor(() => topics(late).length === 1, 'connection.down on the late node');
        assert.strictEqual(late[0].topic, 'connection.down');
        sim.setHangHandshake(false);
        await waitFor(() => topics(late).length === 2, 'connection.up on the late node', 8000);
        const up = late[1];
        const lostAt = Date.parse(up.payload.disconnectedAt);
        assert.ok(lostAt <= lateDeployedAt, 'the gap starts when the connection was lost, not when the node started');
        const backAt = lostAt + up.payload.downtimeMs;
        assert.ok(lateDeployedAt <= backAt && backAt <= Date.parse(up.receivedAt), 'downtimeMs runs from the loss to the reconnect');
    });
    describe('the reason of a connection that cannot be opened', function () {
        let closedPort;
        before(async function () {
            // A port that was just free: nothing listens there, so connecting is refused.
            const server = net.createServer();
            await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
            closedPort = server.address().port;
            await new Promise((resolve) => server.close(resolve));
        });
        const cases = [
            { reason: 'handshake timeout', detail: /handshake has timed out/i, setup: () => sim.setHangHandshake(true) },
            { reason: 'unreachable', detail: /ECONNREFUSED/, url: () => `ws://127.0.0.1:${closedPort}` },
            { reason: 'invalid URL', detail: /ws:\/\//, url: () => 'http://127.0.0.1:9' },
            { reason: 'no MisKey', detail: /no MisKey/, credentials: {} }
        ];
        for (const c of cases) {
            it(`"${c.reason}"`, async function () {
                if (c.setup) { c.setup(); }
                await load([TAB, config(c.url ? c.url() : sim.url), notification('pf'), sink()], c.credentials || CREDS);
                const msgs = collect();
                await waitFor(() => topics(msgs).length === 1, 'connection.down');
                assert.strictEqual(msgs[0].topic, 'connection.down');
                assert.strictEqual(msgs[0].payload.reason, c.reason);
                assert.match(msgs[0].payload.detail, c.detail);
            });
        }

        it('"MisKey in use" for a second config node with the same MisKey but other settings in this runtime', async function () {
            await load([TAB, config(sim.url), { ...config(sim.url), id: 'cfg2', name: 'second', stableAfter: 61 },
                notification('pf'), notification('pf2', { account: 'cfg2' }, 'out2'), sink(), sink('out2')],
            { cfg: { misKey: MIS_KEY }, cfg2: { misKey: MIS_KEY } });
            const first = collect();
            const second = collect('out2');
            await waitFor(() => topics(first).length === 1 && topics(second).length === 1, 'an event on each node');
            assert.strictEqual(first[0].topic, 'connection.up');
            assert.deepStrictEqual([second[0].topic, second[0].payload.reason], ['connection.down', 'MisKey in use']);
            assert.match(second[0].payload.detail, /account/);
        });
    });
});
