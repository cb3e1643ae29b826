'use strict';
// printfactory-config + printfactory-notification in the Node-RED test helper against the real
// PrintFactory simulator on loopback: classification end to end, the shared connection and its
// failure handling (drops, half-open sockets, hung handshakes, auth failures, duplicate MisKeys,
// garbage frames), the editor's test endpoint, and that nothing leaks or logs secrets.
const assert = require('assert');
const net = require('net');
const helper = require('node-red-node-test-helper');
const { setFlows } = require('../lib/set-flows');
const configNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const notificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const { PrintFactorySimulator, PRINTFACTORY_EXAMPLES, expectedEvent, EXAMPLE_NAMES } = require('../../dist/simulators/printfactory');
const { sleep, waitFor } = require('../lib/wait');
const { failureOf } = require('../lib/admin-answer');

helper.init(require.resolve('node-red'));

const MIS_KEY = 'test-mis-key-5f3e9a';
const OTHER_KEY = 'second-org-key-77c1';
// Fast timings (seconds) so failure paths take milliseconds; production defaults are 30/15/1/60/60/300.
const FAST = { pingInterval: 0.1, handshakeTimeout: 0.4, reconnectMin: 0.05, reconnectMax: 0.2, stableAfter: 60, authRetry: 1 };
const STATUS = 'printfactory-notification.status.';
// A config node for the same account that is no twin (twins share one connection): another heartbeat.
const OTHER_SETTINGS = { pingInterval: 0.15 };

function config(id, url, extra = {}) {
    return { id, type: 'printfactory-config', name: 'account ' + id, url, ...FAST, ...extra };
}
function notification(id, account, events = [], wires = ['out']) {
    return { id, type: 'printfactory-notification', z: 'tab', name: '', account, events, wires: [wires] };
}
function sink(id = 'out') { return { id, type: 'helper', z: 'tab' }; }
const TAB = { id: 'tab', type: 'tab', label: 'test' };

/** Collects msgs arriving at a helper node. */
function collect(id = 'out') {
    const msgs = [];
    helper.getNode(id).on('input', (msg) => msgs.push(msg));
    return msgs;
}

/** Every status node `id` has shown so far (the helper spies on the shared Node prototype). */
function statuses(id) {
    const node = helper.getNode(id);
    return node.status.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0]);
}

function logEntries() {
    return helper.log().getCalls().map((c) => c.args[0]).filter(Boolean);
}
function warnings() {
    return logEntries().filter((e) => e.level === helper.log().WARN).map((e) => String(e.msg));
}

