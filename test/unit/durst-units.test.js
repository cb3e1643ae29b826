'use strict';
// Pure-function tests: topic catalogue, callback classification, webhook verification, list parsing.
const assert = require('assert');
const crypto = require('crypto');
const jwt = require('jsonwebtoken');
const { validateTopic, DURST_TOPICS, isConcreteTopic, topicMatches } = require('../../dist/nodes/lib/durst/topics');
const { classifyCallback, parseCallbackBody } = require('../../dist/nodes/lib/durst/callback');
const { verifyCallback, base64Bytes } = require('../../dist/nodes/lib/durst/verify');
const { parseBody, normaliseList } = require('../../dist/nodes/lib/durst/rest-client');
const { normalisePath, parseSize, isJsonContentType, bodyEncoding } = require('../../dist/nodes/lib/durst/dispatcher');
const { nonSecretDifferences } = require('../../dist/nodes/lib/durst/registration');

describe('durst topics', function () {
    it('lists every documented topic with its version', function () {
        assert.strictEqual(DURST_TOPICS.length, 20);
        assert.strictEqual(DURST_TOPICS.filter((t) => t.since === '1.7.6').length, 11);
        assert.strictEqual(DURST_TOPICS.filter((t) => t.since === '1.8.2').length, 8);
        assert.deepStrictEqual(DURST_TOPICS.filter((t) => t.since === '1.10.0').map((t) => t.pattern), ['REPO/*']);
    });

    it('accepts wildcard topics and concrete ids for placeholders', function () {
        for (const topic of ['STATUS/*', 'STATUS/PRODUCTION_JOB/*', 'WORKFLOW/motif-checkin/*', 'REPO/*', 'WORKFLOW/*']) {
            assert.strictEqual(validateTopic(topic).valid, true, topic);
        }
        const job = validateTopic('STATUS/PRODUCTION_JOB/2068');
        assert.strictEqual(job.valid, true);
        assert.strictEqual(job.definition.pattern, 'STATUS/PRODUCTION_JOB/{jobid}');
        assert.deepStrictEqual(job.ids, { jobid: '2068' });
        assert.strictEqual(validateTopic('WORKFLOW/12842/*').definition.pattern, 'WORKFLOW/{workflowid}/*');
        assert.strictEqual(validateTopic(' STATUS/MOTIF/11094 ').topic, 'STATUS/MOTIF/11094');
    });

    it('rejects unknown topics, leftover placeholders and non-numeric ids with clear errors', function () {
        const unknown = validateTopic('STATUS/PRINTER/*');
        assert.strictEqual(unknown.valid, false);
        assert.match(unknown.error, /Unknown Durst topic "STATUS\/PRINTER\/\*"/);
        assert.match(validateTopic('STATUS/PRODUCTION_JOB/{jobid}').error, /placeholder/);
        assert.strictEqual(validateTopic('STATUS/PRODUCTION_JOB/abc').valid, false);
        assert.strictEqual(validateTopic('STATUS/PRODUCTION_JOB/-1').valid, false);
        assert.strictEqual(validateTopic('status/*').valid, false);
        assert.match(validateTopic('').error, /missing/);
        assert.match(validateTopic(undefined).error, /missing/);
        assert.strictEqual(validateTopic('WORKFLOW/not-a-workflow/*').valid, false);
    });

    it('tells concrete topics from wildcards and matches event topics', function () {
        assert.strictEqual(isConcreteTopic('STATUS/PRODUCTION_JOB/2068'), true);
        assert.strictEqual(isConcreteTopic('STATUS/PRODUCTION_JOB/*'), false);
        assert.strictEqual(topicMatches('STATUS/*', 'STATUS/MOTIF/11094'), true);
        assert.strictEqual(topicMatches('STATUS/PRODUCTION_JOB/*', 'STATUS/MOTIF/11094'), false);
        assert.strictEqual(topicMatches('STATUS/PRODUCTION_JOB/2068', 'STATUS/PRODUCTION_JOB/2068'), true);
        assert.strictEqual(topicMatches('STATUS/PRODUCTION_JOB/2068', 'STATUS/PRODUCTION_JOB/2069'), false);
        assert.strictEqual(topicMatches('WORKFLOW/motif-checkin/*', 'WORKFLOW/motif-checkin/12842'), true);
    });
});

