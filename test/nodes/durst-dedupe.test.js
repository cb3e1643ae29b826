'use strict';
// Repeated-callback suppression: the pure deduper, and durst-webhook-in driven through the test helper with
// callbacks POSTed over a real loopback socket.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const webhookNode = require('../../dist/nodes/durst-webhook-in/durst-webhook-in.js');
const { CallbackDeduper, canonicalJson, dedupeWindowMs, DEFAULT_DEDUPE_WINDOW_S } = require('../../dist/nodes/lib/durst/dedupe');
const { sleep, waitFor } = require('../lib/wait');
const { startDurstRig, stopDurstRig } = require('../lib/durst-helper');

helper.init(require.resolve('node-red'));

describe('durst callback deduper (pure)', function () {
    const status = { entityType: 'PRODUCTION_JOB', entityId: 2068, created: '2026-11-24T07:00:00.000Z', oldStatus: 'IMPOSED', newStatus: 'PRINTING' };
    const raw = (body) => Buffer.from(JSON.stringify(body));

    // The workflow shapes of the vendor excerpt: one workflow reports its progress several times.
    const progress = (fields) => ({ id: 777, name: 'production-job-calculate-ink-usage', status: 'RUNNING', progress: 40,
        currentStep: 'Calculate Ink Usage', stateMessage: 'Painting (Cyan - 40%)', startTimestamp: '2023-05-01T06:27:04.972614+02:00', ...fields });

    it('normalises JSON: key order and whitespace do not matter, values do', function () {
        assert.strictEqual(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), '{"a":[{"c":null,"d":2}],"b":1}');
        assert.strictEqual(canonicalJson(JSON.parse('{"a": 1.0, "b": "x"}')), canonicalJson({ b: 'x', a: 1 }));
        assert.notStrictEqual(canonicalJson({ a: 1 }), canonicalJson({ a: '1' }));
        assert.strictEqual(canonicalJson(42), '42');
        assert.strictEqual(canonicalJson(null), 'null');
    });

    it('suppresses the same callback (same bytes or same normalised JSON) within the window, and lets it through after', function () {
        let now = 1000;
        const dedupe = new CallbackDeduper(30000, () => now);
        assert.strictEqual(dedupe.isRepeat(raw(status), status), false);
        assert.strictEqual(dedupe.isRepeat(raw(status), status), true, 'same bytes');
        // The same callback serialised differently (key order, whitespace): the normalised JSON catches it.
        const reordered = { newStatus: 'PRINTING', oldStatus: 'IMPOSED', entityId: 2068, entityType: 'PRODUCTION_JOB', created: status.created };
        assert.strictEqual(dedupe.isRepeat(Buffer.from(JSON.stringify(reordered, null, 2)), reordered), true, 'same normalised JSON');
        // The next status of the same job is a different callback.
        const next = { ...status, oldStatus: 'PRINTING', newStatus: 'PRINTED' };
        assert.strictEqual(dedupe.isRepeat(raw(next), next), false);
        const repo = { entityType: 'SUBSTRATE', entityId: 3 };
        assert.strictEqual(dedupe.isRepeat(raw(repo), repo), false);
        assert.strictEqual(dedupe.isRepeat(raw(repo), repo), true);
        now += 30000;
        assert.strictEqual(dedupe.isRepeat(raw(status), status), false, 'after the window');
        assert.strictEqual(dedupe.size, 2, 'expired keys are dropped');
    });

    it('any differing field makes a new callback: progress, step, message, status, timestamp, an extra field', function () {
        const dedupe = new CallbackDeduper(30000, () => 1000);
        const variants = [
            progress({}),
            progress({ stateMessage: 'Painting (Magenta - 40%)' }), // the case: only stateMessage differs
            progress({ progress: 65 }),
            progress({ currentStep: 'Update Workflow Status' }),
            progress({ status: 'SUCCESS', progress: 100 }),
            progress({ status: 'SUCCESS', progress: 100, endTimestamp: '2023-05-01T06:27:35.462578+02:00', executionTime: 30 }),
            { ...status, created: '2026-11-24T07:00:00.001Z' }, // the same status change a millisecond later
            { ...status, printer: { id: 5, name: 'P5 500' } }
        ];
        assert.strictEqual(dedupe.isRepeat(raw(status), status), false);
        for (const body of variants) { assert.strictEqual(dedupe.isRepeat(raw(body), body), false, JSON.stringify(body)); }
        for (const body of variants) { assert.strictEqual(dedupe.isRepeat(Buffer.from(JSON.stringify(body, null, 1)), body), true, 'each again: ' + JSON.stringify(body)); }
    });

    it('window 0 turns it off; unusable settings fall back to the default', function () {
        const off = new CallbackDeduper(0);
        assert.strictEqual(off.isRepeat(raw(status), status), false);
        assert.strictEqual(off.isRepeat(raw(status), status), false);
        assert.strictEqual(dedupeWindowMs(0), 0);
        assert.strictEqual(dedupeWindowMs('0'), 0);
        assert.strictEqual(dedupeWindowMs('2.5'), 2500);
        assert.strictEqual(dedupeWindowMs(undefined), DEFAULT_DEDUPE_WINDOW_S * 1000);
        assert.strictEqual(dedupeWindowMs(-1), DEFAULT_DEDUPE_WINDOW_S * 1000);
        assert.strictEqual(dedupeWindowMs('soon'), DEFAULT_DEDUPE_WINDOW_S * 1000);
        assert.ok(DEFAULT_DEDUPE_WINDOW_S > 0 && DEFAULT_DEDUPE_WINDOW_S <= 60, 'on by default, with a short window');
    });
});

