'use strict';
// The PrintFactory connection takes at most FRAMES_PER_TURN frames (plus the rest of the chunk being parsed)
// from the socket per turn of the event loop, then pauses reading until setImmediate: a burst is handed to
// Node-RED in slices instead of megabytes at once. Every frame still arrives, in order, none twice, and
// the socket stays open and usable (heartbeat, close) afterwards.
const assert = require('assert');
const { PrintFactoryConnection, FRAMES_PER_TURN } = require('../../dist/nodes/lib/printfactory/connection');
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');
const { sleep, waitFor: waitUntil } = require('../lib/wait');

const MIS_KEY = 'flow-control-key-71c2';

const waitFor = (predicate, what, timeoutMs = 10000) => waitUntil(predicate, what, timeoutMs);

describe('PrintFactory connection: flow control per event-loop turn', function () {
    let sim;
    let conn;

    beforeEach(async function () {
        sim = new PrintFactorySimulator({ misKeys: [MIS_KEY] });
        await sim.start();
    });

    afterEach(async function () {
        if (conn) { await conn.close(); conn = null; }
        await sim.stop();
    });

    it('delivers a burst of thousands of frames completely and in order, in slices per turn', async function () {
        const received = [];
        const perTurn = [];
        let current = 0;
        let turnOpen = false;
        let state = 'idle';
        conn = new PrintFactoryConnection({ url: sim.url, misKey: MIS_KEY, label: 'flow control', logger: { log() {}, warn() {} } });
        conn.register({
            onNotification(n) {
                if (!turnOpen) {
                    turnOpen = true;
                    current = 0;
                    // Runs once this turn's I/O callbacks are done: what was handed over in one turn.
                    setImmediate(() => { perTurn.push(current); turnOpen = false; });
                }
                current += 1;
                received.push(n);
            },
            onStatus(s) { state = s.state; },
            onBadFrame() { throw new Error('no bad frame expected'); }
        });
        await waitFor(() => state === 'connected', 'the connection');
        const COUNT = 6000;
        const padding = 'x'.repeat(900);
        // One synchronous burst: about 5.6 MB queued on the server side before the client reads any of it.
        for (let i = 0; i < COUNT; i++) {
            sim.broadcast({ JobGUID: `seq-${i}`, Status: 'Created', Note: padding });
        }
        await waitFor(() => received.length >= COUNT, `${COUNT} notifications (got ${received.length})`);
        // a duration: none may arrive twice within 50 ms.
        await sleep(50);
        assert.strictEqual(received.length, COUNT, 'none twice');
        received.forEach((n, i) => {
            assert.strictEqual(n.payload.JobGUID, `seq-${i}`);
            assert.strictEqual(n.event, 'job.created');
        });
        // ws parses the chunk it is in to its end after the pause: 64 KB of ~1 KB frames at most.
        const bound = FRAMES_PER_TURN + Math.ceil(64 * 1024 / 950);
        assert.ok(Math.max(...perTurn) <= bound, `at most ${bound} frames per turn, got ${Math.max(...perTurn)} (turns: ${perTurn.length})`);
        assert.ok(perTurn.length >= Math.floor(COUNT / bound), `the burst took several turns: ${perTurn.length}`);
        // Still open and usable after the burst: another frame arrives.
        sim.broadcast({ JobGUID: 'after-burst', Status: 'Created' });
        await waitFor(() => received.length === COUNT + 1, 'the frame after the burst');
        assert.strictEqual(state, 'connected');
    });
});