describe('printfactory nodes against the simulator', function () {
    this.timeout(10000);
    let sim;
    let events;

    beforeEach(async function () {
        await helper.startServer();
        sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [MIS_KEY, OTHER_KEY] });
        await sim.start();
        events = { connections: 0, rejected: [], disconnections: 0 };
        sim.on('connection', () => { events.connections += 1; });
        sim.on('disconnection', () => { events.disconnections += 1; });
        sim.on('rejected', (reason) => events.rejected.push(reason));
    });

    afterEach(async function () {
        await helper.unload();
        await sim.stop();
        await helper.stopServer();
    });

    async function load(flow, credentials = { cfg: { misKey: MIS_KEY } }) {
        await helper.load([configNode, notificationNode], flow, credentials);
    }

    async function loadBasic(events = [], extra = {}) {
        await load([TAB, config('cfg', sim.url, extra), notification('pf', 'cfg', events), sink()]);
        const msgs = collect();
        await waitFor(() => sim.connectionCount === 1, 'the connection');
        return msgs;
    }

    it('classifies every documented payload end to end and builds the msg fields', async function () {
        const msgs = await loadBasic();
        for (const name of EXAMPLE_NAMES) { sim.broadcast(PRINTFACTORY_EXAMPLES[name]); }
        await waitFor(() => msgs.length === EXAMPLE_NAMES.length, 'one msg per example');
        EXAMPLE_NAMES.forEach((name, i) => {
            const msg = msgs[i];
            const sent = PRINTFACTORY_EXAMPLES[name];
            assert.strictEqual(msg.topic, expectedEvent[name], name);
            assert.strictEqual(msg.event, expectedEvent[name], name);
            assert.deepStrictEqual(msg.payload, sent, `${name}: payload exactly as sent`);
            assert.strictEqual(msg.jobGuid, sent.JobGUID, name);
            assert.strictEqual(msg.deviceGuid, sent.DeviceGUID, name);
            assert.ok(!Number.isNaN(Date.parse(msg.receivedAt)) && msg.receivedAt.endsWith('Z'), `${name}: receivedAt ISO`);
        });
        assert.ok(!('deviceGuid' in msgs[0]), 'no deviceGuid key on job notifications');
    });

    it('shows connecting, then a green dot with the message count', async function () {
        await load([TAB, config('cfg', sim.url), notification('pf', 'cfg'), sink()]);
        const seen = () => statuses('pf');
        await waitFor(() => sim.connectionCount === 1, 'the connection');
        await waitFor(() => seen().some((s) => s.fill === 'green'), 'green status');
        const green = seen().find((s) => s.fill === 'green');
        assert.deepStrictEqual([green.shape, green.text], ['dot', STATUS + 'connected']);
        sim.sendExample('jobCreated');
        await waitFor(() => seen().filter((s) => s.fill === 'green').length >= 2, 'a count update');
    });

    it('two notification nodes share one socket, each with its own payload copy', async function () {
        await load([TAB, config('cfg', sim.url), notification('a', 'cfg', [], ['outA']), notification('b', 'cfg', [], ['outB']),
            sink('outA'), sink('outB')]);
        const a = collect('outA');
        const b = collect('outB');
        await waitFor(() => sim.connectionCount === 1 && ['a', 'b'].every((id) => statuses(id).some((st) => st.fill === 'green')), 'both nodes connected');
        sim.sendExample('deviceStatus');
        await waitFor(() => a.length === 1 && b.length === 1, 'the msg on both nodes');
        assert.strictEqual(sim.connectionCount, 1);
        assert.strictEqual(sim.peakConnections, 1);
        assert.strictEqual(events.connections, 1);
        assert.deepStrictEqual(a[0].payload, b[0].payload);
        assert.notStrictEqual(a[0].payload, b[0].payload, 'one flow changing its payload must not change the other');
    });

    it('a redeploy closes the old socket before opening the new one', async function () {
        let open = 0;
        let maxOpen = 0;
        sim.on('connection', () => { open += 1; maxOpen = Math.max(maxOpen, open); });
        sim.on('disconnection', () => { open -= 1; });
        const flow = [TAB, config('cfg', sim.url), notification('pf', 'cfg'), sink()];
        await load(flow);
        await waitFor(() => sim.connectionCount === 1, 'the connection');
        const creds = { cfg: { misKey: MIS_KEY } };
        for (let i = 0; i < 3; i++) {
            // A changed config node: full and "nodes" deploys both replace its socket.
            const next = [TAB, config('cfg', sim.url, { name: 'renamed ' + i }), notification('pf', 'cfg'), sink()];
            await setFlows(helper, next, i % 2 === 0 ? 'full' : 'nodes', creds);
            await waitFor(() => events.connections === i + 2 && sim.connectionCount === 1, `connection after redeploy ${i + 1}`);
        }
        // Only the notification node changes: the last user leaves and a new one arrives.
        await setFlows(helper, [TAB, config('cfg', sim.url, { name: 'renamed 2' }), notification('pf', 'cfg', ['job.created']), sink()], 'nodes', creds);
        await waitFor(() => events.connections === 5 && sim.connectionCount === 1, 'connection after a node-only redeploy');
        assert.strictEqual(maxOpen, 1, 'two sockets were open at once');
        // The old node's close awaited its socket: the new one never found the MisKey still taken.
        assert.deepStrictEqual(warnings().filter((w) => /same MisKey/.test(w)), []);
        assert.strictEqual(sim.peakConnections, 1);
        assert.deepStrictEqual(events.rejected, []);
        const msgs = collect();
        sim.sendExample('jobCreated');
        await waitFor(() => msgs.length === 1, 'a msg after the redeploys');
    });

    it('reconnects after the server drops the connection', async function () {
        const msgs = await loadBasic();
        const seen = () => statuses('pf');
        sim.dropAll();
        await waitFor(() => events.connections === 2 && sim.connectionCount === 1, 'the reconnect');
        assert.ok(seen().some((s) => s.fill === 'yellow' && s.text === STATUS + 'reconnecting'), 'reconnecting status shown');
        await waitFor(() => seen().length > 0 && seen()[seen().length - 1].fill === 'green', 'green again');
        sim.sendExample('jobReprint');
        await waitFor(() => msgs.length === 1, 'a msg after the reconnect');
        assert.strictEqual(msgs[0].topic, 'job.reprint');
    });

    it('detects a half-open socket (no pongs) and reconnects', async function () {
        await loadBasic();
        sim.setAnswerPings(false);
        await waitFor(() => events.disconnections >= 1, 'the client giving up on the silent socket', 3000);
        sim.setAnswerPings(true);
        await waitFor(() => events.connections >= 2 && sim.connectionCount === 1, 'the reconnect');
        const before = events.connections;
        // a duration: answered pings keep the socket open for 500 ms.
        await sleep(500);
        assert.strictEqual(events.connections, before, 'answered pings keep the socket open');
    });

    it('gives up on a handshake that never completes and connects once the server answers again', async function () {
        sim.setHangHandshake(true);
        await load([TAB, config('cfg', sim.url), notification('pf', 'cfg'), sink()]);
        const seen = () => statuses('pf');
        await waitFor(() => seen().some((s) => s.text === STATUS + 'reconnecting'), 'a reconnect after the handshake timeout', 3000);
        assert.strictEqual(events.connections, 0);
        sim.setHangHandshake(false);
        await waitFor(() => sim.connectionCount === 1, 'the connection', 3000);
    });

    it('an auth failure shows a red status and retries slowly, not in a tight loop', async function () {
        const rejectedAt = [];
        sim.on('rejected', () => rejectedAt.push(Date.now()));
        await load([TAB, config('cfg', sim.url), notification('pf', 'cfg'), sink()], { cfg: { misKey: 'wrong-key-123' } });
        const seen = () => statuses('pf');
        await waitFor(() => events.rejected.length === 1, 'the first rejection');
        await waitFor(() => seen().some((s) => s.fill === 'red'), 'red status');
        const red = seen().find((s) => s.fill === 'red');
        assert.deepStrictEqual([red.shape, red.text], ['ring', STATUS + 'authFailed']);
        // reconnectMin is 50 ms, so a tight loop would retry within ~50-100 ms; authRetry is 1 s.
        await waitFor(() => events.rejected.length === 2, 'the slow retry', 4000);
        const gap = rejectedAt[1] - rejectedAt[0];
        assert.ok(gap >= 900, `retried after ${gap} ms`);
        assert.ok(events.rejected.every((r) => r === 'auth'));
        assert.ok(warnings().some((w) => /refused the MisKey \(HTTP 403\)/.test(w)), 'a warning says why');
        assert.strictEqual(warnings().filter((w) => /refused the MisKey/.test(w)).length, 1, 'warned once, not per attempt');
    });

    it('a missing MisKey is a configuration error, without any connection attempt', async function () {
        await load([TAB, config('cfg', sim.url), notification('pf', 'cfg'), sink()], {});
        const seen = () => statuses('pf');
        // a duration: no connection attempt within 200 ms.
        await sleep(200);
        assert.strictEqual(events.connections + events.rejected.length, 0);
        const last = seen()[seen().length - 1];
        assert.deepStrictEqual([last.fill, last.text], ['red', STATUS + 'noMisKey']);
        assert.strictEqual(sim.connectionCount, 0);
    });

    it('a second config node with the same MisKey but other settings warns and does not connect', async function () {
        await load([TAB, config('cfg', sim.url), config('cfg2', sim.url, OTHER_SETTINGS), notification('a', 'cfg', [], ['outA']),
            notification('b', 'cfg2', [], ['outB']), sink('outA'), sink('outB')],
        { cfg: { misKey: MIS_KEY }, cfg2: { misKey: MIS_KEY } });
        await waitFor(() => sim.connectionCount === 1, 'the connection');
        // a duration: the duplicate never connects within 300 ms.
        await sleep(300);
        assert.strictEqual(events.connections, 1);
        assert.deepStrictEqual(events.rejected, [], 'the duplicate never reached the server');
        assert.ok(warnings().some((w) => /same MisKey/.test(w)), 'a warning explains the duplicate');
        // Exactly one of the two nodes shows the duplicate status.
        const dupes = ['a', 'b'].filter((id) => statuses(id).some((st) => st.text === STATUS + 'duplicate'));
        assert.strictEqual(dupes.length, 1, 'one node reports the duplicate');
    });

    it('twin config nodes (same URL, MisKey and settings, e.g. one per imported example) share one connection', async function () {
        const creds = { cfg: { misKey: MIS_KEY }, cfg2: { misKey: MIS_KEY } };
        const both = [TAB, config('cfg', sim.url), config('cfg2', sim.url), notification('a', 'cfg', [], ['outA']),
            notification('b', 'cfg2', [], ['outB']), sink('outA'), sink('outB')];
        await load(both, creds);
        await waitFor(() => sim.connectionCount === 1 && ['a', 'b'].every((id) => statuses(id).some((st) => st.fill === 'green')), 'both nodes connected');
        const [msgsA, msgsB] = [collect('outA'), collect('outB')];
        sim.sendExample('jobCreated');
        await waitFor(() => msgsA.length === 1 && msgsB.length === 1, 'the notification on both twins');
        assert.strictEqual(events.connections, 1, 'one socket for both');
        assert.ok(!warnings().some((w) => /same MisKey/.test(w)), 'twins are no duplicate');
        assert.ok(!['a', 'b'].some((id) => statuses(id).some((st) => st.text === STATUS + 'duplicate')));
        // One twin is edited (a modified-nodes deploy restarts it and its users): it rejoins the open socket.
        const renamed = [TAB, config('cfg', sim.url, { name: 'renamed' }), ...both.slice(2)];
        await setFlows(helper, renamed, 'nodes', creds);
        sim.sendExample('jobResubmit');
        await waitFor(() => msgsB.length === 2, 'the other twin still receives');
        const msgsA2 = collect('outA');
        sim.sendExample('jobReprint');
        await waitFor(() => msgsA2.length === 1, 'the restarted twin receives again');
        assert.deepStrictEqual([events.connections, events.disconnections, sim.connectionCount], [1, 0, 1], 'the socket was not reopened');
        // One twin goes: the other keeps the same socket.
        await setFlows(helper, [TAB, config('cfg2', sim.url), notification('b', 'cfg2', [], ['outB']), sink('outB')], 'nodes', creds);
        sim.sendExample('jobResend');
        await waitFor(() => msgsB.length === 4, 'the remaining twin still receives');
        assert.deepStrictEqual([events.connections, events.disconnections, sim.connectionCount], [1, 0, 1], 'the socket was not reopened');
        // Both go: the socket closes.
        await setFlows(helper, [TAB], 'full', {});
        await waitFor(() => sim.connectionCount === 0, 'the socket closed with the last twin');
    });

    it('the waiting duplicate connects once the holder is removed', async function () {
        const creds = { cfg: { misKey: MIS_KEY }, cfg2: { misKey: MIS_KEY } };
        await load([TAB, config('cfg', sim.url), notification('a', 'cfg', [], ['outA']), sink('outA')], creds);
        await waitFor(() => sim.connectionCount === 1, 'the first connection');
        // A second account with the same MisKey is added: it must wait.
        await setFlows(helper, [TAB, config('cfg', sim.url), config('cfg2', sim.url, OTHER_SETTINGS), notification('a', 'cfg', [], ['outA']),
            notification('b', 'cfg2', [], ['outB']), sink('outA'), sink('outB')], 'nodes', creds);
        // a duration: still one connection after 200 ms.
        await sleep(200);
        assert.strictEqual(events.connections, 1);
        assert.ok(statuses('b').some((st) => st.text === STATUS + 'duplicate'));
        // The first account goes away: the waiting one takes over, still never two sockets.
        await setFlows(helper, [TAB, config('cfg2', sim.url, OTHER_SETTINGS), notification('b', 'cfg2', [], ['outB']), sink('outB')], 'nodes', creds);
        await waitFor(() => events.connections === 2 && sim.connectionCount === 1, 'the take-over');
        assert.strictEqual(sim.peakConnections, 1);
        const msgs = collect('outB');
        sim.sendExample('jobResubmit');
        await waitFor(() => msgs.length === 1, 'a msg on the new holder');
    });

    it('backs off while another client holds the organisation\'s connection (HTTP 409) and connects after it leaves', async function () {
        const WebSocket = require('ws');
        const other = new WebSocket(sim.url, { headers: { MisKey: MIS_KEY } });
        await new Promise((resolve, reject) => { other.once('open', resolve); other.once('error', reject); });
        await load([TAB, config('cfg', sim.url), notification('pf', 'cfg'), sink()]);
        await waitFor(() => events.rejected.length >= 2, 'two refused attempts');
        assert.ok(events.rejected.every((r) => r === 'duplicate'));
        assert.ok(warnings().some((w) => /HTTP 409/.test(w)), warnings().join('\n'));
        assert.ok(statuses('pf').some((st) => st.fill === 'yellow' && st.text === STATUS + 'reconnecting'));
        await new Promise((resolve) => { other.once('close', resolve); other.close(); });
        await waitFor(() => sim.connectionCount === 1 && events.connections === 2, 'the connection once the slot is free');
    });

    it('keeps up with a blast of notifications and loses none', async function () {
        const msgs = await loadBasic();
        await sim.blast(3000);
        await waitFor(() => msgs.length === 3000, '3000 msgs', 8000);
        const topics = new Set(msgs.map((m) => m.topic));
        assert.ok(!topics.has('unknown') && topics.size === 8, [...topics].join(', '));
    });

    it('different MisKeys get their own connections', async function () {
        await load([TAB, config('cfg', sim.url), config('cfg2', sim.url), notification('a', 'cfg'), notification('b', 'cfg2'), sink()],
            { cfg: { misKey: MIS_KEY }, cfg2: { misKey: OTHER_KEY } });
        await waitFor(() => sim.connectionCount === 2, 'two connections');
    });

    it('drops garbage frames with a warning and keeps delivering later frames', async function () {
        const msgs = await loadBasic();
        for (const kind of ['text', 'binary', 'huge', 'deep']) { sim.sendGarbage(kind); }
        sim.sendGarbage('array');
        sim.sendExample('jobCopyAddedJournal');
        await waitFor(() => msgs.length === 4, 'the array\'s three elements and the example');
        assert.deepStrictEqual(msgs.map((m) => m.topic), ['job.updated', 'unknown', 'unknown', 'job.copyAdded']);
        assert.deepStrictEqual(msgs.slice(0, 3).map((m) => m.payload), [{ JobGUID: 'in-an-array' }, 1, 2], 'each element as received');
        assert.strictEqual(events.connections, 1, 'the connection survived');
        assert.strictEqual(sim.connectionCount, 1);
        assert.ok(warnings().some((w) => /dropped a frame \(or a part of one\) that is not JSON/.test(w)), warnings().join('\n'));
        const calls = statuses('pf').map((st) => st.text);
        assert.ok(calls.includes(STATUS + 'badFrame') || calls.includes(STATUS + 'connectedDropped'), calls.join(', '));
    });

    it('passes only the events of its filter', async function () {
        const msgs = await loadBasic(['device.status', 'job.reroute']);
        for (const name of EXAMPLE_NAMES) { sim.sendExample(name); }
        await waitFor(() => msgs.length === 2, 'the two matching events');
        // a duration: no third msg within 100 ms.
        await sleep(100);
        assert.deepStrictEqual(msgs.map((m) => m.topic).sort(), ['device.status', 'job.reroute']);
    });

    it('a filtered node reports what it left out as unknown: a rate-limited warning with the key names and a status count', async function () {
        const msgs = await loadBasic(['job.updated']);
        await waitFor(() => statuses('pf').some((st) => st.fill === 'green'), 'green status');
        // Extra fields and other spellings are job.updated now; a shape of no known kind is unknown.
        sim.broadcast({ JobGUID: 'g1', EventDate: '2026-01-15T10:30:00Z', OrganisationGUID: 'o' });
        sim.broadcast({ jobGuid: 'g2', Status: 'Printing' });
        for (let i = 0; i < 5; i++) { sim.broadcast({ OrderGUID: `o${i}`, Secretish: 'value-not-logged' }); }
        sim.broadcast({ JobGUID: 'g3' });
        await waitFor(() => msgs.length === 3, 'the three job.updated notifications');
        assert.deepStrictEqual(msgs.map((m) => m.jobGuid), ['g1', 'g2', 'g3']);
        const left = () => warnings().filter((w) => /left out a notification of unknown shape/.test(w));
        await waitFor(() => left().length === 1, 'one warning about the unknown shape');
        assert.match(left()[0], /"OrderGUID", "Secretish"/, 'names the keys');
        assert.ok(!warnings().some((w) => w.includes('value-not-logged')), 'never the values');
        await waitFor(() => statuses('pf').some((st) => st.text === STATUS + 'connectedUnknown'), 'the count in the status');
        // a duration: no more unknown warnings within 100 ms (rate limit).
        await sleep(100);
        assert.strictEqual(left().length, 1, 'the other four are held back and counted (rate limit)');
    });

    it('warns about unknown event names in the filter and passes all when none is known', async function () {
        const msgs = await loadBasic(['job.deleted']);
        sim.sendExample('jobCreated');
        await waitFor(() => msgs.length === 1, 'the msg');
        assert.ok(warnings().some((w) => /job\.deleted/.test(w)));
    });

    it('leaves no socket, timer or handle behind after close, across repeated loads', async function () {
        const resources = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
        let baseline;
        for (let i = 0; i < 4; i++) {
            await load([TAB, config('cfg', sim.url), notification('a', 'cfg'), notification('b', 'cfg'), sink()]);
            await waitFor(() => sim.connectionCount === 1, 'the connection');
            sim.dropAll();
            await waitFor(() => sim.connectionCount === 1 && events.connections === 2 * (i + 1), 'the reconnect');
            await helper.unload();
            await waitFor(() => sim.connectionCount === 0, 'the simulator to see the socket closed', 2000);
            // a duration: 50 ms for closed handles to be reaped before the baseline.
            await sleep(50);
            if (i === 0) { baseline = resources(); }
        }
        // Sockets closed by the peer can take a moment to be reaped: allow it, but nothing may stay.
        try {
            await waitFor(() => resources() <= baseline, 'resources back at the baseline', 2000);
        } catch {
            assert.fail(`active resources grew from ${baseline} to ${resources()}: ${process.getActiveResourcesInfo()}`);
        }
    });

    it('never puts the MisKey into msgs or logs', async function () {
        const msgs = await loadBasic();
        for (const name of EXAMPLE_NAMES) { sim.sendExample(name); }
        sim.sendGarbage('text');
        sim.dropAll();
        await waitFor(() => msgs.length === EXAMPLE_NAMES.length && events.connections === 2, 'msgs and a reconnect');
        await helper.unload();
        await load([TAB, config('cfg', sim.url), config('cfg2', sim.url), notification('a', 'cfg'), notification('b', 'cfg2'), sink()],
            { cfg: { misKey: 'bad-key-secret-9' }, cfg2: { misKey: 'bad-key-secret-9' } });
        await waitFor(() => events.rejected.length >= 1, 'the auth failure');
        // a duration: no late log line may carry a MisKey within 100 ms.
        await sleep(100);
        const logged = JSON.stringify(logEntries());
        assert.ok(!logged.includes(MIS_KEY) && !logged.includes('bad-key-secret-9'), 'a MisKey reached the log');
        assert.ok(!JSON.stringify(msgs).includes(MIS_KEY), 'a MisKey reached a msg');
    });

    describe('editor test endpoint', function () {
        const post = (body) => helper.request().post('/print-events/printfactory/test').send(body);

        it('reports accepted, rejected and connection refused', async function () {
            await load([TAB, config('cfg', sim.url)], { cfg: { misKey: MIS_KEY } });
            let res = await post({ url: sim.url, misKey: MIS_KEY });
            assert.deepStrictEqual(res.body, { ok: true, result: 'accepted' });
            await waitFor(() => sim.connectionCount === 0, 'the test socket to close');
            res = await post({ url: sim.url, misKey: 'nope' });
            assert.deepStrictEqual(failureOf(res), { status: 400, ok: false, code: 'problem', error: 'string',
                vars: { cause: 'rejected', statusCode: 403, detail: '' }, statusCode: 403 });
            // The stored credential of a deployed config node is used for the placeholder.
            res = await post({ id: 'cfg', url: sim.url, misKey: '__PWRD__' });
            assert.strictEqual(res.body.result, 'accepted');
            const closed = net.createServer();
            await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
            const port = closed.address().port;
            await new Promise((resolve) => closed.close(resolve));
            res = await post({ url: `ws://127.0.0.1:${port}`, misKey: MIS_KEY });
            assert.deepStrictEqual(failureOf(res), { status: 502, ok: false, code: 'problem', error: 'string', vars: { cause: 'connectionRefused', statusCode: '', detail: '' } });
            res = await post({ url: 'http://x', misKey: MIS_KEY });
            assert.strictEqual(res.status, 400);
            res = await post({ url: sim.url });
            assert.strictEqual(res.status, 400);
        });

        it('does not test an account this runtime is connected with', async function () {
            await loadBasic();
            const res = await post({ url: sim.url, misKey: MIS_KEY });
            assert.deepStrictEqual(res.body, { ok: true, result: 'liveConnected' });
            assert.strictEqual(events.connections, 1);
            assert.deepStrictEqual(events.rejected, []);
        });
    });
});

