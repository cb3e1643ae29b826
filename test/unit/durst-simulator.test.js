'use strict';
// The Durst simulator on its own: API auth, secret echo, both create paths, list shape, trickle and the CLI.
const http = require('http');
const path = require('path');
const assert = require('assert');
const jwt = require('jsonwebtoken');
const { spawn } = require('child_process');
const { sleep, waitFor } = require('../lib/wait');
const { DurstSimulator, echoSecret } = require('../../dist/simulators/durst');

function request(url, method, body, headers = {}) {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request(url, { method, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
            let text = '';
            res.on('data', (c) => { text += c; });
            res.on('end', () => {
                let parsed = text;
                try { parsed = text ? JSON.parse(text) : undefined; } catch { /* an HTML page stays text */ }
                resolve({ status: res.statusCode, body: parsed, headers: res.headers, text });
            });
        });
        req.on('error', reject);
        req.end(data);
    });
}

describe('durst simulator', function () {
    let sim;
    let receiver;
    const received = [];

    beforeEach(async function () {
        received.length = 0;
        receiver = http.createServer((req, res) => {
            let text = '';
            req.on('data', (c) => { text += c; });
            req.on('end', () => { received.push({ url: req.url, headers: req.headers, body: JSON.parse(text) }); res.end('ok'); });
        });
        await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    });

    afterEach(async function () {
        if (sim) { await sim.stop(); }
        sim = undefined;
        receiver.closeAllConnections();
        await new Promise((resolve) => receiver.close(resolve));
    });

    it('checks bearer API auth and echoes secrets transformed', async function () {
        sim = new DurstSimulator({ apiAuth: { type: 'bearer', token: 'tok' } });
        await sim.start();
        const body = { externalAuthType: 'XAUTH', hostUri: 'https://domain.at:443/base/path/', xAuthInfo: { user: 'user', password: 'password' } };
        assert.strictEqual((await request(`${sim.url}/api/v1/subscribers/create`, 'POST', body)).status, 401);
        const created = await request(`${sim.url}/api/v1/subscribers/create`, 'POST', body, { authorization: 'Bearer tok' });
        assert.strictEqual(created.status, 201);
        assert.strictEqual(created.body.id, 17);
        assert.strictEqual(created.body.xAuthInfo.user, 'user');
        assert.strictEqual(created.body.xAuthInfo.password, echoSecret('password'));
        assert.match(created.body.xAuthInfo.password, /^[A-Za-z0-9+/]{22}==$/);
        assert.strictEqual(sim.subscribers()[0].xAuthInfo.password, 'password');
    });

    it('serves both subscription create paths and lists a JSON array', async function () {
        sim = new DurstSimulator({ apiAuth: { type: 'none' } });
        await sim.start();
        await request(`${sim.url}/api/v1/subscribers/create`, 'POST', { externalAuthType: 'NONE', hostUri: 'localhost:1234' });
        const a = await request(`${sim.url}/api/v1/subscribers/17/subscriptions/create`, 'POST', { path: 'a', status: 'ACTIVE', topic: 'STATUS/*' });
        const b = await request(`${sim.url}/api/v1/subscribers/17/subscriptions`, 'POST', { path: 'b', status: 'ACTIVE', topic: 'WORKFLOW/*' });
        assert.deepStrictEqual([a.status, b.status, a.body.id, b.body.id], [201, 201, 4, 5]);
        const list = await request(`${sim.url}/api/v1/subscribers/17/subscriptions`, 'GET');
        assert.ok(Array.isArray(list.body));
        assert.deepStrictEqual(list.body.map((s) => s.topic), ['STATUS/*', 'WORKFLOW/*']);
        assert.strictEqual((await request(`${sim.url}/api/v1/subscribers/99/subscriptions`, 'GET')).status, 404);
    });

    it('trickles overlapping production job lifecycles and workflows whose progress climbs to 100 %', async function () {
        sim = new DurstSimulator({ apiAuth: { type: 'none' } });
        await sim.start();
        // With the trailing '/': the simulator joins hostUri and path as plain text, as the vendor page does.
        const hostUri = `http://127.0.0.1:${receiver.address().port}/`;
        await request(`${sim.url}/api/v1/subscribers/create`, 'POST', { externalAuthType: 'JWT_SIGNING', hostUri,
            jwtSigningInfo: { httpHeaderName: 'x-jwt-token', key: 'k', method: 'HS256' } });
        await request(`${sim.url}/api/v1/subscribers/17/subscriptions`, 'POST', { path: 'status', status: 'ACTIVE', topic: 'STATUS/*' });
        await request(`${sim.url}/api/v1/subscribers/17/subscriptions`, 'POST', { path: 'workflow', status: 'ACTIVE', topic: 'WORKFLOW/*' });
        sim.startTrickle(50);
        const jobEvents = (id) => received.filter((r) => r.url === '/status' && r.body.entityType === 'PRODUCTION_JOB' && r.body.entityId === id);
        const finishedWorkflows = () => new Set(received.filter((r) => r.url === '/workflow' && r.body.progress === 100).map((r) => r.body.name));
        await waitFor(() => jobEvents(2068).length >= 7 && finishedWorkflows().size >= 2, 'job 2068 finished and two workflows done', 8000, { intervalMs: 20 })
            .finally(() => sim.stopTrickle());
        const jobs = jobEvents(2068).slice(0, 7);
        assert.deepStrictEqual(jobs.map((r) => r.body.newStatus),
            ['CREATED', 'OUTPUT_CONFIG_ASSIGNED', 'IMPOSED', 'SENT_TO_PRINTER', 'PRINTING', 'PRINTED', 'FINISHED']);
        assert.ok(jobs.every((r) => r.headers['x-jwt-token'] && r.body.printer && r.body.printer.name));
        assert.strictEqual(jobs[1].body.oldStatus, 'CREATED');
        // Several jobs are in flight at once: another job's events arrive before 2068 is finished.
        const firstFinished = received.indexOf(jobs[6]);
        assert.ok(received.slice(0, firstFinished).some((r) => r.body.entityType === 'PRODUCTION_JOB' && r.body.entityId !== 2068),
            'production jobs overlap');
        // Every workflow's progress only climbs, ending at 100 with SUCCESS; two kinds run side by side.
        const byId = new Map();
        for (const r of received.filter((x) => x.url === '/workflow')) { byId.set(r.body.id, [...(byId.get(r.body.id) || []), r.body]); }
        for (const [id, bodies] of byId) {
            const progress = bodies.map((b) => b.progress);
            assert.deepStrictEqual(progress, [...progress].sort((a, b) => a - b), `workflow ${id} progress ${progress}`);
            if (progress.includes(100)) {
                assert.strictEqual(bodies[bodies.length - 1].status, 'SUCCESS');
                assert.ok(progress.length >= 4, `workflow ${id} reached 100 in visible steps: ${progress}`);
            } else {
                assert.ok(bodies.every((b) => b.status === 'RUNNING'));
            }
        }
        assert.deepStrictEqual([...finishedWorkflows()].sort(), ['motif-checkin', 'production-job-calculate-ink-usage']);
        assert.ok(received.some((r) => r.body.entityType === 'MOTIF' && r.body.newStatus === 'CHECKED_IN'));
    });

    it('the CLI prints its URL and stops on SIGTERM', async function () {
        const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'simulators', 'durst', 'cli.js'), '--port', '0', '--trickle', '1000', '--no-login']);
        const url = await new Promise((resolve, reject) => {
            let out = '';
            child.stdout.on('data', (c) => {
                out += c;
                const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
                if (m) { resolve(m[1]); }
            });
            child.on('exit', (code) => reject(new Error('exited early: ' + code)));
        });
        const res = await request(`${url}/api/v1/subscribers/1`, 'GET');
        assert.strictEqual(res.status, 404);
        const code = await new Promise((resolve) => { child.removeAllListeners('exit'); child.on('exit', resolve); child.kill('SIGTERM'); });
        assert.strictEqual(code, 0);
    });

    it('sends one callback per ACTIVE matching subscription of every subscriber, as Durst does', async function () {
        sim = new DurstSimulator({ apiAuth: { type: 'none' } });
        await sim.start();
        // With the trailing '/': the simulator joins hostUri and path as plain text, as the vendor page does.
        const hostUri = `http://127.0.0.1:${receiver.address().port}/`;
        for (let i = 0; i < 2; i++) {
            await request(`${sim.url}/api/v1/subscribers/create`, 'POST', { externalAuthType: 'NONE', hostUri });
        }
        const [first, second] = sim.subscribers().map((s) => s.id);
        await request(`${sim.url}/api/v1/subscribers/${first}/subscriptions`, 'POST', { path: 'a', status: 'ACTIVE', topic: 'STATUS/PRODUCTION_JOB/*' });
        await request(`${sim.url}/api/v1/subscribers/${first}/subscriptions`, 'POST', { path: 'a', status: 'ACTIVE', topic: 'STATUS/*' });
        await request(`${sim.url}/api/v1/subscribers/${first}/subscriptions`, 'POST', { path: 'off', status: 'INACTIVE', topic: 'STATUS/*' });
        await request(`${sim.url}/api/v1/subscribers/${second}/subscriptions`, 'POST', { path: 'b', status: 'ACTIVE', topic: 'STATUS/PRODUCTION_JOB/*' });
        await request(`${sim.url}/api/v1/subscribers/${second}/subscriptions`, 'POST', { path: 'm', status: 'ACTIVE', topic: 'STATUS/MOTIF/*' });
        const deliveries = await sim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTED');
        assert.deepStrictEqual(deliveries.map((d) => d.status), [200, 200, 200]);
        assert.deepStrictEqual(received.map((r) => r.url).sort(), ['/a', '/a', '/b']);
    });

    it('joins hostUri and path as plain text (the vendor page), or with one "/" (callbackJoin: slash)', async function () {
        for (const [callbackJoin, expected] of [['concat', 'http://127.0.0.1:1880durst/status'], ['slash', 'http://127.0.0.1:1880/durst/status']]) {
            const joined = new DurstSimulator({ apiAuth: { type: 'none' }, callbackJoin, callbackTimeoutMs: 200 });
            await joined.start();
            try {
                await request(`${joined.url}/api/v1/subscribers/create`, 'POST', { externalAuthType: 'NONE', hostUri: 'http://127.0.0.1:1880' });
                const [subscriber] = joined.subscribers();
                await request(`${joined.url}/api/v1/subscribers/${subscriber.id}/subscriptions`, 'POST', { path: 'durst/status', status: 'ACTIVE', topic: 'STATUS/*' });
                const [delivery] = await joined.fireStatus('MOTIF', 1, 'CHECKED_IN');
                assert.strictEqual(delivery.url, expected, callbackJoin);
            } finally {
                await joined.stop();
            }
        }
    });

    it('signs callbacks with the secret sent, the one it echoed, or that one base64-decoded (signWith)', async function () {
        sim = new DurstSimulator({ apiAuth: { type: 'none' } });
        await sim.start();
        const hostUri = `http://127.0.0.1:${receiver.address().port}/`;
        const answer = await request(`${sim.url}/api/v1/subscribers/create`, 'POST', { externalAuthType: 'JWT_SIGNING', hostUri,
            jwtSigningInfo: { httpHeaderName: 'x-jwt-token', key: 'string', method: 'HS384' } });
        const returned = answer.body.jwtSigningInfo.key;
        assert.notStrictEqual(returned, 'string', 'the key is echoed changed');
        await request(`${sim.url}/api/v1/subscribers/${answer.body.id}/subscriptions`, 'POST', { path: 'signed', status: 'ACTIVE', topic: 'STATUS/*' });
        for (const [signWith, key] of [['sent', 'string'], ['returned', returned], ['returned-decoded', Buffer.from(returned, 'base64')]]) {
            sim.setSignWith(signWith);
            const [delivery] = await sim.fireStatus('MOTIF', 7, 'CHECKED_IN');
            const token = delivery.headers['x-jwt-token'];
            assert.doesNotThrow(() => jwt.verify(token, key, { algorithms: ['HS384'] }), signWith);
        }
    });

    it('the CLI answers --help with its options and exits 0 without listening', async function () {
        const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'simulators', 'durst', 'cli.js'), '--help']);
        let out = '';
        child.stdout.on('data', (c) => { out += c; });
        const code = await new Promise((resolve) => child.on('exit', resolve));
        assert.strictEqual(code, 0);
        for (const option of ['--port', '--host', '--trickle', '--login-user', '--login-password', '--token-ttl', '--no-login', '--behaviour',
            '--api-user', '--api-password', '--api-token', '--xauth-style', '--help']) {
            assert.ok(out.includes(option), `help mentions ${option}:\n${out}`);
        }
        assert.doesNotMatch(out, /listening on/);
    });

    describe('login and server behaviours', function () {
        const login = { type: 'login', user: 'u', password: 'p' };
        const post = (url, body, headers) => request(url, 'POST', body, headers);

        it('requires a login by default: v1 (token in the header) and v2 (header and body); tokens expire and die with a restart', async function () {
            sim = new DurstSimulator({ apiAuth: { ...login, tokenTtlMs: 300 } });
            await sim.start();
            const body = { externalAuthType: 'NONE', hostUri: 'localhost:1234' };
            assert.strictEqual((await post(`${sim.url}/api/v1/subscribers/create`, body)).status, 401, 'no token, no call');
            assert.strictEqual((await request(`${sim.url}/api/v1/login?username=u&password=wrong`, 'GET')).status, 401);
            const v1 = await request(`${sim.url}/api/v1/login?username=u&password=p`, 'GET');
            assert.strictEqual(v1.status, 200);
            assert.deepStrictEqual(Object.keys(v1.body).sort(), ['activeUntil', 'id', 'username']);
            const v2 = await post(`${sim.url}/api/v2/login`, { username: 'u', password: 'p' });
            assert.strictEqual(v2.headers['x-auth-token'], v2.body['X-Auth-Token']);
            assert.strictEqual((await post(`${sim.url}/api/v1/subscribers/create`, body, { 'x-auth-token': v1.headers['x-auth-token'] })).status, 201);
            assert.ok(!sim.requests.some((r) => /password|wrong/.test(r.path)), 'the v1 query (password) is never recorded');
            await sleep(350); // the token lifetime is the behaviour under test
            assert.strictEqual((await request(`${sim.url}/api/v1/subscribers/17`, 'GET', undefined, { 'x-auth-token': v2.headers['x-auth-token'] })).status, 401, 'expired');
            const fresh = sim.issueToken();
            assert.strictEqual((await request(`${sim.url}/api/v1/subscribers/17`, 'GET', undefined, { 'x-auth-token': fresh })).status, 200);
            sim.restart();
            assert.strictEqual((await request(`${sim.url}/api/v1/subscribers/17`, 'GET', undefined, { 'x-auth-token': fresh })).status, 401, 'void after a restart');
            assert.strictEqual(sim.subscribers().length, 1, 'the data survives a restart');
        });

        it('answers lists as HAL and pages, a single GET with 405, HTML pages with 200, and creates as the behaviour says', async function () {
            sim = new DurstSimulator({ apiAuth: login, slowCreateMs: 300 });
            await sim.start();
            const auth = sim.authHeaders();
            const sub = (await post(`${sim.url}/api/v1/subscribers/create`, { externalAuthType: 'NONE', hostUri: 'h' }, auth)).body;
            for (const p of ['a', 'b', 'c']) { await post(`${sim.url}/api/v1/subscribers/${sub.id}/subscriptions`, { path: p, status: 'ACTIVE', topic: 'STATUS/*' }, auth); }
            const list = (query = '') => request(`${sim.url}/api/v1/subscribers/${sub.id}/subscriptions${query}`, 'GET', undefined, auth);
            sim.setBehaviour('hal');
            const hal = (await list()).body;
            assert.deepStrictEqual(hal._embedded.subscriptionApiList.map((s) => s.path), ['a', 'b']);
            assert.match(hal._links.next.href, /page=1/);
            sim.setBehaviour('hal', false);
            sim.setBehaviour('paged');
            const page1 = (await list('?page=1')).body;
            assert.deepStrictEqual([page1.content.map((s) => s.path), page1.totalPages, page1.number, page1.last], [['c'], 2, 1, true]);
            sim.clearBehaviours();
            sim.setBehaviour('single-get-405');
            assert.strictEqual((await request(`${sim.url}/api/v1/subscribers/${sub.id}/subscriptions/4`, 'GET', undefined, auth)).status, 405);
            sim.clearBehaviours();
            sim.setBehaviour('html-200');
            const html = await list();
            assert.deepStrictEqual([html.status, /text\/html/.test(html.headers['content-type']), /<!DOCTYPE html>/.test(html.text)], [200, true, true]);
            sim.clearBehaviours();
            const create = () => post(`${sim.url}/api/v1/subscribers/${sub.id}/subscriptions`, { path: 'x', status: 'ACTIVE', topic: 'WORKFLOW/*' }, auth);
            sim.setBehaviour('create-500', 'subscription');
            assert.strictEqual((await create()).status, 500);
            assert.strictEqual(sim.subscriptions(sub.id).length, 4, 'stored although answered 500');
            sim.clearBehaviours();
            sim.setBehaviour('empty-201');
            const empty = await create();
            assert.deepStrictEqual([empty.status, empty.text], [201, '']);
            sim.clearBehaviours();
            sim.setBehaviour('create-slow');
            const started = Date.now();
            let answered = false;
            const slow = create().finally(() => { answered = true; });
            await waitFor(() => sim.subscriptions(sub.id).length === 6, 'the slow create stored');
            assert.ok(!answered, 'stored before the answer');
            assert.strictEqual((await slow).status, 201);
            assert.ok(Date.now() - started >= 280, 'answered after slowCreateMs');
            sim.clearBehaviours();
            sim.setBehaviour('uuid-ids');
            assert.match(String((await create()).body.id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
            assert.throws(() => sim.setBehaviour('no-such-thing'), /unknown behaviour/);
        });
    });
});
