'use strict';
// The one proxy and TLS policy of both vendors (nodes/lib/net/), first as rules, then end to end: the
// PrintFactory and Durst nodes in the Node-RED test helper, against the simulators, behind a real squid
// (Debian's package, started per suite by test/lib/squid.js with its own config on 127.0.0.1). Targets are
// host names (printfactory.test, durst.test) that only squid resolves, from its own hosts file: a request that
// bypassed the proxy could not reach them. A private CA made with openssl is given through Node-RED's core
// tls-config node.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const tlsConfigNode = require('@node-red/nodes/core/network/05-tls.js');
const pfConfigNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const pfNotificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const subscriberNode = require('../../dist/nodes/durst-subscriber/durst-subscriber.js');
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { DurstRestClient } = require('../../dist/nodes/lib/durst/rest-client');
const { proxyFor, describeProxy, proxyCredentials, isLoopback, ProxyError } = require('../../dist/nodes/lib/net/proxy');
const { startSquid, squidMissing } = require('../lib/squid');
const { makeCertificates } = require('../lib/certs');
const { activeResources, assertNoNewResources } = require('../lib/resources');
const { sleep, waitFor: waitUntil } = require('../lib/wait');

helper.init(require.resolve('node-red'));

const PROXY_VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'];
const MIS_KEY = 'proxy-test-mis-key-81d2';
// Basic auth credentials with characters that must be URL-escaped in the proxy URL.
const PROXY_USER = 'sqx@user';
const PROXY_PASSWORD = 'p@ss:w/rd%';
const ESCAPED = `${encodeURIComponent(PROXY_USER)}:${encodeURIComponent(PROXY_PASSWORD)}`;

const waitFor = (predicate, what, timeoutMs = 8000) => waitUntil(predicate, what, timeoutMs, { intervalMs: 20 });

let savedEnv;
function saveEnv() { savedEnv = Object.fromEntries(PROXY_VARS.map((n) => [n, process.env[n]])); }
function restoreEnv() {
    for (const n of PROXY_VARS) {
        if (savedEnv[n] === undefined) { delete process.env[n]; } else { process.env[n] = savedEnv[n]; }
    }
}
/** Replaces every proxy variable with `vars` (the nodes read them when they start). */
function proxyEnv(vars) {
    for (const n of PROXY_VARS) { delete process.env[n]; }
    Object.assign(process.env, vars);
}

/** The proxy each vendor would use for host:port with the current environment (href or 'direct'). */
function decisions(hostPort, secure) {
    const pf = proxyFor(new URL(`${secure ? 'wss' : 'ws'}://${hostPort}`));
    const client = new DurstRestClient({ apiUrl: `${secure ? 'https' : 'http'}://${hostPort}` });
    client.close();
    return { printfactory: pf ? pf.href : 'direct', durst: client.proxy ? client.proxy.href : 'direct' };
}

