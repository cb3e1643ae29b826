'use strict';
// Pure unit tests of nodes/lib/printfactory/frames.ts: every framing a notification server may use gives the same
// values in order; keep-alives are quiet; the size, depth and __proto__ limits hold for every value.
const assert = require('assert');
const { readFrame, splitValues, MAX_FRAME_BYTES } = require('../../dist/nodes/lib/printfactory/frames');
const { MAX_JSON_DEPTH } = require('../../dist/nodes/lib/json-limits');

const A = { JobGUID: 'a', Status: 'Created' };
const B = { DeviceGUID: 'b', Status: 'Idle', RemainingInks: [{ InkName: 'Cyan', Level: 1 }] };
const C = { JobGUID: 'c', Event: 'Reprint', EventDate: '2026-01-15T10:30:00Z' };
const text = (s) => Buffer.from(s, 'utf8');
const read = (s, binary = false) => readFrame(Buffer.isBuffer(s) ? s : text(s), binary);

describe('printfactory frames', function () {
    const one = [A, B, C].map((v) => JSON.stringify(v));
    const framings = {
        'one JSON array': `[${one.join(',')}]`,
        'a pretty-printed JSON array': JSON.stringify([A, B, C], null, 2),
        'concatenated objects': one.join(''),
        'NDJSON (LF)': one.join('\n') + '\n',
        'CRLF lines': one.join('\r\n') + '\r\n',
        'JSON text sequences (RFC 7464, \\x1e before each, LF after)': one.map((s) => `\u001e${s}\n`).join(''),
        'record separators only': one.join('\u001e'),
        'a BOM before NDJSON': '\ufeff' + one.join('\n'),
        'a BOM before each line': one.map((s) => '\ufeff' + s).join('\r\n'),
        'blank lines and spaces between': `\n\n  ${one[0]}  \n\n\t${one[1]}\n \n${one[2]}\n\n`,
        'an array and two objects in NDJSON': `[${one[0]}]\n${one[1]}\n${one[2]}`
    };
    for (const [name, frame] of Object.entries(framings)) {
        it(`${name}: the three notifications in order`, function () {
            for (const binary of [false, true]) {
                const f = read(frame, binary);
                assert.deepStrictEqual(f.values, [A, B, C], `${binary ? 'binary' : 'text'} frame`);
                assert.deepStrictEqual(f.bad, []);
                assert.strictEqual(f.keepAlive, false);
                const copy = f.copy();
                assert.deepStrictEqual(copy, [A, B, C], 'a copy has the same values');
                assert.notStrictEqual(copy[0], f.values[0], 'a copy is a new object');
            }
        });
    }

    it('one object (the common frame), with a BOM, or in a binary frame: one value', function () {
        for (const [frame, binary] of [[one[0], false], ['\ufeff' + one[0], false], [one[0], true], ['\ufeff' + one[0], true], [` ${one[0]}\r\n`, false]]) {
            const f = read(frame, binary);
            assert.deepStrictEqual(f.values, [A], JSON.stringify(frame));
            assert.deepStrictEqual(f.bad, []);
        }
    });

    it('ignores text keep-alives quietly', function () {
        for (const frame of ['ping', 'pong', 'PING', 'keepalive', 'keep-alive', 'KeepAlive', 'heartbeat', '', ' ', '\r\n', '\t \n', '\ufeff', ' ping\n']) {
            for (const binary of [false, true]) {
                const f = read(frame, binary);
                assert.deepStrictEqual({ values: f.values, bad: f.bad, keepAlive: f.keepAlive }, { values: [], bad: [], keepAlive: true }, JSON.stringify(frame));
            }
        }
    });

    it('a JSON string "ping" is a value, not a keep-alive', function () {
        assert.deepStrictEqual(read('"ping"').values, ['ping']);
    });

    it('drops a binary frame that is not UTF-8, and text that is not JSON', function () {
        assert.deepStrictEqual(read(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x7b, 0x7d]), true).bad, ['binary']);
        assert.deepStrictEqual(read(Buffer.from([0x7b, 0xff, 0x7d]), true).values, []);
        for (const frame of ['this is not JSON {"JobGUID": ', 'ping me', '<html>502 Bad Gateway</html>', '{"JobGUID":"a"']) {
            const f = read(frame);
            assert.deepStrictEqual(f.values, [], frame);
            assert.deepStrictEqual(f.bad, ['notJson'], frame);
            assert.strictEqual(f.keepAlive, false);
        }
    });

    it('delivers the good values of a frame with a broken part, and counts the part', function () {
        const f = read(`${one[0]}\n{"JobGUID":"broken"\n`);
        assert.deepStrictEqual(f.values, [A]);
        assert.deepStrictEqual(f.bad, ['notJson']);
        const g = read(`${one[0]}\nnot json\n${one[2]}`);
        assert.deepStrictEqual(g.values, [A, C]);
        assert.deepStrictEqual(g.bad, ['notJson', 'notJson'], 'one per broken part ("not" and "json")');
    });

    it('flattens only the top-level array; nested arrays are values of their own', function () {
        assert.deepStrictEqual(read('[[1,2],{"a":1}]').values, [[1, 2], { a: 1 }]);
        assert.deepStrictEqual(read('[]').values, []);
        assert.deepStrictEqual(read('[]').keepAlive, false);
        assert.deepStrictEqual(read('42').values, [42]);
        assert.deepStrictEqual(read('1 2 "x" null true').values, [1, 2, 'x', null, true]);
    });

    it('keeps strings with brackets, quotes and separators inside intact', function () {
        const tricky = [{ Message: '}{ "\\" ][ \n\r\u001e' }, { Message: 'a\\' }];
        const frame = tricky.map((v) => JSON.stringify(v)).join('\n');
        assert.deepStrictEqual(read(frame).values, tricky);
        assert.deepStrictEqual(splitValues(frame).length, 2);
    });

    it('applies the size limit to the frame', function () {
        const big = JSON.stringify([{ JobGUID: 'x', Padding: 'y'.repeat(MAX_FRAME_BYTES) }]);
        assert.deepStrictEqual(read(big).bad, ['tooLarge']);
        assert.deepStrictEqual(read(big, true).bad, ['tooLarge']);
    });

    it('applies the depth limit in every framing', function () {
        const deep = '{"a":'.repeat(MAX_JSON_DEPTH + 5) + '1' + '}'.repeat(MAX_JSON_DEPTH + 5);
        for (const frame of [deep, `${one[0]}\n${deep}`, `[${deep}]`, '\ufeff' + deep]) {
            for (const binary of [false, true]) {
                const f = read(frame, binary);
                assert.deepStrictEqual(f.bad, ['tooDeep']);
                assert.deepStrictEqual(f.values, []);
            }
        }
        const ok = '{"a":'.repeat(MAX_JSON_DEPTH - 2) + '1' + '}'.repeat(MAX_JSON_DEPTH - 2);
        assert.strictEqual(read(`${ok}\n${ok}`).values.length, 2, 'values within the limit pass');
    });

    it('leaves out each value with a __proto__ key and delivers the others', function () {
        const evil = '{"JobGUID":"p","__proto__":{"Status":"Deleted"}}';
        const escaped = '{"JobGUID":"q","Job":{"\\u005f_proto__":{"x":1}}}';
        for (const frame of [`[${one[0]},${evil},${one[2]}]`, `${one[0]}\n${evil}\n${one[2]}`, `${one[0]}${escaped}${one[2]}`]) {
            const f = read(frame);
            assert.deepStrictEqual(f.values, [A, C], frame);
            assert.deepStrictEqual(f.bad, ['protoKey']);
            assert.deepStrictEqual(f.copy(), [A, C], 'copies leave out the same value');
        }
        assert.deepStrictEqual(read(evil).bad, ['protoKey']);
        assert.deepStrictEqual(read(evil).values, []);
    });

    it('splitValues: null for prose, the parts of JSON values', function () {
        assert.strictEqual(splitValues('hello {"a":1}'), null);
        assert.deepStrictEqual(splitValues('{"a":1} [2] "x" -3 true'), ['{"a":1}', '[2]', '"x"', '-3', 'true']);
        assert.deepStrictEqual(splitValues(' \n '), []);
    });
});