describe('durst callback classification', function () {
    it('classifies the documented status callbacks', function () {
        assert.deepStrictEqual(classifyCallback({ entityType: 'PRODUCTION_JOB', entityId: 2068, created: 'x', newStatus: 'CREATED', printer: { id: 5 } }),
            { topic: 'STATUS/PRODUCTION_JOB/2068', event: 'status' });
        assert.deepStrictEqual(classifyCallback({ entityType: 'MOTIF', entityId: 11094, oldStatus: 'CREATED', newStatus: 'CHECKED_IN' }),
            { topic: 'STATUS/MOTIF/11094', event: 'status' });
    });

    it('classifies the documented workflow callbacks', function () {
        assert.deepStrictEqual(classifyCallback({ id: 12842, name: 'motif-checkin', status: 'SUCCESS', progress: 100, currentStep: 'Update' }),
            { topic: 'WORKFLOW/motif-checkin/12842', event: 'workflow' });
        assert.deepStrictEqual(classifyCallback({ id: 12835, name: 'production-job-calculate-ink-usage', progress: 40 }),
            { topic: 'WORKFLOW/production-job-calculate-ink-usage/12835', event: 'workflow' });
    });

    it('recognises substrate repository updates heuristically', function () {
        assert.deepStrictEqual(classifyCallback({ type: 'SUBSTRATE', id: 7, action: 'UPDATED' }), { topic: 'REPO/SUBSTRATE/7', event: 'repo' });
        assert.deepStrictEqual(classifyCallback({ entityType: 'SUBSTRATE_SHAPE', entityId: 3, action: 'DELETED' }), { topic: 'REPO/SUBSTRATE_SHAPE/3', event: 'repo' });
        assert.deepStrictEqual(classifyCallback({ substrateCategory: { id: 2, name: 'Paper' } }), { topic: 'REPO/SUBSTRATE_CATEGORY', event: 'repo' });
    });

    it('falls back to unknown for anything else', function () {
        for (const body of [{ hello: 'world' }, [], null, 'text', 42, { id: 1, name: 'no-progress' }, { entityType: 'MOTIF' }]) {
            assert.deepStrictEqual(classifyCallback(body), { topic: 'UNKNOWN', event: 'unknown' }, JSON.stringify(body));
        }
    });
});