describe('proxy policy shared by both vendors', function () {
    before(saveEnv);
    after(restoreEnv);

    it('reads the same variables in the same precedence for both vendors (lower case first, then upper, then all_proxy)', function () {
        proxyEnv({ https_proxy: 'http://lower.example:1', HTTPS_PROXY: 'http://upper.example:2', HTTP_PROXY: 'http://plain.example:3' });
        assert.deepStrictEqual(decisions('cloud.example:27489', true), { printfactory: 'http://lower.example:1/', durst: 'http://lower.example:1/' });
        assert.deepStrictEqual(decisions('cloud.example:27489', false), { printfactory: 'http://plain.example:3/', durst: 'http://plain.example:3/' });
        proxyEnv({ HTTPS_PROXY: 'http://upper.example:2', ALL_PROXY: 'http://all.example:4' });
        assert.deepStrictEqual(decisions('cloud.example', true), { printfactory: 'http://upper.example:2/', durst: 'http://upper.example:2/' });
        assert.deepStrictEqual(decisions('cloud.example', false), { printfactory: 'http://all.example:4/', durst: 'http://all.example:4/' });
        // A bare host:port is an http:// proxy, as with curl.
        proxyEnv({ HTTPS_PROXY: 'bare.example:3128' });
        assert.deepStrictEqual(decisions('cloud.example', true), { printfactory: 'http://bare.example:3128/', durst: 'http://bare.example:3128/' });
        proxyEnv({});
        assert.deepStrictEqual(decisions('cloud.example', true), { printfactory: 'direct', durst: 'direct' });
    });

    it('matches NO_PROXY as proxy-from-env and Node-RED core do, the same for both vendors', function () {
        const cases = [
            // [NO_PROXY, host:port, proxied?]
            ['test', 'pf.test:27489', true], // plain entries match the exact host only
            ['pf.test', 'pf.test:27489', false],
            ['.test', 'pf.test:27489', false],
            ['*.test', 'pf.test:27489', false],
            ['pf.test:443', 'pf.test:27489', true],
            ['pf.test:27489', 'pf.test:27489', false],
            ['other.example, PF.TEST', 'pf.test:27489', false], // case-insensitive, comma and space separated
            ['*', 'anything.example:1', false],
            ['', 'pf.test:27489', true]
        ];
        for (const [noProxy, hostPort, proxied] of cases) {
            for (const name of ['NO_PROXY', 'no_proxy']) {
                proxyEnv({ HTTP_PROXY: 'http://proxy.example:3128', HTTPS_PROXY: 'http://proxy.example:3128', [name]: noProxy });
                for (const secure of [false, true]) {
                    const expected = proxied ? 'http://proxy.example:3128/' : 'direct';
                    assert.deepStrictEqual(decisions(hostPort, secure), { printfactory: expected, durst: expected },
                        `${name}=${JSON.stringify(noProxy)} ${hostPort} secure=${secure}`);
                }
            }
        }
        // no_proxy (lower case) wins over NO_PROXY, like the *_proxy variables.
        proxyEnv({ HTTPS_PROXY: 'http://proxy.example:3128', no_proxy: 'a.test', NO_PROXY: 'b.test' });
        assert.deepStrictEqual(decisions('a.test', true), { printfactory: 'direct', durst: 'direct' });
        assert.deepStrictEqual(decisions('b.test', true), { printfactory: 'http://proxy.example:3128/', durst: 'http://proxy.example:3128/' });
    });

    it('never proxies loopback targets', function () {
        proxyEnv({ HTTP_PROXY: 'http://proxy.example:3128', HTTPS_PROXY: 'http://proxy.example:3128' });
        for (const host of ['127.0.0.1:8090', '127.8.9.10', 'localhost:1880', 'LOCALHOST', 'api.localhost:8443', '[::1]:27489']) {
            assert.deepStrictEqual(decisions(host, false), { printfactory: 'direct', durst: 'direct' }, host);
            assert.deepStrictEqual(decisions(host, true), { printfactory: 'direct', durst: 'direct' }, host);
        }
        assert.ok(!isLoopback('128.0.0.1') && !isLoopback('localhost.example') && !isLoopback('::2'));
    });

    it('decodes URL-escaped proxy credentials and never shows them', function () {
        proxyEnv({ HTTPS_PROXY: `http://${ESCAPED}@proxy.example:3128` });
        const proxy = proxyFor('wss://cloud.example:27489');
        assert.deepStrictEqual(proxyCredentials(proxy), { username: PROXY_USER, password: PROXY_PASSWORD });
        assert.strictEqual(describeProxy(proxy), 'http://proxy.example:3128');
        proxyEnv({ HTTPS_PROXY: 'http://user:secret-value@bad host:3128' });
        assert.throws(() => proxyFor('wss://cloud.example'), (err) => err instanceof ProxyError && !/secret-value/.test(err.message));
        proxyEnv({ HTTPS_PROXY: 'http://user:100%secret@proxy.example:3128' });
        assert.throws(() => proxyFor('wss://cloud.example'), (err) => err instanceof ProxyError && /URL-escaping/.test(err.message) &&
            !/secret/.test(err.message));
    });
});

