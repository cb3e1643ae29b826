'use strict';
// The PrintFactory connection and the vendor's words on the handshake (issue #19, items 3 and 4): the cause of a
// reconnect as a code (nodes/lib/printfactory/problems.ts), Retry-After on 429/503 (seconds or HTTP date, capped),
// the MisKey trimmed before it is sent and before the duplicate guard, and no flapping when the server closes fresh
// connections again and again (displaced by another client). Single PrintFactoryConnections against loopback servers.
const assert = require('assert');
const http = require('http');
const { WebSocketServer } = require('ws');
const { PrintFactoryConnection, FLAP_CLOSES } = require('../../dist/nodes/lib/printfactory/connection');
const { problemOfStatus, problemOfError, retryAfterSeconds, RETRY_AFTER_MAX_SECONDS } = require('../../dist/nodes/lib/printfactory/problems');
const { sleep, waitFor } = require('../lib/wait');

const MIS_KEY = 'handshake-key-5b1e';

/** A loopback notification server we control: `onUpgrade(req, socket, head, wss)` decides each handshake. */
async function server(onUpgrade) {
    const wss = new WebSocketServer({ noServer: true });
    const httpServer = http.createServer((_req, res) => { res.statusCode = 426; res.end(); });
    const upgrades = [];
    httpServer.on('upgrade', (req, socket, head) => {
        upgrades.push({ at: Date.now(), misKey: req.headers.miskey });
        socket.on('error', () => undefined);
        onUpgrade(req, socket, head, wss);
    });
    await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    return {
        url: `ws://127.0.0.1:${httpServer.address().port}`,
        upgrades,
        wss,
        async close() {
            for (const ws of wss.clients) { ws.terminate(); }
            httpServer.closeAllConnections();
            await new Promise((resolve) => httpServer.close(resolve));
        }
    };
}