describe('durst callback verification', function () {
    const body = Buffer.from(JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 2068, newStatus: 'CREATED' }));
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    const jwtSettings = { externalAuthType: 'JWT_SIGNING', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', jwtKey: 'shared-secret' };
    const sign = (claims, key = 'shared-secret', options = { algorithm: 'HS256' }) => jwt.sign(claims, key, options);

    it('accepts a correctly signed token with a matching body digest and exposes no secret', function () {
        const result = verifyCallback(jwtSettings, { 'x-jwt-token': sign({ sub: 'STATUS/PRODUCTION_JOB/2068', bodySha256: sha }) }, body);
        assert.strictEqual(result.ok, true, result.reason);
        assert.strictEqual(result.auth.type, 'JWT_SIGNING');
        assert.strictEqual(result.auth.alg, 'HS256');
        assert.strictEqual(result.auth.digestVerified, true);
        assert.strictEqual(result.auth.claims.sub, 'STATUS/PRODUCTION_JOB/2068');
        assert.ok(!JSON.stringify(result).includes('shared-secret'));
    });

    it('accepts the digest under sha256/digest claim names and in base64', function () {
        assert.strictEqual(verifyCallback(jwtSettings, { 'x-jwt-token': sign({ sha256: sha }) }, body).ok, true);
        const b64 = crypto.createHash('sha256').update(body).digest('base64');
        assert.strictEqual(verifyCallback(jwtSettings, { 'x-jwt-token': sign({ digest: b64 }) }, body).ok, true);
    });

    it('rejects a tampered body', function () {
        const tampered = Buffer.from(body.toString().replace('2068', '2069'));
        const result = verifyCallback(jwtSettings, { 'x-jwt-token': sign({ bodySha256: sha }) }, tampered);
        assert.strictEqual(result.ok, false);
        assert.match(result.reason, /digest/);
    });

    it('rejects a token signed with the wrong key', function () {
        const result = verifyCallback(jwtSettings, { 'x-jwt-token': sign({ bodySha256: sha }, 'other-key') }, body);
        assert.strictEqual(result.ok, false);
        assert.match(result.reason, /invalid signature/);
    });

    it('rejects alg none', function () {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const payload = Buffer.from(JSON.stringify({ bodySha256: sha })).toString('base64url');
        const result = verifyCallback(jwtSettings, { 'x-jwt-token': `${header}.${payload}.` }, body);
        assert.strictEqual(result.ok, false);
    });

    it('rejects another HMAC size and RS256 tokens (algorithm confusion)', function () {
        assert.strictEqual(verifyCallback(jwtSettings, { 'x-jwt-token': sign({ bodySha256: sha }, 'shared-secret', { algorithm: 'HS512' }) }, body).ok, false);
        const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const rs = jwt.sign({ bodySha256: sha }, privateKey.export({ type: 'pkcs8', format: 'pem' }), { algorithm: 'RS256' });
        const pem = publicKey.export({ type: 'spki', format: 'pem' });
        const result = verifyCallback({ ...jwtSettings, jwtKey: pem }, { 'x-jwt-token': rs }, body);
        assert.strictEqual(result.ok, false);
        assert.match(result.reason, /invalid algorithm/);
    });

    it('honours exp and nbf', function () {
        const now = Math.floor(Date.now() / 1000);
        const expired = verifyCallback(jwtSettings, { 'x-jwt-token': sign({ bodySha256: sha, iat: now - 600, exp: now - 300 }) }, body);
        assert.strictEqual(expired.ok, false);
        assert.match(expired.reason, /expired/);
        const skewed = verifyCallback(jwtSettings, { 'x-jwt-token': sign({ bodySha256: sha, iat: now - 310, exp: now - 10 }) }, body);
        assert.strictEqual(skewed.ok, true, 'a few seconds of clock skew are tolerated');
        const early = verifyCallback(jwtSettings, { 'x-jwt-token': sign({ bodySha256: sha, nbf: now + 600 }) }, body);
        assert.strictEqual(early.ok, false);
        assert.match(early.reason, /not active/);
    });

    it('rejects a missing header and uses the configured header name', function () {
        const missing = verifyCallback(jwtSettings, {}, body);
        assert.strictEqual(missing.ok, false);
        assert.match(missing.reason, /missing x-jwt-token/);
        const custom = { ...jwtSettings, jwtHeaderName: 'X-Durst-Signature' };
        assert.strictEqual(verifyCallback(custom, { 'x-durst-signature': sign({ bodySha256: sha }) }, body).ok, true);
        assert.strictEqual(verifyCallback(custom, { 'x-jwt-token': sign({ bodySha256: sha }) }, body).ok, false);
    });

    it('fails closed when no key is configured', function () {
        assert.strictEqual(verifyCallback({ ...jwtSettings, jwtKey: '' }, { 'x-jwt-token': sign({}) }, body).ok, false);
    });

    const xauth = { externalAuthType: 'XAUTH', xAuthUser: 'durst', xAuthPassword: 's3cret' };

    it('accepts XAUTH via x-auth headers and via HTTP Basic', function () {
        const headers = verifyCallback(xauth, { 'x-auth-user': 'durst', 'x-auth-password': 's3cret' }, body);
        assert.strictEqual(headers.ok, true);
        assert.deepStrictEqual(headers.auth, { type: 'XAUTH', via: 'x-auth-headers', user: 'durst', secret: 'configured', secretForm: 'text', charset: 'utf-8' });
        const basic = verifyCallback(xauth, { authorization: 'Basic ' + Buffer.from('durst:s3cret').toString('base64') }, body);
        assert.strictEqual(basic.ok, true);
        assert.strictEqual(basic.auth.via, 'basic');
    });

    it('rejects a wrong XAUTH password, a wrong user and missing credentials', function () {
        assert.strictEqual(verifyCallback(xauth, { 'x-auth-user': 'durst', 'x-auth-password': 'wrong' }, body).ok, false);
        assert.strictEqual(verifyCallback(xauth, { 'x-auth-user': 'other', 'x-auth-password': 's3cret' }, body).ok, false);
        assert.strictEqual(verifyCallback(xauth, { authorization: 'Basic ' + Buffer.from('durst:s3cre').toString('base64') }, body).ok, false);
        const none = verifyCallback(xauth, {}, body);
        assert.strictEqual(none.ok, false);
        assert.ok(!JSON.stringify(none).includes('s3cret'));
    });

    it('passes NONE', function () {
        assert.deepStrictEqual(verifyCallback({ externalAuthType: 'NONE' }, {}, body), { ok: true, auth: { type: 'NONE' } });
    });
});


