'use strict';
// The simulated print floor behind the PrintFactory trickle (what the demo's dashboard shows):
// documented shapes, devices moving between Printing, Idle and Error, inks drained and refilled, jobs recurring.
const assert = require('assert');
const WebSocket = require('ws');
const { waitFor } = require('../lib/wait');
const { PrintFactorySimulator, PrintFloor, FLOOR_DEVICE_GUIDS } = require('../../dist/simulators/printfactory');
const { classify } = require('../../dist/nodes/lib/printfactory/classify');

// A small seeded generator, so a run is repeatable.
function seeded(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 2 ** 32;
    };
}

describe('PrintFactory simulated print floor', function () {
    it('sends documented device.status shapes with levels within 0..MaxLevel, round robin over the devices', function () {
        const floor = new PrintFloor({ random: seeded(1) });
        const seen = [];
        for (let i = 0; i < 30; i++) {
            const d = floor.nextDeviceStatus();
            seen.push(d.DeviceGUID);
            assert.strictEqual(classify(d), 'device.status');
            assert.ok(['Printing', 'Idle', 'Error'].includes(d.Status), d.Status);
            assert.ok(['Online', 'Unstable'].includes(d.ConnectionState));
            assert.strictEqual(typeof d.Temperature, 'number');
            assert.ok(Number.isInteger(d.QueueLength[0].Value) && d.QueueLength[0].Value >= 0);
            assert.deepStrictEqual(d.RemainingInks.map((ink) => ink.InkName), ['Cyan', 'Magenta', 'Yellow', 'Black']);
            for (const ink of d.RemainingInks) { assert.ok(ink.Level >= 0 && ink.Level <= ink.MaxLevel, JSON.stringify(ink)); }
        }
        assert.deepStrictEqual(seen.slice(0, 3), FLOOR_DEVICE_GUIDS);
    });

    it('drains inks while printing, stops with an error when one runs empty, refills it and goes idle', function () {
        const floor = new PrintFloor({ random: seeded(7) });
        const history = new Map(FLOOR_DEVICE_GUIDS.map((g) => [g, []]));
        for (let i = 0; i < 600; i++) {
            const d = floor.nextDeviceStatus();
            history.get(d.DeviceGUID).push(d);
        }
        const states = new Set();
        let drained = 0;
        let inkErrors = 0;
        let refills = 0;
        for (const list of history.values()) {
            for (let i = 1; i < list.length; i++) {
                const prev = list[i - 1];
                const cur = list[i];
                states.add(cur.Status);
                if (prev.Status === 'Printing') {
                    cur.RemainingInks.forEach((ink, k) => assert.ok(ink.Level <= prev.RemainingInks[k].Level, 'printing never adds ink'));
                    if (cur.RemainingInks.some((ink, k) => ink.Level < prev.RemainingInks[k].Level)) { drained += 1; }
                }
                if (cur.Status === 'Error' && /^Ink empty: /.test(cur.Message)) {
                    inkErrors += 1;
                    const name = cur.Message.slice('Ink empty: '.length);
                    const ink = cur.RemainingInks.find((x) => x.InkName === name);
                    assert.ok(ink.Level < ink.MaxLevel * 0.06, `${name} is really empty`);
                }
                if (prev.Status === 'Error' && /^Ink refilled: /.test(cur.Message)) {
                    refills += 1;
                    assert.strictEqual(cur.Status, 'Idle');
                    for (const name of cur.Message.slice('Ink refilled: '.length).split(', ')) {
                        const ink = cur.RemainingInks.find((x) => x.InkName === name);
                        assert.strictEqual(ink.Level, ink.MaxLevel, `${name} refilled to MaxLevel`);
                    }
                }
            }
        }
        assert.deepStrictEqual([...states].sort(), ['Error', 'Idle', 'Printing']);
        assert.ok(drained > 50, `inks drained on ${drained} printing steps`);
        assert.ok(inkErrors > 0 && refills > 0, `ink errors ${inkErrors}, refills ${refills}`);
    });

    it('job notifications are documented job/nester shapes and print jobs recur under a few JobGUIDs', function () {
        const floor = new PrintFloor({ random: seeded(3) });
        const events = [];
        for (let i = 0; i < 64; i++) { events.push(floor.nextJobEvent()); }
        const names = events.map((e) => classify(e));
        assert.ok(names.every((n) => /^(job|nester)\./.test(n)), names.join());
        assert.ok(names.includes('job.created') && names.includes('nester.jobCreated') && names.includes('job.copyAdded'));
        const jobs = events.filter((e) => !('NestGUID' in e));
        const counts = new Map();
        for (const e of jobs) { counts.set(e.JobGUID, (counts.get(e.JobGUID) || 0) + 1); }
        assert.ok([...counts.values()].some((c) => c >= 3), 'some job gets several notifications');
    });

    it('the default trickle alternates device.status and job events over the socket; "examples" mode cycles every shape', async function () {
        const sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: ['k'] });
        await sim.start();
        const ws = new WebSocket(sim.url, { headers: { MisKey: 'k' } });
        const got = [];
        ws.on('message', (data) => got.push(JSON.parse(data.toString())));
        try {
            await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
            sim.startTrickle(20);
            await waitFor(() => got.length >= 8, 'eight trickled notifications');
            sim.stopTrickle();
            const kinds = got.slice(0, 8).map((p) => classify(p) === 'device.status');
            assert.deepStrictEqual(kinds, [true, false, true, false, true, false, true, false]);
            got.length = 0;
            assert.throws(() => sim.startTrickle(20, 'nonsense'), /unknown trickle mode/);
            sim.startTrickle(20, 'examples');
            await waitFor(() => got.length >= 3, 'three trickled examples');
            sim.stopTrickle();
            assert.deepStrictEqual(got.slice(0, 3).map((p) => classify(p)), ['job.created', 'device.status', 'job.updated']);
        } finally {
            sim.stopTrickle();
            ws.terminate();
            await sim.stop();
        }
    });
});