describe('PrintFactory simulator handshake rules', function () {
    let sim;
    const WebSocket = require('ws');

    beforeEach(async function () {
        sim = new PrintFactorySimulator({ port: 0, misKeys: [MIS_KEY] });
        await sim.start();
    });
    afterEach(async function () { await sim.stop(); });

    function handshake(headers) {
        return new Promise((resolve) => {
            const ws = new WebSocket(sim.url, { headers });
            ws.on('unexpected-response', (_req, res) => { resolve({ status: res.statusCode }); res.resume(); ws.terminate(); });
            ws.on('open', () => resolve({ status: 101, ws }));
            ws.on('error', () => undefined);
        });
    }

    it('answers 401 without a MisKey, 403 for an unknown one, 409 for a second connection of the same one', async function () {
        const rejected = [];
        sim.on('rejected', (r) => rejected.push(r));
        assert.strictEqual((await handshake({})).status, 401);
        assert.strictEqual((await handshake({ MisKey: 'unknown' })).status, 403);
        const first = await handshake({ MisKey: MIS_KEY });
        assert.strictEqual(first.status, 101);
        assert.strictEqual((await handshake({ MisKey: MIS_KEY })).status, 409);
        assert.deepStrictEqual(rejected, ['auth', 'auth', 'duplicate']);
        assert.strictEqual(sim.connectionCount, 1);
        await new Promise((resolve) => { first.ws.once('close', resolve); first.ws.close(); });
        await waitFor(() => sim.connectionCount === 0, 'the close');
        const again = await handshake({ MisKey: MIS_KEY });
        assert.strictEqual(again.status, 101, 'the key is free again after a close');
        again.ws.terminate();
    });

    it('a malformed upgrade does not leave the MisKey reserved', async function () {
        const answer = await new Promise((resolve, reject) => {
            const socket = net.connect(sim.port, '127.0.0.1', () => {
                socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nMisKey: ${MIS_KEY}\r\n\r\n`);
            });
            let text = '';
            socket.on('data', (d) => { text += d.toString(); });
            socket.on('close', () => resolve(text));
            socket.on('error', reject);
        });
        assert.match(answer, /^HTTP\/1\.1 400/);
        const ok = await handshake({ MisKey: MIS_KEY });
        assert.strictEqual(ok.status, 101);
        ok.ws.terminate();
    });
});
