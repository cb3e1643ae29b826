'use strict';
// The PrintFactory simulator's REST API (documented answers, consistency with the notifications it sends) and the
// REST client on its own (Retry-After parsing, sharing, closing) against it on loopback.
const assert = require('assert');
const http = require('http');
const { PrintFactorySimulator, PrintFloor, FLOOR_DEVICE_GUIDS, ACTIVE_JOB_STATUSES } = require('../../dist/simulators/printfactory');
const { PrintFactoryApiClient, retryAfterMs } = require('../../dist/nodes/lib/printfactory/rest-client');
const { classify } = require('../../dist/nodes/lib/printfactory/classify');

function call(sim, method, path, { misKey = 'k', body } = {}) {
    return new Promise((resolve, reject) => {
        const headers = misKey === null ? {} : { MisKey: misKey };
        if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
        const req = http.request(new URL(path, sim.apiUrl), { method, headers }, (res) => {
            let text = '';
            res.on('data', (c) => { text += c; });
            res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
        });
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

function seeded(seed) {
    let s = seed >>> 0;
    return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

describe('PrintFactory simulator REST API', function () {
    let sim;
    beforeEach(async function () {
        sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: ['k'] });
        await sim.start();
    });
    afterEach(async function () { await sim.stop(); });

    it('answers the documented errors: missing and invalid MisKey, unknown and missing GUID', async function () {
        const job = sim.floor.createJob();
        const missing = await call(sim, 'GET', `/api/v2/job/${job.JobGUID}/status`, { misKey: null });
        assert.strictEqual(missing.status, 401);
        assert.match(missing.body.Message, /"MisKey" or "HardwareHash", "SerialNumber" and "ApplicationVersion" headers are required/);
        assert.deepStrictEqual(await call(sim, 'GET', `/api/v2/job/${job.JobGUID}/status`, { misKey: 'nope' }), { status: 401, body: { Message: 'Invalid MisKey' } });
        assert.deepStrictEqual(await call(sim, 'GET', '/api/v2/job/00000000-0000-4000-8000-000000000000/status'), { status: 404, body: { Message: 'JobGUID is not found' } });
        assert.deepStrictEqual(await call(sim, 'GET', '/api/v2/job//status'), { status: 400, body: { Message: '"JobGUID" value required' } });
        assert.deepStrictEqual(await call(sim, 'GET', '/api/v2/device/%20/queues'), { status: 400, body: { Message: '"DeviceGUID" value required' } });
        assert.deepStrictEqual(await call(sim, 'GET', '/api/v2/device/abc/status'), { status: 404, body: { Message: 'DeviceGUID is not found' } });
        assert.strictEqual((await call(sim, 'POST', '/api/v2/job/list', { body: [1] })).status, 400);
        assert.strictEqual((await call(sim, 'GET', '/api/v2/job/list')).status, 405);
        assert.deepStrictEqual(sim.api.requests.slice(0, 2).map((r) => [r.misKey, r.status]), [['missing', 401], ['invalid', 401]]);
    });

    it('a JobGUID from a notification resolves to that job, in the state the notification announced', async function () {
        const floor = sim.floor;
        const seen = new Map();
        for (let i = 0; i < 80; i++) {
            const n = floor.nextJobEvent();
            if (classify(n).startsWith('job.') && !('NestGUID' in n)) { seen.set(n.JobGUID, classify(n)); }
        }
        let resolved = 0;
        for (const [guid, event] of seen) {
            const res = await call(sim, 'GET', `/api/v2/job/${guid}/status`);
            const job = floor.job(guid);
            // The nester automation notifications carry a JobGUID that is no print job (vendor page): 404 there.
            if (!job) { assert.strictEqual(res.status, 404, `${event} ${guid}`); continue; }
            resolved += 1;
            assert.strictEqual(res.status, 200, `${event} ${guid}`);
            assert.strictEqual(res.body.Info.Job, job.JobName);
            assert.strictEqual(res.body.Info.Status, job.Status);
            assert.strictEqual(res.body.Info.DeviceGUID, job.DeviceGUID);
            assert.strictEqual(res.body.Info.DeviceName, floor.device(job.DeviceGUID).info.DeviceName);
        }
        assert.ok(resolved >= 5, `print jobs resolved: ${resolved}`);
        const statuses = new Set(floor.jobs().map((j) => j.Status));
        assert.ok(statuses.size >= 2, `jobs move between states: ${[...statuses]}`);
    });

    it('the job list filters by StatusList, device and name part; device status and queues name the device', async function () {
        const a = sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[0], JobName: 'Bakery poster 1' });
        const b = sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[1], JobName: 'Museum banner 2' });
        sim.floor.setJobStatus(a.JobGUID, 'InProgress');
        sim.floor.setJobStatus(b.JobGUID, 'Completed');
        const active = await call(sim, 'POST', '/api/v2/job/list', { body: { StatusList: ACTIVE_JOB_STATUSES } });
        assert.deepStrictEqual(active.body.map((j) => j.JobGUID), [a.JobGUID]);
        assert.deepStrictEqual(Object.keys(active.body[0]).sort(), ['CreatedDate', 'Device', 'DeviceGUID', 'Documents', 'JobGUID', 'JobName',
            'MediaSize', 'MediaType', 'Producer', 'Progress', 'QueueGUID', 'QueueName', 'Status', 'User']);
        assert.deepStrictEqual((await call(sim, 'POST', '/api/v2/job/list', { body: { Job: 'museum' } })).body.map((j) => j.JobGUID), [b.JobGUID]);
        assert.deepStrictEqual((await call(sim, 'POST', '/api/v2/job/list', { body: { DeviceGUID: FLOOR_DEVICE_GUIDS[1].toUpperCase() } })).body.map((j) => j.JobGUID), [b.JobGUID]);
        assert.strictEqual((await call(sim, 'POST', '/api/v2/job/list', { body: {} })).body.length, 2);
        const device = await call(sim, 'GET', `/api/v2/device/${FLOOR_DEVICE_GUIDS[0]}/status`);
        assert.strictEqual(device.body.DeviceName, 'Durst P5 250 HS');
        assert.strictEqual(device.body.DeviceStatus, sim.floor.devices[0].Status);
        assert.deepStrictEqual(device.body.CurrentJob.JobGUID, a.JobGUID);
        assert.strictEqual(device.body.InProgressJobs, 1);
        sim.api.deviceAnswerAsArray = true;
        const wrapped = await call(sim, 'GET', `/api/v2/device/${FLOOR_DEVICE_GUIDS[1]}/status`);
        assert.ok(Array.isArray(wrapped.body) && wrapped.body.length === 1 && wrapped.body[0].CurrentJob === null);
        const queues = await call(sim, 'GET', `/api/v2/device/${FLOOR_DEVICE_GUIDS[0]}/queues`);
        assert.deepStrictEqual(queues.body.map((q) => q.QueueName), ['Banner', 'Rush']);
    });

    it('jobs the floor creates recur and change state; a seeded floor is repeatable', function () {
        const names = (seed) => { const f = new PrintFloor({ random: seeded(seed) }); for (let i = 0; i < 40; i++) { f.nextJobEvent(); } return f.jobs().map((j) => [j.JobName, j.Status]); };
        assert.deepStrictEqual(names(5), names(5));
    });
});