describe('durst-webhook-in repeat suppression', function () {
    let RED;
    let rig;
    let base;
    const capture = (red) => { RED = red; };

    beforeEach(async function () {
        RED = undefined;
        rig = await startDurstRig(helper, { getRED: () => RED, simOptions: false });
        base = rig.httpNode.base;
    });

    afterEach(() => stopDurstRig(helper, rig));

    function flow(hook) {
        return [
            { id: 'sub', type: 'durst-subscriber', name: 'sim', apiUrl: 'http://127.0.0.1:9', apiAuth: 'none', hostUri: base,
                externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '' },
            { id: 'hook', type: 'durst-webhook-in', name: '', subscriber: 'sub', url: '/durst/a', wires: [['out']], ...hook },
            { id: 'out', type: 'helper' }
        ];
    }

    function post(text) {
        return fetch(base + '/durst/a', { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
            .then(async (res) => ({ status: res.status, body: await res.json() }));
    }

    function received() {
        const msgs = [];
        helper.getNode('out').on('input', (msg) => msgs.push(msg));
        return msgs;
    }

    // node.status is one spy for all nodes: pick this node's calls.
    const lastStatus = (node) => {
        const calls = node.status.getCalls().filter((c) => c.thisValue === node);
        return calls.length > 0 ? calls[calls.length - 1].args[0] : undefined;
    };
    const body = (newStatus, created = '2026-11-24T07:00:00.000Z') => JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 2068, created, newStatus });

    it('is on by default: a repeat is answered 200, not sent on, and counted in the status', async function () {
        await helper.load([capture, subscriberNode, webhookNode], flow({}));
        const msgs = received();
        const hook = helper.getNode('hook');
        assert.strictEqual((await post(body('PRINTING'))).status, 200);
        await waitFor(() => msgs.length === 1, 'the first callback');
        const repeat = await post(body('PRINTING'));
        assert.strictEqual(repeat.status, 200);
        assert.strictEqual(repeat.body.repeat, true);
        assert.strictEqual((await post(body('PRINTED'))).status, 200);
        await waitFor(() => msgs.length === 2, 'the next status');
        assert.deepStrictEqual(msgs.map((m) => m.payload.newStatus), ['PRINTING', 'PRINTED']);
        await waitFor(() => /listeningRepeats/.test((lastStatus(hook) || {}).text), 'the repeat count in the status');
        assert.strictEqual(lastStatus(hook).fill, 'green');
    });

    it('delivers the same callback again once the window has passed', async function () {
        await helper.load([capture, subscriberNode, webhookNode], flow({ dedupeWindow: '1' }));
        const msgs = received();
        // The node's window opens when it takes the first callback: after firstSentAt, before firstAnsweredAt.
        const firstSentAt = Date.now();
        await post(body('PRINTING'));
        const firstAnsweredAt = Date.now();
        const repeat = await post(body('PRINTING'));
        // The answer says whether it was taken as a repeat; under heavy load the window could already be over.
        if (Date.now() - firstSentAt < 900) { assert.strictEqual(repeat.body.repeat, true); }
        await waitFor(() => msgs.length >= 1, 'the first callback');
        // a duration: the dedupe window (1 s) passes before the next callback, counted from the latest moment it
        // can have opened (under CI load the first answer once took long enough for 1.1 s from sending to fall short).
        await sleep(Math.max(0, 1100 - (Date.now() - firstAnsweredAt)));
        assert.strictEqual(msgs.length, repeat.body.repeat ? 1 : 2, 'a repeat within the window is not sent on');
        const after = await post(body('PRINTING'));
        assert.strictEqual(after.body.repeat, undefined);
        await waitFor(() => msgs.length === (repeat.body.repeat ? 2 : 3), 'the callback after the window');
    });

    it('three progress updates of one workflow (only stateMessage differs) are three msgs; the same one again is a repeat', async function () {
        await helper.load([capture, subscriberNode, webhookNode], flow({}));
        const msgs = received();
        const update = (stateMessage) => JSON.stringify({ id: 777, name: 'motif-checkin', status: 'RUNNING', progress: 40, stateMessage });
        const answers = [];
        for (const text of ['Render To Buffer Page 1', 'Render To Buffer Page 2', 'Render To Buffer Page 3']) { answers.push(await post(update(text))); }
        assert.deepStrictEqual(answers.map((a) => [a.status, a.body.repeat]), [[200, undefined], [200, undefined], [200, undefined]]);
        await waitFor(() => msgs.length === 3, 'three msgs');
        assert.deepStrictEqual(msgs.map((m) => m.payload.stateMessage), ['Render To Buffer Page 1', 'Render To Buffer Page 2', 'Render To Buffer Page 3']);
        assert.ok(msgs.every((m) => m.topic === 'WORKFLOW/motif-checkin/777' && m.event === 'workflow'));
        const again = await post(JSON.stringify(JSON.parse(update('Render To Buffer Page 3')), null, 2));
        assert.strictEqual(again.body.repeat, true, 'the same update re-formatted is a repeat');
        // a duration: a repeat may not arrive within 50 ms.
        await sleep(50);
        assert.strictEqual(msgs.length, 3);
    });

    it('0 turns it off: every callback is sent on', async function () {
        await helper.load([capture, subscriberNode, webhookNode], flow({ dedupeWindow: 0 }));
        const msgs = received();
        for (let i = 0; i < 3; i++) { assert.strictEqual((await post(body('PRINTING'))).status, 200); }
        await waitFor(() => msgs.length === 3, 'three messages');
        assert.doesNotMatch(lastStatus(helper.getNode('hook')).text, /Repeats/);
    });
});
