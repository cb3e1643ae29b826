'use strict';
// printfactory-api in the Node-RED test helper against the PrintFactory simulator's REST API on loopback:
// notification -> api resolves a bare JobGUID to the job, the four actions, bursts (shared calls, cache,
// concurrency, bounded queue, Retry-After), and every failure reaching a Catch node with msg.statusCode.
const assert = require('assert');
const path = require('path');
const helper = require('node-red-node-test-helper');
const configNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const notificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const apiNode = require('../../dist/nodes/printfactory-api/printfactory-api.js');
const { PRINTFACTORY_EXAMPLES, FLOOR_DEVICE_GUIDS } = require('../../dist/simulators/printfactory');
const { startPrintFactoryRig, stopPrintFactoryRig } = require('../lib/printfactory-helper');
const { waitFor } = require('../lib/wait');
const spies = require('../lib/helper-spies');

const catchNode = require(require.resolve('@node-red/nodes/core/common/25-catch.js', { paths: [path.dirname(require.resolve('node-red'))] }));

helper.init(require.resolve('node-red'));

const MIS_KEY = 'api-test-key-41d7c2';
const STATUS = 'printfactory-api.status.';

function flow(sim, apiProps = {}, extra = []) {
    const nodes = [
        { id: 'api', type: 'printfactory-api', account: 'cfg', action: 'job', wires: [['out']], ...apiProps },
        { id: 'out', type: 'helper' },
        { id: 'catch', type: 'catch', scope: ['api'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
        ...extra
    ];
    // On a tab with x/y, as the editor saves them: only such nodes are flow nodes (Catch nodes see their errors).
    return [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'cfg', type: 'printfactory-config', name: 'acct', url: sim.url, apiUrl: sim.apiUrl, pingInterval: 5, reconnectMin: 0.05, reconnectMax: 0.2 },
        ...nodes.map((n, i) => ({ z: 'tab', x: 100 + 100 * i, y: 100, ...n }))
    ];
}

const collect = (id) => spies.collect(helper, id);
const statuses = (id) => spies.statuses(helper, id);

function logText() {
    return helper.log().getCalls().map((c) => JSON.stringify(c.args[0])).join('\n');
}

/** Status-API calls the simulator got for job GUIDs (not the list, not devices). */
function jobCalls(sim) { return sim.api.requests.filter((r) => /^\/api\/v2\/job\/[^/]+\/status$/.test(r.path)).length; }

describe('printfactory-api against the simulator', function () {
    this.timeout(15000);
    let sim;

    beforeEach(async function () { sim = await startPrintFactoryRig(helper, [MIS_KEY]); });
    afterEach(() => stopPrintFactoryRig(helper, sim));

    async function load(apiProps, extra, misKey = MIS_KEY) {
        await helper.load([configNode, notificationNode, apiNode, catchNode], flow(sim, apiProps, extra), { cfg: { misKey } });
        return { out: collect('out'), caught: collect('caught') };
    }

    it('notification -> api (job): a bare JobGUID becomes the job with its name and device; the msg keeps its other properties', async function () {
        const job = sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[1] });
        const { out } = await load({}, [{ id: 'pf', type: 'printfactory-notification', account: 'cfg', events: [], wires: [['api']] }]);
        await waitFor(() => sim.connectionCount === 1, 'the socket');
        sim.broadcast({ ...PRINTFACTORY_EXAMPLES.jobUpdated, JobGUID: job.JobGUID });
        await waitFor(() => out.length === 1, 'the answer');
        const msg = out[0];
        assert.strictEqual(msg.statusCode, 200);
        assert.strictEqual(msg.payload.Info.Job, job.JobName);
        assert.strictEqual(msg.payload.Info.DeviceName, 'Epson SureColor S80600');
        assert.strictEqual(msg.payload.Info.DeviceGUID, FLOOR_DEVICE_GUIDS[1]);
        assert.strictEqual(msg.payload.Info.Status, 'Waiting');
        assert.strictEqual(msg.jobGuid, job.JobGUID, 'kept from the notification');
        assert.strictEqual(msg.event, 'job.updated');
        assert.strictEqual(msg.topic, 'job.updated');
        assert.ok(msg.receivedAt);
        const last = statuses('api').pop();
        assert.deepStrictEqual([last.fill, last.shape, last.text], ['green', 'dot', STATUS + 'ok']);
        assert.ok(!JSON.stringify(msg).includes(MIS_KEY) && !logText().includes(MIS_KEY), 'the MisKey is in no msg and no log');
    });

    it('a burst of 200 job.updated notifications for 10 jobs makes at most 10 calls; no msg is lost and each gets its own job', async function () {
        sim.api.latencyMs = 20;
        const jobs = Array.from({ length: 10 }, () => sim.floor.createJob());
        const { out, caught } = await load({}, [{ id: 'pf', type: 'printfactory-notification', account: 'cfg', events: [], wires: [['api']] }]);
        await waitFor(() => sim.connectionCount === 1, 'the socket');
        for (let i = 0; i < 200; i++) { sim.broadcast({ JobGUID: jobs[i % 10].JobGUID }); }
        await waitFor(() => out.length + caught.length === 200, '200 answers', 10000);
        assert.strictEqual(caught.length, 0);
        assert.ok(jobCalls(sim) <= 10, `REST calls: ${jobCalls(sim)}`);
        assert.ok(sim.api.peakInFlight <= 4, `at most 4 at once (${sim.api.peakInFlight})`);
        for (const msg of out) { assert.strictEqual(msg.payload.Info.Job, sim.floor.job(msg.jobGuid).JobName); }
    });

    it('a repeat within cacheSeconds is served from the cache; with cacheSeconds 0 it is asked again', async function () {
        const job = sim.floor.createJob();
        let loaded = await load({ cacheSeconds: 30 });
        helper.getNode('api').receive({ jobGuid: job.JobGUID });
        await waitFor(() => loaded.out.length === 1, 'first answer');
        helper.getNode('api').receive({ payload: { JobGUID: job.JobGUID } });
        await waitFor(() => loaded.out.length === 2, 'second answer');
        assert.strictEqual(jobCalls(sim), 1, 'the second came from the cache');
        assert.strictEqual(loaded.out[1].payload.Info.Job, job.JobName, 'GUID from msg.payload.JobGUID');

        await helper.unload();
        loaded = await load({ cacheSeconds: 0 });
        helper.getNode('api').receive({ jobGuid: job.JobGUID });
        await waitFor(() => loaded.out.length === 1, 'first answer without cache');
        helper.getNode('api').receive({ jobGuid: job.JobGUID });
        await waitFor(() => loaded.out.length === 2, 'second answer without cache');
        assert.strictEqual(jobCalls(sim), 3);
    });

    it('an unknown JobGUID reaches the Catch node with msg.statusCode 404 and the vendor\'s Message; the node keeps working', async function () {
        const { out, caught } = await load();
        helper.getNode('api').receive({ jobGuid: '00000000-0000-4000-8000-000000000000', payload: { JobGUID: 'x' }, statusCode: 200 });
        await waitFor(() => caught.length === 1, 'the caught msg');
        assert.strictEqual(caught[0].statusCode, 404);
        assert.match(caught[0].error.message, /JobGUID is not found$/);
        assert.deepStrictEqual(caught[0].payload, { JobGUID: 'x' }, 'payload unchanged for the Catch flow');
        assert.strictEqual(out.length, 0);
        const last = statuses('api').pop();
        assert.deepStrictEqual([last.fill, last.text], ['red', STATUS + 'httpError']);
        const job = sim.floor.createJob();
        helper.getNode('api').receive({ jobGuid: job.JobGUID });
        await waitFor(() => out.length === 1, 'the next msg answered');
    });

    it('a wrong MisKey gives 401 Invalid MisKey at the Catch node and a red status; the key is logged nowhere', async function () {
        const wrong = 'wrong-key-9f8e7d6c';
        const { caught } = await load({}, [], wrong);
        const job = sim.floor.createJob();
        helper.getNode('api').receive({ jobGuid: job.JobGUID });
        await waitFor(() => caught.length === 1, 'the caught msg');
        assert.strictEqual(caught[0].statusCode, 401);
        assert.match(caught[0].error.message, /Invalid MisKey/);
        const last = statuses('api').pop();
        assert.deepStrictEqual([last.fill, last.shape, last.text], ['red', 'ring', STATUS + 'authFailed']);
        assert.strictEqual(sim.api.requests[0].misKey, 'invalid');
        assert.ok(!JSON.stringify(caught[0]).includes(wrong) && !logText().includes(wrong));
    });

    it('a msg without GUID is a catchable error and sends nothing to PrintFactory; an unknown msg.action too', async function () {
        const { caught } = await load();
        helper.getNode('api').receive({ payload: 'no guid here', statusCode: 200 });
        helper.getNode('api').receive({ action: 'device', payload: {} });
        helper.getNode('api').receive({ action: 'delete', jobGuid: 'abc' });
        await waitFor(() => caught.length === 3, 'three caught msgs');
        assert.deepStrictEqual(caught.map((m) => m.error.message), [
            'Error: printfactory-api.errors.noJobGuid', 'Error: printfactory-api.errors.noDeviceGuid', 'Error: printfactory-api.errors.badAction'
        ]);
        assert.ok(!('statusCode' in caught[0]), 'a stale statusCode is removed');
        assert.strictEqual(sim.api.requests.length, 0);
    });

    it('msg.action picks device, queues and jobs; a device answer wrapped in an array is unwrapped', async function () {
        const active = sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[0] });
        sim.floor.setJobStatus(active.JobGUID, 'InProgress');
        const done = sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[0] });
        sim.floor.setJobStatus(done.JobGUID, 'Completed');
        const { out } = await load({ action: 'jobs', statusList: ['InProgress', 'Waiting'] });
        const api = helper.getNode('api');
        api.receive({ payload: 'tick' });
        await waitFor(() => out.length === 1, 'job list with the node filter');
        assert.deepStrictEqual(out[0].payload.map((j) => j.JobGUID), [active.JobGUID]);
        assert.strictEqual(out[0].payload[0].Device, 'Durst P5 250 HS');

        api.receive({ payload: { StatusList: ['Completed'], DeviceGUID: FLOOR_DEVICE_GUIDS[0], Unrelated: 1 } });
        await waitFor(() => out.length === 2, 'job list with the msg filter');
        assert.deepStrictEqual(out[1].payload.map((j) => j.JobGUID), [done.JobGUID]);

        sim.api.deviceAnswerAsArray = true;
        api.receive({ action: 'device', deviceGuid: FLOOR_DEVICE_GUIDS[0] });
        await waitFor(() => out.length === 3, 'device status');
        assert.strictEqual(out[2].payload.DeviceName, 'Durst P5 250 HS');
        assert.strictEqual(out[2].payload.CurrentJob.JobGUID, active.JobGUID);

        api.receive({ action: 'queues', payload: { DeviceGUID: FLOOR_DEVICE_GUIDS[2] } });
        await waitFor(() => out.length === 4, 'device queues');
        assert.deepStrictEqual(out[3].payload.map((q) => q.QueueName), ['Vinyl', 'Contour cut']);
        const listBodies = sim.api.requests.filter((r) => r.path === '/api/v2/job/list');
        assert.strictEqual(listBodies.length, 2);
    });

    it('beyond concurrency + queue size a request fails at once with a catchable error; the others are answered', async function () {
        sim.api.latencyMs = 300;
        const jobs = Array.from({ length: 5 }, () => sim.floor.createJob());
        const { out, caught } = await load({ concurrency: 1, queueSize: 2 });
        for (const job of jobs) { helper.getNode('api').receive({ jobGuid: job.JobGUID }); }
        await waitFor(() => caught.length === 2, 'two refusals');
        assert.match(caught[0].error.message, /too many requests waiting/);
        assert.ok(!('statusCode' in caught[0]));
        await waitFor(() => out.length === 3, 'the three accepted answered', 5000);
        assert.strictEqual(sim.api.peakInFlight, 1);
        assert.deepStrictEqual(out.map((m) => m.jobGuid), jobs.slice(0, 3).map((j) => j.JobGUID));
    });

    it('a 429 with Retry-After is waited for (yellow status) and then answered', async function () {
        const job = sim.floor.createJob();
        sim.api.injectFailures(1, { status: 429, retryAfter: '1' });
        const { out, caught } = await load();
        const started = Date.now();
        helper.getNode('api').receive({ jobGuid: job.JobGUID });
        await waitFor(() => out.length === 1, 'the answer after the wait');
        // The wait is the behaviour under test: Retry-After: 1 means no second call before a second has passed.
        assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
        assert.strictEqual(caught.length, 0);
        assert.strictEqual(jobCalls(sim), 2);
        assert.ok(statuses('api').some((s) => s.fill === 'yellow' && s.text === STATUS + 'retrying'));
    });

    it('an answer that is not JSON and a timeout reach the Catch node (statusCode only where an answer came)', async function () {
        const { caught } = await load({ timeout: 0.3 });
        sim.api.injectFailures(1, { status: 502, body: '<html><body>Bad Gateway</body></html>' });
        helper.getNode('api').receive({ jobGuid: sim.floor.createJob().JobGUID });
        await waitFor(() => caught.length === 1, 'the non-JSON failure');
        assert.strictEqual(caught[0].statusCode, 502);
        assert.match(caught[0].error.message, /not JSON/);
        sim.api.latencyMs = 1000;
        helper.getNode('api').receive({ jobGuid: sim.floor.createJob().JobGUID, statusCode: 200 });
        await waitFor(() => caught.length === 2, 'the timeout');
        assert.match(caught[1].error.message, /timed out/);
        assert.ok(!('statusCode' in caught[1]));
        // Statuses are throttled (one per 500 ms): the last one arrives after the interval.
        await waitFor(() => statuses('api').pop().text === STATUS + 'timeout', 'the timeout status');
    });

    it('a 200 answer that is not JSON is an error too', async function () {
        const { caught, out } = await load();
        sim.api.injectFailures(1, { status: 200, body: 'OK', contentType: 'text/plain' });
        helper.getNode('api').receive({ jobGuid: sim.floor.createJob().JobGUID });
        await waitFor(() => caught.length === 1, 'the failure');
        assert.strictEqual(caught[0].statusCode, 200);
        assert.strictEqual(out.length, 0);
        assert.strictEqual(statuses('api').pop().text, STATUS + 'notJson');
    });

    it('without a MisKey the node says so and every msg is a catchable error; a redeploy mid-request sends nothing and leaks nothing', async function () {
        let loaded = await load({}, [], '');
        assert.strictEqual(statuses('api').pop().text, STATUS + 'noMisKey');
        helper.getNode('api').receive({ jobGuid: 'abc' });
        await waitFor(() => loaded.caught.length === 1, 'the caught msg');
        assert.strictEqual(loaded.caught[0].error.message, 'Error: printfactory-api.errors.noMisKey');
        await helper.unload();

        sim.api.latencyMs = 500;
        loaded = await load();
        helper.getNode('api').receive({ jobGuid: sim.floor.createJob().JobGUID });
        await waitFor(() => sim.api.inFlight === 1, 'the call under way');
        await helper.unload();
        await waitFor(() => sim.api.inFlight === 0, 'the call aborted by close');
        assert.strictEqual(loaded.out.length + loaded.caught.length, 0);
    });
});