const answer = (status, headers = {}) => (req, socket) => {
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.end(`HTTP/1.1 ${status} X\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
};
const accept = (then = () => undefined) => (req, socket, head, wss) => wss.handleUpgrade(req, socket, head, (ws) => then(ws));

function connection(url, extra = {}) {
    const statuses = [];
    const warnings = [];
    const conn = new PrintFactoryConnection({
        url, misKey: MIS_KEY, label: 'handshake test', random: () => 0,
        logger: { log() {}, warn: (t) => warnings.push(t) },
        ...extra
    });
    const user = { onNotification() {}, onBadFrame() {}, onStatus: (s) => statuses.push({ at: Date.now(), ...s }) };
    conn.register(user);
    return { conn, statuses, warnings };
}

describe('printfactory problems (pure)', function () {
    it('maps handshake statuses to causes', function () {
        const cases = { 409: 'refused409', 401: 'rejected', 403: 'rejected', 404: 'notFound', 410: 'notFound', 429: 'rateLimited',
            502: 'unavailable', 503: 'unavailable', 504: 'unavailable', 200: 'notWebSocket', 301: 'notWebSocket', 400: 'httpStatus', 500: 'httpStatus' };
        for (const [status, code] of Object.entries(cases)) {
            assert.deepStrictEqual(problemOfStatus(Number(status)), { code, statusCode: Number(status) }, status);
        }
    });

    it('maps socket errors to causes', function () {
        const e = (code, message = '') => Object.assign(new Error(message), { code });
        assert.deepStrictEqual(problemOfError(e('DEPTH_ZERO_SELF_SIGNED_CERT')), { code: 'tlsSelfSigned' });
        assert.deepStrictEqual(problemOfError(e('SELF_SIGNED_CERT_IN_CHAIN')), { code: 'tlsSelfSigned' });
        assert.deepStrictEqual(problemOfError(e('CERT_HAS_EXPIRED')), { code: 'tlsExpired' });
        assert.deepStrictEqual(problemOfError(e('ERR_TLS_CERT_ALTNAME_INVALID')), { code: 'tlsHostname' });
        assert.deepStrictEqual(problemOfError(e('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), { code: 'tlsUntrusted' });
        assert.deepStrictEqual(problemOfError(e('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')), { code: 'tls', detail: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
        assert.deepStrictEqual(problemOfError(e('ENOTFOUND', 'getaddrinfo ENOTFOUND x')), { code: 'hostNotFound' });
        assert.deepStrictEqual(problemOfError(e('EAI_AGAIN')), { code: 'hostNotFound' });
        assert.deepStrictEqual(problemOfError(e('ECONNREFUSED')), { code: 'connectionRefused' });
        assert.deepStrictEqual(problemOfError(e(undefined, 'Opening handshake has timed out')), { code: 'timeout' });
        assert.deepStrictEqual(problemOfError(e('EPROXY', 'proxy http://p:3128 refused the connection (HTTP 407)')),
            { code: 'proxy', detail: 'proxy http://p:3128 refused the connection (HTTP 407)' });
        assert.deepStrictEqual(problemOfError(e('ECONNRESET', 'read ECONNRESET')), { code: 'network', detail: 'ECONNRESET' });
        assert.deepStrictEqual(problemOfError(undefined), { code: 'network', detail: 'connection failed' });
    });

    it('reads Retry-After as seconds or an HTTP date, capped, and ignores what it cannot read', function () {
        const now = Date.parse('2026-12-03T17:00:00Z');
        assert.strictEqual(retryAfterSeconds('30', now), 30);
        assert.strictEqual(retryAfterSeconds(' 0 ', now), 0);
        assert.strictEqual(retryAfterSeconds(['12'], now), 12);
        assert.strictEqual(retryAfterSeconds('Thu, 03 Dec 2026 17:00:45 GMT', now), 45);
        assert.strictEqual(retryAfterSeconds('Thu, 03 Dec 2026 16:00:00 GMT', now), 0, 'a date in the past: at once');
        assert.strictEqual(retryAfterSeconds('86400', now), RETRY_AFTER_MAX_SECONDS);
        for (const bad of [undefined, '', 'soon', '-5', '1.5', {}]) { assert.strictEqual(retryAfterSeconds(bad, now), undefined, String(bad)); }
    });
});

describe('printfactory connection: handshake causes, Retry-After, MisKey trimming, displacement', function () {
    this.timeout(20000);
    const FAST = { pingIntervalMs: 5000, handshakeTimeoutMs: 2000, reconnectMinMs: 50, reconnectMaxMs: 200, stableAfterMs: 60000, authRetryMs: 60000 };
    let srv;
    let subject;

    afterEach(async function () {
        if (subject) { await subject.conn.close(); subject = null; }
        if (srv) { await srv.close(); srv = null; }
    });

    for (const [status, code] of [[409, 'refused409'], [404, 'notFound'], [503, 'unavailable']]) {
        it(`HTTP ${status} on the handshake: reconnecting with cause ${code}`, async function () {
            srv = await server(answer(status));
            subject = connection(srv.url, { timings: FAST });
            await waitFor(() => subject.statuses.some((s) => s.state === 'reconnecting'), 'reconnecting');
            const s = subject.statuses.find((x) => x.state === 'reconnecting');
            assert.deepStrictEqual([s.cause, s.problem], ['refused', { code, statusCode: status }]);
        });
    }

    it('a host that does not resolve and a port where nothing listens: hostNotFound, connectionRefused', async function () {
        subject = connection('ws://no-such-host.invalid:27489', { timings: FAST });
        await waitFor(() => subject.statuses.some((s) => s.state === 'reconnecting'), 'reconnecting');
        assert.deepStrictEqual(subject.statuses.find((x) => x.state === 'reconnecting').problem, { code: 'hostNotFound' });
        await subject.conn.close();
        subject = connection('ws://127.0.0.1:9', { timings: FAST });
        await waitFor(() => subject.statuses.some((s) => s.state === 'reconnecting'), 'reconnecting');
        assert.deepStrictEqual(subject.statuses.find((x) => x.state === 'reconnecting').problem, { code: 'connectionRefused' });
    });

    it('429 with Retry-After in seconds: the next handshake waits for it (not the 50-200 ms backoff)', async function () {
        srv = await server(answer(429, { 'Retry-After': '2' }));
        subject = connection(srv.url, { timings: FAST });
        await waitFor(() => srv.upgrades.length >= 2, 'the second handshake', 8000);
        const s = subject.statuses.find((x) => x.state === 'reconnecting');
        assert.deepStrictEqual(s.problem, { code: 'rateLimited', statusCode: 429, retryAfterSeconds: 2 });
        assert.strictEqual(s.retryInMs, 2000);
        // The duration is the behaviour under test: the server asked for 2 s.
        const gap = srv.upgrades[1].at - srv.upgrades[0].at;
        assert.ok(gap >= 1950, `second handshake after ${gap} ms`);
    });

    it('503 with Retry-After as an HTTP date, and a Retry-After beyond the cap', async function () {
        const at = new Date(Date.now() + 3000).toUTCString();
        srv = await server(answer(503, { 'Retry-After': at }));
        subject = connection(srv.url, { timings: FAST });
        await waitFor(() => subject.statuses.some((s) => s.state === 'reconnecting'), 'reconnecting');
        const s = subject.statuses.find((x) => x.state === 'reconnecting');
        assert.strictEqual(s.problem.code, 'unavailable');
        assert.ok(s.retryInMs >= 1000 && s.retryInMs <= 4000, String(s.retryInMs));
        await subject.conn.close();
        await srv.close();
        srv = await server(answer(429, { 'Retry-After': '999999' }));
        subject = connection(srv.url, { timings: FAST });
        await waitFor(() => subject.statuses.some((s) => s.state === 'reconnecting'), 'reconnecting');
        assert.strictEqual(subject.statuses.find((x) => x.state === 'reconnecting').retryInMs, RETRY_AFTER_MAX_SECONDS * 1000);
        assert.strictEqual(srv.upgrades.length, 1);
    });

    it('sends the MisKey trimmed, and a MisKey that differs only by white space is the same for the duplicate guard', async function () {
        srv = await server(accept());
        subject = connection(srv.url, { timings: FAST, misKey: `  ${MIS_KEY} \n` });
        await waitFor(() => subject.statuses.some((s) => s.state === 'connected'), 'connected');
        assert.strictEqual(srv.upgrades[0].misKey, MIS_KEY);
        const twin = connection(srv.url, { timings: FAST, misKey: `${MIS_KEY} ` });
        try {
            await waitFor(() => twin.statuses.some((s) => s.state === 'duplicate'), 'the second one waits as a duplicate');
            assert.strictEqual(srv.upgrades.length, 1, 'no second handshake');
        } finally { await twin.conn.close(); }
    });

    it('drops of fresh connections (no close frame, as a flaky network or a crash gives) are no displacement', async function () {
        srv = await server(accept((ws) => setTimeout(() => ws.terminate(), 50)));
        subject = connection(srv.url, { timings: { ...FAST, reconnectMaxMs: 1000, stableAfterMs: 500 } });
        await waitFor(() => srv.upgrades.length >= 4, 'four connections, each dropped', 8000);
        const reconnecting = subject.statuses.filter((s) => s.state === 'reconnecting');
        assert.ok(reconnecting.length >= 3);
        assert.ok(reconnecting.every((s) => s.cause === 'serverClosed' && s.retryInMs < 1000), JSON.stringify(reconnecting));
        assert.ok(!subject.warnings.some((w) => /displaced/.test(w)));
    });

    it(`a server that closes every fresh connection: after ${FLAP_CLOSES} such closes "displaced", then at most one attempt per reconnectMax`, async function () {
        // Every connection is closed 100 ms after it opened, as a last-wins server does when another client connects.
        let closing = true;
        srv = await server(accept((ws) => { if (closing) { setTimeout(() => ws.close(1000, 'replaced'), 100); } }));
        const timings = { ...FAST, reconnectMaxMs: 1000, stableAfterMs: 500 };
        subject = connection(srv.url, { timings });
        await waitFor(() => subject.statuses.some((s) => s.state === 'reconnecting' && s.cause === 'displaced'), 'displaced', 8000);
        const displaced = subject.statuses.find((s) => s.state === 'reconnecting' && s.cause === 'displaced');
        assert.deepStrictEqual(displaced.problem, { code: 'displaced' });
        assert.ok(displaced.retryInMs >= 1000, `retry in ${displaced.retryInMs} ms`);
        assert.strictEqual(srv.upgrades.length, FLAP_CLOSES, 'displaced after the second fresh close');
        assert.strictEqual(subject.warnings.filter((w) => /displaced by another connection\?/.test(w)).length, 1, subject.warnings.join('\n'));
        // The durations are the behaviour under test: 4 s of a server that keeps closing.
        const from = subject.statuses.indexOf(displaced);
        // a duration: 4 s of a server that keeps closing.
        await sleep(4000);
        const times = srv.upgrades.map((u) => u.at);
        for (let i = FLAP_CLOSES; i < times.length; i++) {
            assert.ok(times[i] - times[i - 1] >= 1000, `attempt ${i + 1} came ${times[i] - times[i - 1]} ms after the previous one`);
        }
        assert.ok(times.length <= FLAP_CLOSES + 4, `${times.length} handshakes`);
        assert.ok(subject.statuses.slice(from).filter((s) => s.state === 'reconnecting').every((s) => s.cause === 'displaced'));
        assert.strictEqual(subject.warnings.filter((w) => /displaced by another connection\?/.test(w)).length, 1, 'warned once');
        // The other client goes away: a connection that stays open for the flap window (2 × reconnectMax) ends it.
        closing = false;
        const before = srv.upgrades.length;
        await waitFor(() => srv.upgrades.length > before && subject.conn.status.state === 'connected', 'connected again', 5000);
        // a duration: connected for longer than the flap window.
        await sleep(2200);
        for (const ws of srv.wss.clients) { ws.close(1000, 'server restart'); }
        await waitFor(() => subject.statuses.filter((s) => s.state === 'reconnecting').length > 0 &&
            subject.conn.status.state !== 'connected', 'the next close');
        const last = subject.conn.status;
        assert.deepStrictEqual([last.state, last.cause], ['reconnecting', 'serverClosed']);
        assert.ok(last.retryInMs <= 100, `a single close is retried with the normal backoff (${last.retryInMs} ms)`);
    });
});

describe('printfactory cause and status texts in both languages', function () {
    const { PROBLEM_CODES } = require('../../dist/nodes/lib/printfactory/problems');
    const catalogue = (node, lang) => require(`../../dist/nodes/${node}/locales/${lang}/${node}.json`)[node];

    it('every cause code has a text in en-US and de, with the same placeholders', function () {
        const en = catalogue('printfactory-config', 'en-US').cause;
        const de = catalogue('printfactory-config', 'de').cause;
        assert.deepStrictEqual(Object.keys(en).sort(), [...PROBLEM_CODES].sort());
        assert.deepStrictEqual(Object.keys(de).sort(), [...PROBLEM_CODES].sort());
        const vars = (t) => (t.match(/__\w+__/g) || []).sort();
        for (const code of PROBLEM_CODES) { assert.deepStrictEqual(vars(de[code]), vars(en[code]), code); }
    });

    it('every answer of Test connection (result or failure code) has a text in en-US and de', function () {
        const { TEST_RESULTS, TEST_FAILURES } = require('../../dist/nodes/lib/printfactory/connection-test');
        for (const lang of ['en-US', 'de']) {
            const texts = catalogue('printfactory-config', lang).test;
            const missing = [...TEST_RESULTS, ...TEST_FAILURES].filter((key) => typeof texts[key] !== 'string');
            assert.deepStrictEqual(missing, [], lang);
        }
        // The editor app's own refusals reach Register / check too (nodes/lib/editor-secrets.ts).
        for (const lang of ['en-US', 'de']) {
            const texts = catalogue('durst-subscriber', lang).register.error;
            assert.deepStrictEqual(['notJson', 'badJson', 'tooLarge', 'requestFailed', 'internal'].filter((key) => typeof texts[key] !== 'string'), [], lang);
        }
    });

    it('the status and test texts exist in both languages with the same placeholders', function () {
        for (const [node, section] of [['printfactory-notification', 'status'], ['printfactory-config', 'test']]) {
            const en = catalogue(node, 'en-US')[section];
            const de = catalogue(node, 'de')[section];
            assert.deepStrictEqual(Object.keys(de).sort(), Object.keys(en).sort(), `${node}.${section}`);
            const vars = (t) => (t.match(/__\w+__/g) || []).sort();
            for (const key of Object.keys(en)) { assert.deepStrictEqual(vars(de[key]), vars(en[key]), `${node}.${section}.${key}`); }
        }
    });
});
