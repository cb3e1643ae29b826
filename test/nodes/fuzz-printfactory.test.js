'use strict';
// Bounded fuzz of the PrintFactory side: the simulator broadcasts generated frames (seeded: FUZZ_SEED=<n>
// reproduces a run) to a printfactory-notification node wired to two nodes. Frames: documented notifications,
// random JSON, scalars and arrays, deep nesting, long strings, frames over the size limit, truncated JSON, binary frames,
// and text frames that are not UTF-8. An independent model of the bad-frame table in docs/faults.md says which frames
// must come out; then: every one of them came out exactly once on each wire and no other did, the socket
// stayed up except after a non-UTF-8 text frame (the WebSocket protocol's 1007 close), and then it recovered.
const crypto = require('crypto');
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const configNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const notificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const { PrintFactorySimulator, freshExample, EXAMPLE_NAMES } = require('../../dist/simulators/printfactory');
const { MAX_FRAME_BYTES, MAX_JSON_DEPTH } = require('../../dist/nodes/lib/printfactory/connection');
const { prng, fuzzSeed, randomJson, nestedJson, depthOf, pool } = require('../lib/fuzz');

helper.init(require.resolve('node-red'));

const FRAMES = Number(process.env.FUZZ_FRAMES) || 3000;
const BATCH = 50;
const FAST = { pingInterval: 0.5, handshakeTimeout: 1, reconnectMin: 0.05, reconnectMax: 0.2, stableAfter: 60, authRetry: 300 };
const { sleep, waitFor: waitUntil } = require('../lib/wait');
/** The shared poll with this suite's longer limit (a fuzz batch on a loaded machine). */
const waitFor = (check, what, timeoutMs = 15000) => waitUntil(check, what, timeoutMs);