describe('the simulator\'s frame forms through a PrintFactoryConnection on loopback', function () {
    const { PrintFactoryConnection } = require('../../dist/nodes/lib/printfactory/connection');
    const { PrintFactorySimulator, FRAME_FORMS, KEEP_ALIVE_KINDS, SHAPE_VARIANTS, encodeFrames, shapeVariant, freshExample, EXAMPLE_NAMES, expectedEvent } =
        require('../../dist/simulators/printfactory');
    const { waitFor, sleep } = require('../lib/wait');
    const MIS_KEY = 'frames-key-3a9d';
    let sim;
    let conn;
    let received;
    let bad;

    before(async function () {
        sim = new PrintFactorySimulator({ misKeys: [MIS_KEY] });
        await sim.start();
        received = [];
        bad = [];
        let state = 'idle';
        conn = new PrintFactoryConnection({ url: sim.url, misKey: MIS_KEY, label: 'frames', logger: { log() {}, warn() {} } });
        conn.register({ onNotification: (n) => received.push(n), onStatus: (s) => { state = s.state; }, onBadFrame: (reason) => bad.push(reason) });
        await waitFor(() => state === 'connected', 'the connection', 10000);
    });

    after(async function () {
        await conn.close();
        await sim.stop();
    });

    it('encodeFrames: every form reads back as the same values (pure)', function () {
        const values = EXAMPLE_NAMES.map((name) => freshExample(name));
        for (const form of FRAME_FORMS) {
            const frames = encodeFrames(values, form);
            const read = frames.flatMap((f) => readFrame(Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data), f.binary).values);
            assert.deepStrictEqual(read, values, form);
        }
    });

    for (const variant of SHAPE_VARIANTS) {
        it(`every documented shape spelled "${variant}", in every frame form: each once, in order, with its event`, async function () {
            for (const form of FRAME_FORMS) {
                received.length = 0;
                const payloads = EXAMPLE_NAMES.map((name) => shapeVariant(freshExample(name), variant));
                assert.ok(sim.sendFramed(payloads, form) >= 1);
                await waitFor(() => received.length >= payloads.length, `${form}: ${payloads.length} notifications`, 10000);
                // a duration: no extra notification within 20 ms.
                await sleep(20);
                assert.deepStrictEqual(received.map((n) => n.payload), payloads, `${variant}/${form}: payloads exactly as sent, in order`);
                assert.deepStrictEqual(received.map((n) => n.event), EXAMPLE_NAMES.map((name) => expectedEvent[name]), `${variant}/${form}: events`);
                assert.ok(received.every((n) => n.jobGuid !== undefined || n.deviceGuid !== undefined), 'a GUID on every msg');
            }
            assert.deepStrictEqual(bad, [], 'no bad frame');
        });
    }

    it('keep-alives: no notification, no bad frame, the socket stays open', async function () {
        received.length = 0;
        for (const kind of KEEP_ALIVE_KINDS) { sim.sendKeepAlive(kind); }
        sim.broadcast({ JobGUID: 'after-keep-alives' });
        await waitFor(() => received.length >= 1, 'the notification after the keep-alives', 10000);
        // a duration: no extra notification within 20 ms.
        await sleep(20);
        assert.deepStrictEqual(received.map((n) => n.payload), [{ JobGUID: 'after-keep-alives' }]);
        assert.deepStrictEqual(bad, []);
        assert.strictEqual(sim.connectionCount, 1);
    });
});