describe('both vendors behind a real squid proxy', function () {
    this.timeout(30000);
    const names = ['printfactory.test', 'durst.test'];
    let certs;
    let squid;
    let pfPlain;
    let pfTls;
    let durstHttp;
    let durstHttps;
    let resourcesBefore;

    before(async function () {
        const missing = squidMissing();
        if (missing && process.env.PRINT_EVENTS_SKIP_PROXY_TESTS === '1') { this.skip(); }
        assert.ok(!missing, missing + ' (.ci/run installs it; PRINT_EVENTS_SKIP_PROXY_TESTS=1 skips these tests)');
        saveEnv();
        await null; // mocha's hook timer is counted on both sides
        resourcesBefore = activeResources();
        certs = makeCertificates(names);
        squid = await startSquid({ user: PROXY_USER, password: PROXY_PASSWORD, hosts: names });
        pfPlain = new PrintFactorySimulator({ port: 0, misKeys: [MIS_KEY] });
        pfTls = new PrintFactorySimulator({ port: 0, misKeys: [MIS_KEY], tls: { key: certs.key, cert: certs.cert } });
        durstHttp = new DurstSimulator({ apiAuth: { type: 'none' } });
        durstHttps = new DurstSimulator({ tls: { key: certs.key, cert: certs.cert }, apiAuth: { type: 'none' } });
        for (const sim of [pfPlain, pfTls, durstHttp, durstHttps]) { await sim.start(); }
        helper.settings({ durstApiRetryDelay: 5, durstApiTimeout: 5000 });
        await helper.startServer();
    });

    after(async function () {
        if (!squid) { return; }
        await helper.stopServer();
        helper.settings({});
        for (const sim of [pfPlain, pfTls, durstHttp, durstHttps]) { await sim?.stop(); }
        await squid.stop();
        restoreEnv();
        await assertNoNewResources(resourcesBefore);
    });

    afterEach(async function () {
        if (squid) { await helper.unload(); }
    });

    const withAuth = () => `http://${ESCAPED}@127.0.0.1:${squid.port}`;
    const withoutAuth = () => squid.url;
    const pfUrl = (sim, host = 'printfactory.test') => `${sim === pfTls ? 'wss' : 'ws'}://${host}:${sim.port}`;
    const durstUrl = (sim, host = 'durst.test') => `${sim === durstHttps ? 'https' : 'http'}://${host}:${sim.port}`;
    const TLS_NODE = { id: 'tls', type: 'tls-config', name: 'private CA', cert: '', key: '', ca: '', verifyservercert: true };

    function pfFlow(url, extra = {}) {
        return [
            { id: 'tab', type: 'tab', label: 'proxy' },
            { id: 'cfg', type: 'printfactory-config', name: 'pf', url, pingInterval: 5, handshakeTimeout: 3, reconnectMin: 0.1,
                reconnectMax: 0.3, stableAfter: 60, authRetry: 60, ...extra },
            { id: 'pfn', type: 'printfactory-notification', z: 'tab', account: 'cfg', events: [], wires: [['out']] },
            { id: 'out', type: 'helper', z: 'tab' }
        ];
    }
    function subscriber(apiUrl, extra = {}) {
        return { id: 'sub', type: 'durst-subscriber', name: 'durst', apiUrl, apiAuth: 'none', hostUri: 'http://node-red.example:1880',
            externalAuthType: 'NONE', xAuthUser: '', jwtHeaderName: 'x-jwt-token', jwtMethod: 'HS256', subscriberId: '', ...extra };
    }
    function registerForm(apiUrl, extra = {}) {
        return { mode: 'apply', apiUrl, apiAuth: 'none', hostUri: 'http://node-red.example:1880', externalAuthType: 'NONE', subscriberId: '', credentials: {}, ...extra };
    }
    const modules = [tlsConfigNode, pfConfigNode, pfNotificationNode, subscriberNode];
    function logText() { return helper.log().getCalls().map((c) => String(c.args[0]?.msg ?? '')).join('\n'); }
    function warnings() {
        return helper.log().getCalls().map((c) => c.args[0]).filter((e) => e && e.level === helper.log().WARN).map((e) => String(e.msg));
    }
    const entriesFor = (target) => squid.entries().filter((e) => e.target.includes(target));

    /** Once `sim` holds the deployed account's connection (`what`), one `example` it sends reaches node out as `topic`. */
    async function deliversOne(sim, example, topic, what) {
        const msgs = [];
        helper.getNode('out').on('input', (m) => msgs.push(m));
        await waitFor(() => sim.connectionCount === 1, what);
        sim.sendExample(example);
        await waitFor(() => msgs.length === 1, `${topic} through the proxy`);
        assert.strictEqual(msgs[0].topic, topic);
    }

    it('PrintFactory ws:// tunnels through HTTP_PROXY with URL-escaped Basic credentials', async function () {
        proxyEnv({ HTTP_PROXY: withAuth() });
        await helper.load(modules, pfFlow(pfUrl(pfPlain)), { cfg: { misKey: MIS_KEY } });
        await deliversOne(pfPlain, 'jobCreated', 'job.created', 'the tunnelled connection');
        await helper.unload();
        await squid.waitForEntries(() => entriesFor(`printfactory.test:${pfPlain.port}`).length === 1, 'the CONNECT');
        assert.deepStrictEqual(entriesFor(`printfactory.test:${pfPlain.port}`).map((e) => [e.method, e.status, e.user]),
            [['CONNECT', 'TCP_TUNNEL/200', PROXY_USER]]);
        assert.match(logText(), new RegExp(`connected to ws://printfactory\\.test:${pfPlain.port} through proxy http://127\\.0\\.0\\.1:${squid.port}`));
        assert.ok(!logText().includes('p@ss') && !logText().includes('p%40ss'), 'proxy password in the log');
    });

    it('PrintFactory wss:// through HTTPS_PROXY trusts a private CA from tls-config; without it the certificate is refused', async function () {
        proxyEnv({ HTTPS_PROXY: withAuth() });
        // The test button: without the CA the TLS handshake inside the tunnel fails and it says why; with the
        // deployed tls-config node it is accepted; a tls-config id that is not deployed is a clear 400.
        await helper.load(modules, [TLS_NODE], { tls: { cadata: certs.ca } });
        const untrusted = await helper.request().post('/print-events/printfactory/test').send({ url: pfUrl(pfTls), misKey: MIS_KEY }).expect(502);
        assert.deepStrictEqual([untrusted.body.ok, untrusted.body.code, untrusted.body.vars.cause], [false, 'problem', 'tlsUntrusted'], JSON.stringify(untrusted.body));
        const trusted = await helper.request().post('/print-events/printfactory/test').send({ url: pfUrl(pfTls), misKey: MIS_KEY, tls: 'tls' }).expect(200);
        assert.deepStrictEqual(trusted.body, { ok: true, result: 'accepted' });
        const notDeployed = await helper.request().post('/print-events/printfactory/test').send({ url: pfUrl(pfTls), misKey: MIS_KEY, tls: 'nope' }).expect(400);
        assert.match(notDeployed.body.error, /TLS configuration nope is not deployed/);
        await helper.unload();
        await waitFor(() => pfTls.connectionCount === 0, 'the test connection to close');
        // The deployed account with the tls-config node.
        await helper.load(modules, [...pfFlow(pfUrl(pfTls), { tls: 'tls' }), TLS_NODE], { cfg: { misKey: MIS_KEY }, tls: { cadata: certs.ca } });
        await deliversOne(pfTls, 'deviceStatus', 'device.status', 'the wss connection through the tunnel');
        await helper.unload();
        await waitFor(() => pfTls.connectionCount === 0, 'the close');
        await squid.waitForEntries(() => entriesFor(`printfactory.test:${pfTls.port}`).length >= 3, 'three CONNECTs');
        assert.ok(entriesFor(`printfactory.test:${pfTls.port}`).every((e) => e.method === 'CONNECT' && e.user === PROXY_USER));
    });

    it('Durst http:// keeps its connection to the proxy alive: three calls, one client connection at squid', async function () {
        proxyEnv({ HTTP_PROXY: withAuth() });
        // Its own node id: the subscriber id a node registered is remembered per node (and the next test registers anew).
        await helper.load(modules, [subscriber(durstUrl(durstHttp), { id: 'sub-keepalive' })]);
        const node = helper.getNode('sub-keepalive');
        const created = await node.ensureRegistered();
        await node.client.getSubscriber(created.id);
        await node.client.listSubscriptions(created.id);
        const prefix = `http://durst.test:${durstHttp.port}/api/v1/subscribers/`;
        const mine = () => squid.entries().filter((e) => e.target.startsWith(prefix) && (e.method === 'GET' || e.target.endsWith('/create')))
            .slice(-3);
        await squid.waitForEntries(() => mine().length === 3 && mine()[2].method === 'GET', 'three calls');
        assert.deepStrictEqual(mine().map((e) => e.method), ['POST', 'GET', 'GET']);
        assert.strictEqual(new Set(mine().map((e) => e.clientPort)).size, 1, 'three calls over one connection: ' + JSON.stringify(mine()));
    });

    it('Durst http:// goes through HTTP_PROXY with URL-escaped credentials, from the button and the deployed node', async function () {
        proxyEnv({ HTTP_PROXY: withAuth() });
        const prefix = `http://durst.test:${durstHttp.port}/`;
        const loggedBefore = squid.entries().filter((e) => e.target.startsWith(prefix)).length;
        const subscribersBefore = durstHttp.subscribers().length;
        await helper.load(modules, [subscriber(durstUrl(durstHttp))]);
        const res = await helper.request().post('/print-events/durst/subscriber/register').send(registerForm(durstUrl(durstHttp))).expect(200);
        assert.strictEqual(res.body.action, 'created');
        const result = await helper.getNode('sub').ensureRegistered();
        assert.strictEqual(result.action, 'created');
        assert.strictEqual(durstHttp.subscribers().length, subscribersBefore + 2);
        await squid.waitForEntries((all) => all.filter((e) => e.target.startsWith(prefix)).length === loggedBefore + 2, 'two POSTs');
        const entries = squid.entries().filter((e) => e.target.startsWith(prefix)).slice(loggedBefore);
        assert.deepStrictEqual(entries.map((e) => [e.method, e.status, e.user]),
            [['POST', 'TCP_MISS/201', PROXY_USER], ['POST', 'TCP_MISS/201', PROXY_USER]]);
    });

    it('Durst https:// through HTTPS_PROXY with a private CA from tls-config; three calls reuse one CONNECT tunnel', async function () {
        proxyEnv({ HTTPS_PROXY: withAuth() });
        const target = `durst.test:${durstHttps.port}`;
        await helper.load(modules, [subscriber(durstUrl(durstHttps), { tls: 'tls' }), TLS_NODE], { tls: { cadata: certs.ca } });
        const node = helper.getNode('sub');
        const connectionsBefore = durstHttps.connections;
        const created = await node.ensureRegistered();
        assert.strictEqual(created.action, 'created');
        await node.client.getSubscriber(created.id);
        await node.client.listSubscriptions(created.id);
        assert.strictEqual(durstHttps.connections - connectionsBefore, 1, 'three calls over one TLS connection');
        await helper.unload();
        await squid.waitForEntries(() => entriesFor(target).length >= 1, 'the tunnel');
        // a duration: no second tunnel may be logged within 200 ms.
        await sleep(200);
        assert.deepStrictEqual(entriesFor(target).map((e) => [e.method, e.status, e.user]), [['CONNECT', 'TCP_TUNNEL/200', PROXY_USER]]);

        // The button: the CA of the chosen tls-config node; without one the certificate is refused (502).
        await helper.load(modules, [TLS_NODE], { tls: { cadata: certs.ca } });
        const ok = await helper.request().post('/print-events/durst/subscriber/register')
            .send(registerForm(durstUrl(durstHttps), { tls: 'tls', subscriberId: String(created.id) })).expect(200);
        assert.deepStrictEqual(ok.body, { ok: true, subscriberId: created.id, action: 'unchanged' });
        const refused = await helper.request().post('/print-events/durst/subscriber/register').send(registerForm(durstUrl(durstHttps))).expect(502);
        assert.match(refused.body.error, /certificate/i);
    });

    it('Durst https:// with "verify server certificate" off in tls-config connects without the CA', async function () {
        proxyEnv({ HTTPS_PROXY: withAuth() });
        await helper.load(modules, [{ ...TLS_NODE, verifyservercert: false }]);
        const res = await helper.request().post('/print-events/durst/subscriber/register').send(registerForm(durstUrl(durstHttps), { tls: 'tls' })).expect(200);
        assert.strictEqual(res.body.action, 'created');
    });

    it('a client certificate from tls-config reaches a server that demands one, for both vendors, through the proxy', async function () {
        proxyEnv({ HTTPS_PROXY: withAuth() });
        const tls = { key: certs.key, cert: certs.cert, clientCa: certs.ca };
        const pfMtls = new PrintFactorySimulator({ port: 0, misKeys: [MIS_KEY], tls });
        const durstMtls = new DurstSimulator({ tls, apiAuth: { type: 'none' } });
        await pfMtls.start();
        await durstMtls.start();
        try {
            // tls-config with the CA only: the servers refuse the handshake without a client certificate.
            await helper.load(modules, [TLS_NODE], { tls: { cadata: certs.ca } });
            const pfNoCert = await helper.request().post('/print-events/printfactory/test')
                .send({ url: `wss://printfactory.test:${pfMtls.port}`, misKey: MIS_KEY, tls: 'tls' }).expect(502);
            assert.deepStrictEqual([pfNoCert.body.code, pfNoCert.body.vars.cause], ['problem', 'tls'], JSON.stringify(pfNoCert.body));
            assert.match(pfNoCert.body.vars.detail, /certificate.required/i);
            await helper.request().post('/print-events/durst/subscriber/register')
                .send(registerForm(`https://durst.test:${durstMtls.port}`, { tls: 'tls' })).expect(502)
                .then((res) => assert.match(res.body.error, /certificate required/));
            assert.strictEqual(durstMtls.subscribers().length, 0);
            await helper.unload();
            // With the client certificate and key as well: both connect.
            const credentials = { cadata: certs.ca, certdata: certs.clientCert, keydata: certs.clientKey };
            await helper.load(modules, [...pfFlow(`wss://printfactory.test:${pfMtls.port}`, { tls: 'tls' }), TLS_NODE,
                subscriber(`https://durst.test:${durstMtls.port}`, { tls: 'tls' })], { cfg: { misKey: MIS_KEY }, tls: credentials });
            await waitFor(() => pfMtls.connectionCount === 1, 'the PrintFactory connection with a client certificate');
            const result = await helper.getNode('sub').ensureRegistered();
            assert.strictEqual(result.action, 'created');
            assert.strictEqual(durstMtls.subscribers().length, 1);
        } finally {
            await helper.unload();
            await pfMtls.stop();
            await durstMtls.stop();
        }
    });

    it('a 407 names the proxy (never its password) and is not blamed on PrintFactory or Durst', async function () {
        for (const [proxyUrl, hint] of [[withoutAuth(), /wants credentials/], [`http://${encodeURIComponent(PROXY_USER)}:wrong%40pw@127.0.0.1:${squid.port}`, /did not accept/]]) {
            proxyEnv({ HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl });
            await helper.load(modules, pfFlow(pfUrl(pfPlain)), { cfg: { misKey: MIS_KEY } });
            const refusal = new RegExp(`proxy http://127\\.0\\.0\\.1:${squid.port} refused the connection to printfactory\\.test:${pfPlain.port} \\(HTTP 407 Proxy Authentication Required\\)`);
            await waitFor(() => warnings().some((w) => refusal.test(w)), 'the PrintFactory warning');
            assert.match(warnings().find((w) => refusal.test(w)), hint);
            assert.strictEqual(pfPlain.connectionCount, 0);
            assert.ok(!warnings().some((w) => /refused the MisKey/.test(w)), 'a 407 taken for a MisKey refusal');
            await helper.unload();
            for (const sim of [durstHttp, durstHttps]) {
                const res = await helper.request().post('/print-events/durst/subscriber/register').send(registerForm(durstUrl(sim))).expect(502);
                assert.match(res.body.error, new RegExp(`not reached: proxy http://127\\.0\\.0\\.1:${squid.port} refused the connection to durst\\.test:${sim.port} \\(HTTP 407`));
                assert.match(res.body.error, hint);
                assert.ok(!/answered 407/.test(res.body.error), res.body.error);
            }
            assert.ok(!logText().includes('wrong') && !logText().includes('p@ss'), 'proxy password in the log');
        }
    });

    it('a 403 from the proxy\'s CONNECT rule (stock squid: port 443 only) is reported as the proxy\'s, not as a refused MisKey', async function () {
        proxyEnv({ HTTP_PROXY: withAuth() });
        // Port 1000 is outside this squid's SSL_ports (443 1025-65535): squid refuses the CONNECT before connecting.
        await helper.load(modules, pfFlow('ws://printfactory.test:1000'), { cfg: { misKey: MIS_KEY } });
        await waitFor(() => warnings().some((w) => /refused the connection to printfactory\.test:1000 \(HTTP 403 Forbidden\)/.test(w)), 'the 403 warning');
        assert.match(warnings().join('\n'), /SSL_ports|port 443/);
        assert.ok(!warnings().some((w) => /refused the MisKey/.test(w)));
    });

    it('loopback targets are direct for both vendors, even with the proxy set and NO_PROXY empty', async function () {
        // The proxy URL has no credentials: anything sent through it would be refused with 407.
        proxyEnv({ HTTP_PROXY: withoutAuth(), HTTPS_PROXY: withoutAuth() });
        const logged = squid.entries().length;
        await helper.load(modules, [...pfFlow(pfUrl(pfPlain, '127.0.0.1')), subscriber(durstUrl(durstHttp, '127.0.0.1'))], { cfg: { misKey: MIS_KEY } });
        await waitFor(() => pfPlain.connectionCount === 1, 'the direct PrintFactory connection');
        const result = await helper.getNode('sub').ensureRegistered();
        assert.strictEqual(result.action, 'created');
        await helper.request().post('/print-events/durst/subscriber/register').send(registerForm(durstUrl(durstHttp, 'localhost'))).expect(200);
        await helper.unload();
        // a duration: nothing may go through the proxy within 200 ms.
        await sleep(200);
        assert.strictEqual(squid.entries().length, logged, 'nothing went through the proxy');
    });

    it('NO_PROXY means the same for both vendors: ".test" bypasses the proxy, "test" does not', async function () {
        this.timeout(60000); // bounded even where DNS look-ups of unknown names time out instead of failing at once
        proxyEnv({ HTTP_PROXY: withAuth(), NO_PROXY: 'example.org, .test' });
        const logged = squid.entries().length;
        // Direct: only squid knows these names, so both vendors fail on their own look-up (or, where DNS is slow,
        // time out), and neither error comes from the proxy.
        await helper.load(modules, pfFlow(pfUrl(pfPlain)), { cfg: { misKey: MIS_KEY } });
        const failed = () => warnings().find((w) => w.includes(`connection to ${pfUrl(pfPlain)} lost or failed`));
        await waitFor(failed, 'the direct PrintFactory attempt to fail', 20000);
        assert.match(failed(), /ENOTFOUND|EAI_AGAIN|getaddrinfo|timed out/);
        assert.doesNotMatch(failed(), /proxy/);
        await helper.unload();
        const direct = await helper.request().post('/print-events/durst/subscriber/register').send(registerForm(durstUrl(durstHttp))).expect(502);
        assert.match(direct.body.error, /ENOTFOUND|EAI_AGAIN|getaddrinfo|timeout/);
        assert.doesNotMatch(direct.body.error, /proxy/);
        // a duration: nothing may go through the proxy within 200 ms.
        await sleep(200);
        assert.strictEqual(squid.entries().length, logged, 'NO_PROXY hosts went through the proxy');
        // "test" is an exact host name in NO_PROXY, so printfactory.test and durst.test still use the proxy.
        proxyEnv({ HTTP_PROXY: withAuth(), NO_PROXY: 'test' });
        await helper.load(modules, pfFlow(pfUrl(pfPlain)), { cfg: { misKey: MIS_KEY } });
        await waitFor(() => pfPlain.connectionCount === 1, 'the proxied connection');
        await helper.unload();
        await helper.request().post('/print-events/durst/subscriber/register').send(registerForm(durstUrl(durstHttp))).expect(200);
    });
});