/** One generated frame: what goes on the wire and whether the node must deliver it. */
function generate(r, n, seed) {
    const id = `pf-${seed}-${n}`;
    const kind = r.pick(['example', 'example', 'example', 'random', 'scalar', 'deep', 'long', 'truncated', 'binary']);
    let text;
    switch (kind) {
        case 'example': {
            const payload = freshExample(r.pick(EXAMPLE_NAMES));
            payload.FuzzId = id;
            text = JSON.stringify(payload);
            break;
        }
        case 'random': text = JSON.stringify({ FuzzId: id, data: randomJson(r, 5) }); break;
        case 'scalar': text = JSON.stringify(r.pick([42, null, true, 'text', [1, { a: 2 }], -0.5])); break;
        case 'deep': {
            const depth = r.chance(0.5) ? r.int(1, 2 * MAX_JSON_DEPTH) : r.int(MAX_JSON_DEPTH, 5000);
            text = `{"FuzzId":${JSON.stringify(id)},"deep":${nestedJson(r, depth - 1)}}`;
            break;
        }
        case 'long': {
            // Mostly small; a few just under or over the frame limit.
            const length = r.chance(0.95) ? r.int(1000, 50000) : r.int(MAX_FRAME_BYTES - 4096, MAX_FRAME_BYTES + 4096);
            text = JSON.stringify({ FuzzId: id, text: 'y'.repeat(length) });
            break;
        }
        case 'truncated': {
            const full = JSON.stringify({ FuzzId: id, JobGUID: crypto.randomUUID(), Status: 'Created' });
            text = full.slice(0, r.int(0, full.length - 1));
            break;
        }
        default: {
            const bytes = Buffer.from(Array.from({ length: r.int(1, 64) }, () => r.int(0, 255)));
            // A binary frame is read like text when it is valid UTF-8 (a random one rarely is: a digit, say).
            let decoded = null;
            try { decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { /* not UTF-8: dropped */ }
            return { n, id, kind, data: bytes, binary: true, ...delivered(decoded, id) };
        }
    }
    return { n, id, kind, data: text, binary: false, ...delivered(text, id) };
}

/**
 * The rule of docs/faults.md, written out: at most MAX_FRAME_BYTES, JSON, at most MAX_JSON_DEPTH deep; a top-level
 * array gives one msg per element. (Generated frames hold one JSON value or none: the splitting of several values
 * is covered by test/unit/printfactory-frames.test.js.)
 */
function delivered(text, id) {
    let count = text !== null && Buffer.byteLength(text) <= MAX_FRAME_BYTES ? 1 : 0;
    let value;
    if (count) { try { value = JSON.parse(text); } catch { count = 0; } }
    if (count && depthOf(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) { count = 0; }
    if (count && Array.isArray(value)) { count = value.length; }
    const traceable = count === 1 && value !== null && typeof value === 'object' && value.FuzzId === id;
    return { count, deliver: count > 0, traceable };
}

describe('fuzz: printfactory-notification against generated frames', function () {
    this.timeout(120000);
    const seed = fuzzSeed();
    let sim;
    let connections = 0;
    const misKey = `fuzz-mis-key-${process.pid}`;

    before(async function () {
        sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [misKey] });
        await sim.start();
        sim.on('connection', () => { connections += 1; });
        await helper.startServer();
    });

    after(async function () {
        await helper.unload();
        await helper.stopServer();
        await sim.stop();
    });

    it(`${FRAMES} generated frames (seed ${seed}): every valid notification once per wire, nothing else, the socket stays up or recovers`, async function () {
        const flow = [
            { id: 'pf', type: 'printfactory-config', name: 'fuzz', url: sim.url, ...FAST },
            { id: 'notify', type: 'printfactory-notification', name: '', account: 'pf', events: [], wires: [['out', 'out2']] },
            { id: 'out', type: 'helper' },
            { id: 'out2', type: 'helper' }
        ];
        await helper.load([configNode, notificationNode], flow, { pf: { misKey } });
        const received = { out: [], out2: [] };
        helper.getNode('out').on('input', (m) => received.out.push(m));
        helper.getNode('out2').on('input', (m) => received.out2.push(m));
        await waitFor(() => sim.connectionCount === 1 && connections === 1, 'the first connection');

        const r = prng(seed);
        const frames = Array.from({ length: FRAMES }, (_, n) => generate(r, n, seed));
        const batches = [];
        for (let i = 0; i < frames.length; i += BATCH) { batches.push(frames.slice(i, i + BATCH)); }
        let expected = 0;
        let fatal = 0;
        await pool(batches, 1, async (batch) => {
            for (const frame of batch) {
                assert.strictEqual(sim.broadcast(frame.data, { binary: frame.binary }), 1, 'the simulator has one client');
                expected += frame.count;
            }
            // A batch may end with a text frame that is not UTF-8: the client must close with 1007 and reconnect.
            if (r.chance(0.15)) {
                fatal += 1;
                sim.broadcast(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
                await waitFor(() => connections === 1 + fatal && sim.connectionCount === 1, `reconnect #${fatal} after a non-UTF-8 text frame`);
            }
            await waitFor(() => received.out.length >= expected && received.out2.length >= expected, `${expected} notifications on both wires`);
        });
        // a duration: no extra msg may arrive within 100 ms.
        await sleep(100);

        for (const wire of ['out', 'out2']) {
            assert.strictEqual(received[wire].length, expected, `msgs on ${wire} (FUZZ_SEED=${seed})`);
            const seen = new Map();
            for (const m of received[wire]) {
                const id = m.payload && m.payload.FuzzId;
                if (id !== undefined) { seen.set(id, (seen.get(id) || 0) + 1); }
            }
            for (const f of frames) {
                if (f.traceable) { assert.strictEqual(seen.get(f.id), 1, `frame #${f.n} (${f.kind}) on ${wire} ${seen.get(f.id) || 0} times (FUZZ_SEED=${seed})`); }
                if (!f.deliver) { assert.ok(!seen.has(f.id), `dropped frame #${f.n} (${f.kind}) came out on ${wire} (FUZZ_SEED=${seed})`); }
            }
        }
        // Only the non-UTF-8 text frames cost the socket; everything else was dropped with the socket kept open.
        assert.strictEqual(connections, 1 + fatal, 'connections opened: the first plus one per non-UTF-8 text frame');
        assert.strictEqual(sim.connectionCount, 1, 'connected at the end');
        const kinds = new Set(frames.filter((f) => !f.deliver).map((f) => f.kind));
        for (const kind of ['deep', 'truncated', 'binary']) { assert.ok(kinds.has(kind), `the run dropped some ${kind} frames`); }
    });
});