describe('durst callback content types and charsets', function () {
    it('accepts the JSON types a Spring sender may use, and a missing type, with their charset', function () {
        const accepted = {
            '': 'utf-8',
            'application/json': 'utf-8',
            'application/json;charset=UTF-8': 'utf-8',
            'application/json; charset="utf8"': 'utf-8',
            'application/json;': 'utf-8',
            'application/problem+json': 'utf-8',
            'text/json': 'utf-8',
            'text/plain;charset=ISO-8859-1': 'iso-8859-1',
            'text/plain; charset=windows-1252': 'windows-1252',
            'TEXT/PLAIN; Charset=Latin1': 'latin1',
            'application/octet-stream': 'utf-8'
        };
        assert.deepStrictEqual(bodyEncoding(undefined), { ok: true, charset: 'utf-8' });
        for (const [type, charset] of Object.entries(accepted)) {
            assert.deepStrictEqual(bodyEncoding(type), { ok: true, charset }, type);
        }
    });

    it('refuses other types, malformed headers and unknown charsets with a reason', function () {
        for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html',
            'image/png', 'application/json, text/plain', 'json']) {
            const result = bodyEncoding(type);
            assert.strictEqual(result.ok, false, type);
            assert.match(result.error, /Content-Type/, type);
        }
        assert.deepStrictEqual(bodyEncoding('text/plain; charset=klingon'), { ok: false, error: 'unsupported charset "klingon"' });
    });

    const latin1 = (text) => Buffer.from(text, 'latin1');
    it('decodes Latin-1, Windows-1252 and UTF-8 bodies; a BOM is stripped and names the charset', function () {
        assert.deepStrictEqual(parseCallbackBody(latin1('{"stateMessage":"Größe ü"}'), 'iso-8859-1'), { ok: true, value: { stateMessage: 'Größe ü' } });
        // 0x80 is the euro sign in Windows-1252 and a C1 control in ISO-8859-1: each label is read as declared.
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('{"a":"\x80"}', 'latin1'), 'windows-1252'), { ok: true, value: { a: '€' } });
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('{"a":"\x80"}', 'latin1'), 'iso-8859-1'), { ok: true, value: { a: '\u0080' } });
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('\ufeff{"a":"ü"}'), 'utf-8'), { ok: true, value: { a: 'ü' } });
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('\ufeff{"a":"ü"}'), 'iso-8859-1'), { ok: true, value: { a: 'ü' } }, 'a UTF-8 BOM outranks the label');
        assert.deepStrictEqual(parseCallbackBody(Buffer.from('\ufeff{"a":"ü"}', 'utf16le')), { ok: true, value: { a: 'ü' } });
    });

    it('keeps strict UTF-8 when UTF-8 is declared or nothing is', function () {
        const result = parseCallbackBody(latin1('{"a":"Größe"}'));
        assert.deepStrictEqual(result, { ok: false, error: 'body is not valid UTF-8' });
        assert.strictEqual(parseCallbackBody(latin1('{"a":"Größe"}'), 'utf-8').ok, false);
    });
});

