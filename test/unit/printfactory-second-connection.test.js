'use strict';
// The PrintFactory simulator's answers to a second connection of the same organisation (MisKey): the vendor does
// not document it, so the nodes must survive each of 'refuse' (409), 'lastWins' (the older one is closed) and
// 'split' (both stay open and each event goes to one of them).
const assert = require('assert');
const WebSocket = require('ws');
const { PrintFactorySimulator, DISPLACED_CLOSE, SECOND_CONNECTION_MODES } = require('../../dist/simulators/printfactory');
const { waitFor } = require('../lib/wait');

const KEY = 'second-connection-key';

/** A client with the MisKey; resolves with { ws, frames, closed } once open, or with { status } if refused. */
function connect(sim, misKey = KEY) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(sim.url, { headers: { MisKey: misKey } });
        const client = { ws, frames: [], closed: null };
        ws.on('message', (data) => client.frames.push(JSON.parse(data.toString())));
        ws.on('close', (code, reason) => { client.closed = { code, reason: reason.toString() }; });
        ws.on('unexpected-response', (_req, res) => { res.resume(); ws.terminate(); resolve({ status: res.statusCode }); });
        ws.on('open', () => resolve(client));
        ws.on('error', (err) => { if (ws.readyState === WebSocket.CONNECTING) { reject(err); } });
    });
}

describe('PrintFactory simulator: a second connection of the same MisKey', function () {
    let sim;
    const clients = [];
    async function start(mode) {
        sim = new PrintFactorySimulator({ misKeys: [KEY, 'other-key'], secondConnection: mode });
        await sim.start();
    }
    async function open(misKey) {
        const c = await connect(sim, misKey);
        if (c.ws) { clients.push(c); }
        return c;
    }
    afterEach(async function () {
        for (const c of clients.splice(0)) { c.ws.terminate(); }
        if (sim) { await sim.stop(); sim = null; }
    });

    it('knows the three modes and refuses an unknown one', function () {
        assert.deepStrictEqual([...SECOND_CONNECTION_MODES], ['refuse', 'lastWins', 'split']);
        assert.throws(() => new PrintFactorySimulator({ secondConnection: 'oldestWins' }), /unknown second-connection mode "oldestWins"/);
    });

    it('refuse (the default): the second handshake is answered 409, the first stays open', async function () {
        sim = new PrintFactorySimulator({ misKeys: [KEY] });
        await sim.start();
        const rejected = [];
        sim.on('rejected', (r) => rejected.push(r));
        const first = await open();
        assert.deepStrictEqual(await open(), { status: 409 });
        assert.deepStrictEqual(rejected, ['duplicate']);
        assert.strictEqual(sim.broadcast({ JobGUID: 'g1' }), 1);
        await waitFor(() => first.frames.length === 1, 'the frame at the first client');
        assert.strictEqual(first.closed, null);
        assert.strictEqual(sim.displacements, 0);
    });

    it('lastWins: the newer connection is accepted and the older one closed with 1000, as an ordinary close looks', async function () {
        await start('lastWins');
        const displaced = [];
        sim.on('displaced', (k) => displaced.push(k));
        const first = await open();
        const other = await open('other-key');
        const second = await open();
        await waitFor(() => first.closed !== null, 'the older connection closed');
        assert.deepStrictEqual(first.closed, { code: DISPLACED_CLOSE.code, reason: DISPLACED_CLOSE.reason });
        assert.deepStrictEqual(displaced, [KEY]);
        assert.strictEqual(sim.displacements, 1);
        assert.strictEqual(other.closed, null, 'another organisation is not touched');
        await waitFor(() => sim.connectionCount === 2, 'two open connections (one per MisKey)');
        assert.strictEqual(sim.broadcast({ JobGUID: 'after' }), 2);
        await waitFor(() => second.frames.length === 1 && other.frames.length === 1, 'the frame at the newer and the other client');
        assert.strictEqual(first.frames.length, 0);
    });

    it('split: both connections stay open and each event goes to exactly one of them, in turn', async function () {
        await start('split');
        const a = await open();
        const b = await open();
        const other = await open('other-key');
        for (let i = 0; i < 10; i++) { assert.strictEqual(sim.broadcast({ JobGUID: `g${i}` }), 2, 'one frame per MisKey'); }
        await waitFor(() => a.frames.length + b.frames.length === 10 && other.frames.length === 10, 'every frame delivered');
        assert.strictEqual(a.frames.length, 5);
        assert.strictEqual(b.frames.length, 5);
        const seen = [...a.frames, ...b.frames].map((f) => f.JobGUID).sort();
        assert.deepStrictEqual(seen, Array.from({ length: 10 }, (_, i) => `g${i}`).sort(), 'each event once across the pair');
        assert.strictEqual(sim.peakConnections, 3);
        assert.strictEqual(sim.displacements, 0);
        // The mode can change at run time; open connections stay.
        sim.setSecondConnection('refuse');
        assert.deepStrictEqual(await open(), { status: 409 });
        assert.strictEqual(sim.connectionCount, 3);
    });
});