describe('PrintFactory REST client', function () {
    it('reads Retry-After as seconds or an HTTP date', function () {
        assert.strictEqual(retryAfterMs('2'), 2000);
        assert.strictEqual(retryAfterMs('0.5'), 500);
        assert.strictEqual(retryAfterMs(new Date(10000 + 3000).toUTCString(), 10000), 3000);
        assert.strictEqual(retryAfterMs('soon'), undefined);
        assert.strictEqual(retryAfterMs(undefined), undefined);
    });

    it('shares concurrent identical calls, fails queued calls on close, and a too long Retry-After is not waited for', async function () {
        const sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: ['k'] });
        await sim.start();
        const client = new PrintFactoryApiClient({ apiUrl: sim.apiUrl, misKey: 'k', concurrency: 1, maxRetryAfterMs: 5000 });
        try {
            const job = sim.floor.createJob();
            const answers = await Promise.all([client.jobStatus(job.JobGUID), client.jobStatus(job.JobGUID), client.jobStatus(job.JobGUID)]);
            assert.deepStrictEqual(answers.map((a) => a.source), ['call', 'shared', 'shared']);
            assert.strictEqual(client.stats.httpCalls, 1);

            sim.api.injectFailures(1, { status: 503, retryAfter: '3600' });
            await assert.rejects(client.jobStatus(sim.floor.createJob().JobGUID), (err) => err.statusCode === 503 && err.code === 'EHTTP');

            sim.api.latencyMs = 300;
            const running = client.jobStatus(sim.floor.createJob().JobGUID);
            const waiting = client.jobStatus(sim.floor.createJob().JobGUID);
            client.close();
            await assert.rejects(running, (err) => err.code === 'ECLOSED');
            await assert.rejects(waiting, (err) => err.code === 'ECLOSED');
        } finally {
            client.close();
            await sim.stop();
        }
    });
});
