'use strict';
// Unit tests of the input guards shared by the package: callback body parsing (UTF-8, depth, emptiness),
// topic cleaning, the RFC 7515 crit rule, and the rate-limited log used for bad frames and rejected callbacks.
const assert = require('assert');
const crypto = require('crypto');
const jwt = require('jsonwebtoken');
const { waitFor } = require('../lib/wait');
const { parseCallbackBody, classifyCallback, stripControlCharacters } = require('../../dist/nodes/lib/durst/callback');
const { verifyCallback } = require('../../dist/nodes/lib/durst/verify');
const { MAX_JSON_DEPTH, jsonDeeperThan } = require('../../dist/nodes/lib/json-limits');
const connection = require('../../dist/nodes/lib/printfactory/connection');
const { RateLimitedLog } = require('../../dist/nodes/lib/rate-limited-log');
const { CallbackDeduper } = require('../../dist/nodes/lib/durst/dedupe');

describe('shared input limits', function () {
    it('PrintFactory frames and Durst callbacks share one depth limit', function () {
        assert.strictEqual(MAX_JSON_DEPTH, 64);
        assert.strictEqual(connection.MAX_JSON_DEPTH, MAX_JSON_DEPTH);
        assert.strictEqual(connection.jsonDeeperThan, jsonDeeperThan);
    });

    it('parses any JSON value and refuses empty, non-UTF-8, too deep and broken bodies with a reason', function () {
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('42')), { ok: true, value: 42 });
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('null')), { ok: true, value: null });
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('\ufeff{"a":1}')), { ok: true, value: { a: 1 } }, 'a UTF-8 BOM is allowed');
        assert.deepStrictEqual(parseCallbackBody(Buffer.from(' \r\n')), { ok: false, error: 'empty body' });
        assert.deepStrictEqual(parseCallbackBody(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), { ok: false, error: 'body is not valid UTF-8' });
        const atLimit = '['.repeat(64) + ']'.repeat(64);
        assert.strictEqual(parseCallbackBody(Buffer.from(atLimit)).ok, true);
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('[' + atLimit + ']')), { ok: false, error: 'JSON nested deeper than 64 levels' });
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('['.repeat(5000) + ']'.repeat(5000))), { ok: false, error: 'JSON nested deeper than 64 levels' });
        const broken = parseCallbackBody(Buffer.from('{"a":\u0000\u202e' + 'x'.repeat(500)));
        assert.strictEqual(broken.ok, false);
        assert.match(broken.error, /^invalid JSON: /);
        assert.ok(broken.error.length <= 200 && !broken.error.includes('\u0000') && !broken.error.includes('\u202e'), 'short and printable: ' + JSON.stringify(broken.error));
    });

    it('keeps control, bidi and zero-width characters out of msg.topic', function () {
        assert.strictEqual(stripControlCharacters('A\u0000B\u0007C\u0085D\u202eE\u2066F\u200bG\ufeffH\u2028I'), 'ABCDEFGHI');
        assert.strictEqual(classifyCallback({ entityType: '\u202eMOTIF\u0000', entityId: '11\u200b094' }).topic, 'STATUS/MOTIF/11094');
        assert.strictEqual(classifyCallback({ name: 'motif-checkin\u202e', id: 5, progress: 1 }).topic, 'WORKFLOW/motif-checkin/5');
        // Nothing left after cleaning is no id at all.
        assert.deepStrictEqual(classifyCallback({ entityType: '\u0000\u202e', entityId: 3 }), { topic: 'UNKNOWN', event: 'unknown' });
    });

    it('refuses a correctly signed JWT whose header has a crit member (RFC 7515 4.1.11), accepts it without', function () {
        const key = 'unit-key';
        const body = Buffer.from('{"a":1}');
        const bodySha256 = crypto.createHash('sha256').update(body).digest('hex');
        const settings = { externalAuthType: 'JWT_SIGNING', jwtKey: key, jwtMethod: 'HS256' };
        const sign = (header) => jwt.sign({ bodySha256 }, key, { algorithm: 'HS256', header: { alg: 'HS256', typ: 'JWT', ...header } });
        assert.strictEqual(verifyCallback(settings, { 'x-jwt-token': sign({}) }, body).ok, true);
        const crit = verifyCallback(settings, { 'x-jwt-token': sign({ crit: ['exp-ext'], 'exp-ext': 1 }) }, body);
        assert.strictEqual(crit.ok, false);
        assert.match(crit.reason, /critical header extension.*exp-ext/);
        assert.match(verifyCallback(settings, { 'x-jwt-token': sign({ crit: [] }) }, body).reason, /malformed crit/);
        assert.match(verifyCallback(settings, { 'x-jwt-token': sign({ crit: 'b64' }) }, body).reason, /malformed crit/);
        // The signature is checked first (the header is decoded once, by jsonwebtoken): a forged token with crit
        // is refused for its signature.
        const forged = jwt.sign({ bodySha256 }, 'other-key', { algorithm: 'HS256', header: { alg: 'HS256', typ: 'JWT', crit: ['exp-ext'], 'exp-ext': 1 } });
        const refused = verifyCallback(settings, { 'x-jwt-token': forged }, body);
        assert.strictEqual(refused.ok, false);
        assert.match(refused.reason, /invalid signature/);
    });

    it('rate-limited log: the first line at once, then one count per interval, the rest at dispose', async function () {
        const lines = [];
        const log = new RateLimitedLog((t) => lines.push(t), 200, (count, seconds) => `${count} more in ${seconds} s`);
        log.log('first');
        for (let i = 0; i < 99; i++) { log.log('again'); }
        assert.deepStrictEqual(lines, ['first']);
        // The summary comes by itself once the interval is over (waited for, not timed).
        await waitFor(() => lines.length >= 2, 'the summary line', 2000);
        assert.deepStrictEqual(lines, ['first', '99 more in 0 s']);
        log.log('held');
        log.dispose();
        assert.deepStrictEqual(lines, ['first', '99 more in 0 s', '1 more in 0 s'], 'dispose reports what was held back');
        log.dispose();
        assert.strictEqual(lines.length, 3);
        const throwing = new RateLimitedLog(() => { throw new Error('logger down'); }, 1000, () => '');
        assert.doesNotThrow(() => throwing.log('x'));
    });

    it('a callback that could not be sent on is forgotten by repeat suppression, so its retry is delivered', function () {
        const deduper = new CallbackDeduper(60000);
        const body = Buffer.from('{"entityType":"MOTIF","entityId":1,"newStatus":"PRINTED","created":"2026-11-24T07:00:00Z"}');
        const payload = JSON.parse(body.toString());
        assert.strictEqual(deduper.isRepeat(body, payload), false);
        deduper.forget(body, payload);
        assert.strictEqual(deduper.isRepeat(body, payload), false, 'the retry is a first sighting again');
        assert.strictEqual(deduper.isRepeat(body, payload), true, 'and the one after it a repeat');
    });
});