describe('durst callback verification: every key Durst may sign with', function () {
    const body = Buffer.from(JSON.stringify({ entityType: 'PRODUCTION_JOB', entityId: 2068, newStatus: 'CREATED' }));
    const sha = crypto.createHash('sha256').update(body).digest('hex');
    // The vendor's own example: "string" sent, "3IgPH7Gok2F+z9ZJ9zItbw==" returned.
    const CONFIGURED = 'string';
    const RETURNED = '3IgPH7Gok2F+z9ZJ9zItbw==';
    const settings = (method) => ({ externalAuthType: 'JWT_SIGNING', jwtHeaderName: 'x-jwt-token', jwtMethod: method,
        secrets: [{ source: 'configured', value: CONFIGURED }, { source: 'returned', value: RETURNED }] });
    const now = () => Math.floor(Date.now() / 1000);

    for (const method of ['HS256', 'HS384', 'HS512']) {
        it(`${method}: accepts the configured key, the returned key and both base64-decoded, and says which matched`, function () {
            const cases = [
                [CONFIGURED, 'configured', 'text'],
                [Buffer.from(CONFIGURED, 'base64'), 'configured', 'base64-decoded'],
                [RETURNED, 'returned', 'text'],
                [Buffer.from(RETURNED, 'base64'), 'returned', 'base64-decoded']
            ];
            for (const [key, source, form] of cases) {
                const token = jwt.sign({ bodySha256: sha }, key, { algorithm: method });
                const result = verifyCallback(settings(method), { 'x-jwt-token': token }, body);
                assert.strictEqual(result.ok, true, `${source}/${form}: ${result.reason}`);
                assert.strictEqual(result.auth.secret, source);
                assert.strictEqual(result.auth.secretForm, form);
                assert.ok(!JSON.stringify(result).includes(RETURNED) && !JSON.stringify(result).includes('"string"'), 'no key in the result');
            }
            const forged = verifyCallback(settings(method), { 'x-jwt-token': jwt.sign({ bodySha256: sha }, 'guess', { algorithm: method }) }, body);
            assert.strictEqual(forged.ok, false);
            assert.match(forged.reason, /invalid signature/);
        });
    }

    it('without a list, the configured jwtKey alone is tried', function () {
        const only = { externalAuthType: 'JWT_SIGNING', jwtMethod: 'HS256', jwtKey: CONFIGURED };
        assert.strictEqual(verifyCallback(only, { 'x-jwt-token': jwt.sign({}, CONFIGURED) }, body).ok, true);
        assert.strictEqual(verifyCallback(only, { 'x-jwt-token': jwt.sign({}, RETURNED) }, body).ok, false);
    });

    it('takes the token from Authorization: Bearer when the configured header is absent', function () {
        const token = jwt.sign({ bodySha256: sha }, RETURNED);
        const result = verifyCallback(settings('HS256'), { authorization: 'Bearer ' + token }, body);
        assert.strictEqual(result.ok, true, result.reason);
        assert.strictEqual(result.auth.via, 'bearer');
        const both = verifyCallback(settings('HS256'), { 'x-jwt-token': 'garbage', authorization: 'Bearer ' + token }, body);
        assert.strictEqual(both.ok, true, 'a broken configured header does not hide a good bearer token');
        assert.strictEqual(verifyCallback(settings('HS256'), { authorization: 'Basic ' + token }, body).ok, false);
        assert.strictEqual(verifyCallback(settings('HS256'), { 'x-jwt-token': 'Bearer ' + token }, body).auth.via, 'header');
    });

    it('reads iat/nbf/exp in seconds or milliseconds with the same clock tolerance', function () {
        const ok = (claims) => verifyCallback(settings('HS256'), { 'x-jwt-token': jwt.sign({ bodySha256: sha, ...claims }, CONFIGURED, { noTimestamp: true }) }, body);
        const ms = Date.now();
        assert.strictEqual(ok({ iat: ms, exp: ms + 300000 }).ok, true, 'milliseconds');
        assert.strictEqual(ok({ iat: ms, nbf: ms - 1000, exp: ms + 300000 }).ok, true, 'nbf in milliseconds');
        assert.strictEqual(ok({ iat: now(), exp: now() + 300 }).ok, true, 'seconds');
        assert.match(ok({ exp: ms - 300000 }).reason, /expired/, 'expired in milliseconds');
        assert.match(ok({ exp: now() - 300 }).reason, /expired/, 'expired in seconds');
        assert.strictEqual(ok({ exp: ms - 10000 }).ok, true, 'ten seconds of skew tolerated in milliseconds');
        assert.strictEqual(ok({ exp: now() - 10 }).ok, true, 'ten seconds of skew tolerated in seconds');
        assert.match(ok({ nbf: ms + 600000 }).reason, /not active/, 'nbf in the future, milliseconds');
        assert.match(ok({ nbf: now() + 600 }).reason, /not active/, 'nbf in the future, seconds');
        // jsonwebtoken will not sign this, a sender might: built by hand.
        const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
        const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp: 'tomorrow' })}`;
        const handMade = `${unsigned}.${crypto.createHmac('sha256', CONFIGURED).update(unsigned).digest('base64url')}`;
        assert.match(verifyCallback(settings('HS256'), { 'x-jwt-token': handMade }, body).reason, /invalid exp/);
    });

    it('tells base64 text from other text', function () {
        assert.deepStrictEqual(base64Bytes(RETURNED), Buffer.from(RETURNED, 'base64'));
        assert.deepStrictEqual(base64Bytes('3IgPH7Gok2F-z9ZJ9zItbw'), Buffer.from(RETURNED, 'base64'), 'base64url without padding');
        assert.strictEqual(base64Bytes('not base64!'), undefined);
        assert.strictEqual(base64Bytes('abcde'), undefined, 'a length no base64 text has');
        assert.strictEqual(base64Bytes(''), undefined);
    });

    const xauth = { externalAuthType: 'XAUTH', xAuthUser: 'Jürgen',
        secrets: [{ source: 'configured', value: 'pässwört€' }, { source: 'returned', value: 'FbSSYRbd9QpUBtyvVOr52A==' }] };
    // Node hands header values over as Latin-1 text (one character per byte): this is what a request of these bytes gives.
    const headerText = (bytes) => Buffer.from(bytes).toString('latin1');

    it('X-Auth: configured or returned password, header bytes as UTF-8 or Latin-1, Basic as UTF-8 or Latin-1', function () {
        const utf8Headers = { 'x-auth-user': headerText(Buffer.from('Jürgen')), 'x-auth-password': headerText(Buffer.from('pässwört€')) };
        let result = verifyCallback(xauth, utf8Headers, body);
        assert.strictEqual(result.ok, true, result.reason);
        assert.deepStrictEqual([result.auth.user, result.auth.secret, result.auth.charset], ['Jürgen', 'configured', 'utf-8']);
        // "€" has no Latin-1 byte, so a Latin-1 sender could not send this password; one without it can.
        const latinSettings = { ...xauth, secrets: [{ source: 'configured', value: 'pässwört' }] };
        result = verifyCallback(latinSettings, { 'x-auth-user': headerText(Buffer.from('Jürgen', 'latin1')), 'x-auth-password': headerText(Buffer.from('pässwört', 'latin1')) }, body);
        assert.strictEqual(result.ok, true, result.reason);
        assert.deepStrictEqual([result.auth.user, result.auth.charset], ['Jürgen', 'latin1']);
        const basicLatin1 = 'Basic ' + Buffer.from('Jürgen:pässwört', 'latin1').toString('base64');
        assert.strictEqual(verifyCallback(latinSettings, { authorization: basicLatin1 }, body).ok, true, 'Basic in Latin-1');
        const basicUtf8 = 'Basic ' + Buffer.from('Jürgen:pässwört€').toString('base64');
        assert.strictEqual(verifyCallback(xauth, { authorization: basicUtf8 }, body).ok, true, 'Basic in UTF-8');
        result = verifyCallback(xauth, { 'x-auth-user': headerText(Buffer.from('Jürgen')), 'x-auth-password': 'FbSSYRbd9QpUBtyvVOr52A==' }, body);
        assert.deepStrictEqual([result.ok, result.auth.secret, result.auth.secretForm], [true, 'returned', 'text']);
        result = verifyCallback(xauth, { authorization: 'Basic ' + Buffer.concat([Buffer.from('Jürgen:'), Buffer.from('FbSSYRbd9QpUBtyvVOr52A==', 'base64')]).toString('base64') }, body);
        assert.deepStrictEqual([result.ok, result.auth.secret, result.auth.secretForm], [true, 'returned', 'base64-decoded']);
    });

    it('X-Auth: a wrong password or user in any encoding is refused, without the secret in the result', function () {
        for (const headers of [
            { 'x-auth-user': headerText(Buffer.from('Jürgen')), 'x-auth-password': headerText(Buffer.from('pässwört')) },
            { 'x-auth-user': headerText(Buffer.from('Jurgen')), 'x-auth-password': headerText(Buffer.from('pässwört€')) },
            { 'x-auth-user': headerText(Buffer.from('Jürgen')), 'x-auth-password': 'FbSSYRbd9QpUBtyvVOr52A=' },
            { authorization: 'Basic ' + Buffer.from('Jürgen:string').toString('base64') }
        ]) {
            const result = verifyCallback(xauth, headers, body);
            assert.strictEqual(result.ok, false, JSON.stringify(headers));
            assert.ok(!JSON.stringify(result).includes('FbSSYRbd9QpUBtyvVOr52A==') && !JSON.stringify(result).includes('pässwört'));
        }
    });
});

describe('durst REST helpers', function () {
    it('parses the documented invalid list example into an array', function () {
        const text = '{\n  {\n    "id": 4,\n    "path": "path/after/baseUri/",\n    "topic": "STATUS/*",\n    "status": "ACTIVE"\n  },\n  {\n    "id": 3,\n    "path": "a}b{",\n    "topic": "STATUS/PRODUCTION_JOB/*",\n    "status": "ACTIVE"\n  }\n]';
        const parsed = parseBody(text);
        assert.deepStrictEqual(parsed.map((s) => s.id), [4, 3]);
        assert.strictEqual(parsed[1].path, 'a}b{');
    });

    it('keeps unparseable text and accepts arrays or wrapped arrays', function () {
        assert.strictEqual(parseBody('not json'), 'not json');
        assert.strictEqual(parseBody(''), '');
        assert.deepStrictEqual(normaliseList([{ id: 1 }]), [{ id: 1 }]);
        assert.deepStrictEqual(normaliseList({ content: [{ id: 2 }] }), [{ id: 2 }]);
        assert.deepStrictEqual(normaliseList({ whatever: [{ id: 3 }], total: 1 }), [{ id: 3 }]);
        assert.deepStrictEqual(normaliseList('nope'), []);
    });

    it('normalises webhook paths, sizes and content types', function () {
        assert.strictEqual(normalisePath('durst/status/'), '/durst/status');
        assert.strictEqual(normalisePath('//durst//status'), '/durst/status');
        assert.strictEqual(normalisePath(''), '/');
        assert.strictEqual(parseSize('5mb'), 5 * 1024 * 1024);
        assert.strictEqual(parseSize('100kb'), 102400);
        assert.strictEqual(parseSize(2048), 2048);
        assert.strictEqual(parseSize('1.5kb'), 1536);
        assert.strictEqual(parseSize('lots'), 5 * 1024 * 1024, 'unusable: the default');
        assert.strictEqual(isJsonContentType('application/json; charset=utf-8'), true);
        assert.strictEqual(isJsonContentType('application/vnd.durst+json'), true);
        assert.strictEqual(isJsonContentType('application/x-www-form-urlencoded'), false);
    });

    it('compares only non-secret subscriber fields', function () {
        const settings = { hostUri: 'https://nr.example', externalAuthType: 'JWT_SIGNING', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', jwtKey: 'string' };
        const echoed = { id: 35, hostUri: 'https://nr.example/', externalAuthType: 'JWT_SIGNING',
            jwtSigningInfo: { httpHeaderName: 'x-jwt-token', method: 'HS256', key: '3IgPH7Gok2F+z9ZJ9zItbw==' } };
        assert.deepStrictEqual(nonSecretDifferences(echoed, settings), []);
        assert.deepStrictEqual(nonSecretDifferences({ ...echoed, jwtSigningInfo: { ...echoed.jwtSigningInfo, method: 'HS512' } }, settings),
            ['jwtSigningInfo.method']);
        assert.deepStrictEqual(nonSecretDifferences({ ...echoed, hostUri: 'https://other' }, settings), ['hostUri']);
        // Registered before the trailing "/" rule: updated, so Durst's plain concatenation stops missing the "/".
        assert.deepStrictEqual(nonSecretDifferences({ ...echoed, hostUri: 'https://nr.example' }, settings), ['hostUri']);
    });
});

describe('durst hostUri of an empty field (localHostUri)', function () {
    const { localHostUri } = require('../../dist/nodes/lib/durst/host-uri');
    it('is this Node-RED as reached from this machine, from its own settings', function () {
        assert.strictEqual(localHostUri({}), 'http://127.0.0.1:1880');
        assert.strictEqual(localHostUri({ uiPort: 1881, httpNodeRoot: '/' }), 'http://127.0.0.1:1881');
        assert.strictEqual(localHostUri({ uiPort: '2000', uiHost: '0.0.0.0', httpNodeRoot: '/api/' }), 'http://127.0.0.1:2000/api');
        assert.strictEqual(localHostUri({ uiPort: 1880, uiHost: '10.1.2.3', https: { key: 'k' } }), 'https://10.1.2.3:1880');
        assert.strictEqual(localHostUri({ uiPort: 1880, uiHost: '::1' }), 'http://[::1]:1880');
    });
    it('is empty when there is no such address: port chosen by the OS, or HTTP node endpoints off', function () {
        assert.strictEqual(localHostUri({ uiPort: 0 }), '');
        assert.strictEqual(localHostUri({ uiPort: 'x' }), '');
        assert.strictEqual(localHostUri({ httpNodeRoot: false }), '');
    });
});

describe('durst topic builder catalogue', function () {
    it('describes every documented topic in en-US and de (keyed by pattern), German differing from English', function () {
        const load = (lang) => JSON.parse(require('fs').readFileSync(require('path').join(__dirname, '..', '..', 'nodes', 'durst-subscription',
            'locales', lang, 'durst-subscription.json'), 'utf8'))['durst-subscription'].topics;
        const [en, de] = [load('en-US'), load('de')];
        for (const t of DURST_TOPICS) {
            assert.strictEqual(en[t.pattern], t.description, `en-US ${t.pattern}`);
            assert.ok(de[t.pattern] && de[t.pattern] !== t.description, `de ${t.pattern}: ${de[t.pattern]}`);
        }
        assert.deepStrictEqual(Object.keys(en).sort(), DURST_TOPICS.map((t) => t.pattern).sort());
    });
});

describe('durst callback URL: a Host URI Durst cannot get wrong', function () {
    const { hostUriProblem, registeredHostUri, registeredPath, callbackUrls } = require('../../dist/nodes/lib/durst/host-uri');

    it('a Host URI must be an absolute http(s) URL with a host, without query or fragment', function () {
        for (const ok of ['http://nr:1880', 'https://domain.at:443/base/path/', 'HTTP://NR.EXAMPLE/']) { assert.strictEqual(hostUriProblem(ok), undefined, ok); }
        assert.match(hostUriProblem('node-red.local'), /no scheme/);
        assert.match(hostUriProblem('localhost:1234'), /no scheme/, 'the vendor page\'s own example has none');
        assert.match(hostUriProblem('ftp://nr/'), /http:\/\/ or https:\/\//);
        assert.match(hostUriProblem('http://'), /not a valid URL/);
        assert.match(hostUriProblem('http://nr/?x=1'), /query or fragment/);
    });

    it('registered as below, plain concatenation, a URL join and a "/" join all give the webhook URL', function () {
        for (const [host, path, expected] of [
            ['http://nr:1880', '/durst/status', 'http://nr:1880/durst/status'],
            ['http://nr:1880/', 'durst/status', 'http://nr:1880/durst/status'],
            ['https://domain.at:443/base/path', '/durst/status', 'https://domain.at/base/path/durst/status'],
            ['https://domain.at/base/path//', 'durst/status/', 'https://domain.at/base/path/durst/status/']
        ]) {
            assert.deepStrictEqual(callbackUrls(registeredHostUri(host), registeredPath(path)), [expected], `${host} + ${path}`);
        }
        // Unregistered, the README's old example: concatenation calls another URL than a join.
        assert.deepStrictEqual(callbackUrls('http://nr:1880', 'durst/status'), ['http://nr:1880durst/status', 'http://nr:1880/durst/status']);
        assert.strictEqual(registeredPath(null), '');
    });
});

describe('durst secrets returned at registration (encrypted store)', function () {
    const fs = require('fs');
    const os = require('os');
    const path = require('path');
    const { ReturnedSecretStore, returnedSecretStoreFor, RETURNED_SECRETS_FILE } = require('../../dist/nodes/lib/durst/returned-secrets');
    let dir;
    beforeEach(function () { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'returned-secrets-')); });
    afterEach(function () { fs.rmSync(dir, { recursive: true, force: true }); });

    it('keeps what Durst returned, encrypted with the credential secret, never in clear text', function () {
        const file = path.join(dir, RETURNED_SECRETS_FILE);
        const store = new ReturnedSecretStore(file, 'the-credential-secret');
        const sent = store.fingerprint('JWT_SIGNING', 'string');
        store.record('sub1|http://durst', sent, '3IgPH7Gok2F+z9ZJ9zItbw==');
        store.record('sub1|http://durst', sent, '3IgPD8kok2F+z9ZJ9zItbw==');
        const text = fs.readFileSync(file, 'utf8');
        assert.ok(!text.includes('3IgP') && !text.includes('string') && !text.includes(sent), 'no secret and no fingerprint in clear');
        assert.strictEqual(fs.statSync(file).mode & 0o077, 0, 'readable by the owner only');
        const reopened = new ReturnedSecretStore(file, 'the-credential-secret');
        assert.deepStrictEqual(reopened.get('sub1|http://durst'), { sent, returned: ['3IgPD8kok2F+z9ZJ9zItbw==', '3IgPH7Gok2F+z9ZJ9zItbw=='] });
        const warnings = [];
        assert.strictEqual(new ReturnedSecretStore(file, 'another-secret', (t) => warnings.push(t)).get('sub1|http://durst'), undefined);
        assert.match(warnings[0], /could not be decrypted/);
    });

    it('a new secret starts a new list; the fingerprint tells a changed secret', function () {
        const store = new ReturnedSecretStore(path.join(dir, RETURNED_SECRETS_FILE), 'k');
        store.record('a', store.fingerprint('XAUTH', 'old'), 'FbSSYRbd9QpUBtyvVOr52A==');
        store.record('a', store.fingerprint('XAUTH', 'new'), undefined);
        assert.deepStrictEqual(store.get('a'), { sent: store.fingerprint('XAUTH', 'new'), returned: [] });
        assert.notStrictEqual(store.fingerprint('XAUTH', 'new'), store.fingerprint('JWT_SIGNING', 'new'));
    });

    it('takes its key from credentialSecret, else Node-RED\'s generated one, else a key file of its own', function () {
        const own = returnedSecretStoreFor({ userDir: dir }, () => undefined);
        assert.ok(fs.existsSync(path.join(dir, '.print-events-durst-key')));
        assert.strictEqual(fs.statSync(path.join(dir, '.print-events-durst-key')).mode & 0o077, 0);
        assert.strictEqual(returnedSecretStoreFor({ userDir: dir }, () => undefined), own, 'one store per user dir');
        const memory = returnedSecretStoreFor({}, () => undefined);
        memory.record('x', 'f', 'r');
        assert.deepStrictEqual(memory.get('x'), { sent: 'f', returned: ['r'] });
    });
});