describe('a proxy that accepts connections but never answers', function () {
    this.timeout(15000);
    const net = require('net');
    let hung;
    let open;
    let resourcesBefore;

    before(async function () {
        saveEnv();
        await null; // mocha's hook timer is counted on both sides
        resourcesBefore = activeResources();
        open = new Set();
        hung = net.createServer((socket) => {
            open.add(socket);
            socket.on('close', () => open.delete(socket));
            socket.on('error', () => undefined);
            socket.resume();
        });
        await new Promise((resolve) => hung.listen(0, '127.0.0.1', resolve));
        await helper.startServer();
    });

    after(async function () {
        await helper.stopServer();
        for (const socket of open) { socket.destroy(); }
        await new Promise((resolve) => hung.close(resolve));
        restoreEnv();
        await assertNoNewResources(resourcesBefore);
    });

    it('PrintFactory: the handshake timeout covers the tunnel, the warning names the proxy, and close leaves no socket', async function () {
        proxyEnv({ HTTPS_PROXY: `http://u:secret@127.0.0.1:${hung.address().port}` });
        await helper.load([pfConfigNode, pfNotificationNode], [
            { id: 'cfg', type: 'printfactory-config', url: 'wss://printfactory.test:27489', handshakeTimeout: 0.3, reconnectMin: 0.05, reconnectMax: 0.1 },
            { id: 'pfn', type: 'printfactory-notification', account: 'cfg', events: [], wires: [[]] }
        ], { cfg: { misKey: MIS_KEY } });
        const warned = () => helper.log().getCalls().map((c) => String(c.args[0]?.msg ?? ''))
            .find((m) => /proxy http:\/\/127\.0\.0\.1:\d+ did not open a tunnel within 300 ms/.test(m));
        await waitFor(() => warned(), 'the tunnel timeout warning');
        assert.ok(!warned().includes('secret'));
        await helper.unload();
        await waitFor(() => open.size === 0, 'every socket to the proxy to close');
    });

    it('Durst: a pending CONNECT times out naming the proxy, and close() aborts one still waiting', async function () {
        proxyEnv({ HTTPS_PROXY: `http://127.0.0.1:${hung.address().port}` });
        const quick = new DurstRestClient({ apiUrl: 'https://durst.test:8443', timeoutMs: 300, attempts: 1 });
        // Whichever fires first, the tunnel's or axios's timeout, the error names the proxy.
        await assert.rejects(quick.getSubscriber(1), (err) =>
            /not reached: proxy http:\/\/127\.0\.0\.1:\d+ did not open a tunnel within 300 ms|timeout of 300ms exceeded \(through proxy http:\/\/127\.0\.0\.1:\d+\)/
                .test(err.message));
        quick.close();
        await waitFor(() => open.size === 0, 'the timed-out tunnel to close');

        const slow = new DurstRestClient({ apiUrl: 'https://durst.test:8443', timeoutMs: 10000, attempts: 1 });
        const pending = slow.getSubscriber(1).then(() => 'resolved', (err) => err);
        await waitFor(() => open.size === 1, 'the CONNECT to reach the proxy');
        const started = Date.now();
        slow.close();
        const outcome = await pending;
        assert.ok(outcome instanceof Error, 'the call must fail');
        assert.ok(Date.now() - started < 2000, 'close() must not wait for the tunnel timeout');
        await waitFor(() => open.size === 0, 'the aborted tunnel to close', 2000);
    });
});
