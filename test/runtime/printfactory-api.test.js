'use strict';
// printfactory-api in a real Node-RED process wired like red.js (stock layout), against the PrintFactory simulator
// and its REST API: notification -> api resolves a JobGUID to the job's name and device, a burst of 200
// notifications for 10 jobs makes at most 10-20 REST calls, an unknown GUID reaches a Catch node with 404, a wrong
// MisKey gives 401 and a red status; and example 07 after a simulated outage emits the current state of every
// active job and known device.
const assert = require('assert');
const path = require('path');
const { PrintFactorySimulator, FLOOR_DEVICE_GUIDS, ACTIVE_JOB_STATUSES } = require('../../dist/simulators/printfactory');
const demo = { ...require('../../dist/harness/demo/flows'), ...require('../../dist/harness/demo/services') };
const { startWithNodeCredentials } = require('../lib/stock-node-red');
const { sleep, waitFor: waitUntil } = require('../lib/wait');
const waitFor = (predicate, what, timeoutMs = 20000) => waitUntil(predicate, what, timeoutMs, { intervalMs: 50 });

const MIS_KEY = 'runtime-api-key-6b2a91';
const WRONG_KEY = 'runtime-wrong-key-0c3d';
const RESYNC_EXAMPLE = path.join(__dirname, '..', '..', 'examples', '07-printfactory-resync-after-gap.json');

/** A Node-RED process running `flows`; `credentials` on nodes go to its flows_cred.json as Node-RED stores them. */
const startNodeRed = (flows) => startWithNodeCredentials(flows);

const jobCalls = (sim) => sim.api.requests.filter((r) => /^\/api\/v2\/job\/[^/]+\/status$/.test(r.path)).length;

describe('printfactory-api in a real Node-RED process', function () {
    this.timeout(60000);
    let sim;
    let red;

    beforeEach(async function () {
        sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [MIS_KEY, demo.DEMO_MIS_KEY] });
        await sim.start();
    });

    afterEach(async function () {
        if (red) { await red.stop(); red = null; }
        await sim.stop();
    });

    it('resolves notifications to jobs, shares a burst\'s calls, and reports 404 and 401 to Catch nodes', async function () {
        const node = (n, i) => ({ z: 'tab', x: 150 + 200 * (i % 4), y: 80 + 60 * Math.floor(i / 4), ...n });
        const flows = [
            { id: 'tab', type: 'tab', label: 'api' },
            { id: 'acct', type: 'printfactory-config', name: 'sim', url: sim.url, apiUrl: sim.apiUrl, credentials: { misKey: MIS_KEY } },
            { id: 'wrong', type: 'printfactory-config', name: 'wrong key', url: 'ws://127.0.0.1:9', apiUrl: sim.apiUrl, credentials: { misKey: WRONG_KEY } },
            ...[
                { id: 'pf', type: 'printfactory-notification', account: 'acct', events: ['job.updated', 'job.created'], wires: [['api']] },
                { id: 'api', type: 'printfactory-api', account: 'acct', action: 'job', cacheSeconds: 2, concurrency: 4, wires: [['answers']] },
                { id: 'answers', type: 'test-recorder', wires: [] },
                { id: 'bad', type: 'printfactory-api', account: 'wrong', action: 'job', wires: [['answers']] },
                { id: 'ask-bad', type: 'inject', props: [{ p: 'jobGuid', v: 'to-be-set', vt: 'str' }], repeat: '', once: false, topic: '', wires: [['bad']] },
                { id: 'catch', type: 'catch', scope: ['api', 'bad'], uncaught: false, wires: [['caught']] },
                { id: 'caught', type: 'test-recorder', wires: [] }
            ].map(node)
        ];
        const jobs = Array.from({ length: 10 }, (_, i) => sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[i % 3] }));
        // The wrong-key node asks for a job that exists: only the key is wrong.
        flows.find((n) => n.id === 'ask-bad').props[0].v = jobs[0].JobGUID;
        sim.api.latencyMs = 20;
        red = await startNodeRed(flows);
        await waitFor(() => sim.connectionCount === 1, 'the notification socket');

        // One notification: name and device of the job.
        sim.broadcast({ JobGUID: jobs[0].JobGUID });
        const answers = async () => (await red.state()).msgs.filter((m) => m.node === 'answers').map((m) => m.msg);
        await waitFor(async () => (await answers()).length === 1, 'the first answer');
        const [first] = await answers();
        assert.strictEqual(first.payload.Info.Job, jobs[0].JobName);
        assert.strictEqual(first.payload.Info.DeviceName, sim.floor.device(jobs[0].DeviceGUID).info.DeviceName);
        assert.strictEqual(first.jobGuid, jobs[0].JobGUID);
        assert.strictEqual(first.event, 'job.updated');
        assert.strictEqual(first.statusCode, 200);

        // A burst of 200 notifications for the 10 jobs, after the first answer's cache ran out.
        await sleep(2100); // the 2 s cache window is the behaviour under test
        const callsBefore = jobCalls(sim);
        for (let i = 0; i < 200; i++) { sim.broadcast({ JobGUID: jobs[i % 10].JobGUID }); }
        await waitFor(async () => (await answers()).length === 201, '200 more answers');
        const burstCalls = jobCalls(sim) - callsBefore;
        assert.ok(burstCalls >= 10 && burstCalls <= 20, `REST calls for the burst: ${burstCalls}`);
        assert.ok(sim.api.peakInFlight <= 4, `concurrency ${sim.api.peakInFlight}`);
        for (const msg of (await answers()).slice(1)) { assert.strictEqual(msg.payload.Info.Job, sim.floor.job(msg.jobGuid).JobName); }

        // An unknown GUID: the Catch node with 404.
        sim.broadcast({ JobGUID: '00000000-0000-4000-8000-00000000dead' });
        const caught = async () => (await red.state()).msgs.filter((m) => m.node === 'caught').map((m) => m.msg);
        await waitFor(async () => (await caught()).length === 1, 'the 404 at the Catch node');
        assert.strictEqual((await caught())[0].statusCode, 404);
        assert.match((await caught())[0].error.message, /JobGUID is not found/);

        // A wrong MisKey: 401 at the Catch node and a red status on that node.
        const res = await fetch(`${red.baseUrl}/inject/ask-bad`, { method: 'POST' });
        assert.strictEqual(res.status, 200);
        await waitFor(async () => (await caught()).length === 2, 'the 401 at the Catch node');
        const refused = (await caught())[1];
        assert.strictEqual(refused.statusCode, 401);
        assert.match(refused.error.message, /Invalid MisKey/);
        const state = await red.state();
        const badStatus = state.statuses.filter((s) => s.id === 'bad').pop();
        assert.strictEqual(badStatus.status.fill, 'red');
        assert.match(badStatus.status.text, /401/);
        const everything = JSON.stringify(state) + red.output();
        assert.ok(!everything.includes(MIS_KEY) && !everything.includes(WRONG_KEY), 'no MisKey in msgs, statuses or logs');
    });

    it('example 07 after a simulated outage emits the current state of every active job and known device', async function () {
        const broker = await demo.startMqttBroker({ port: 0 });
        try {
            const { flows } = demo.mergeExamples([RESYNC_EXAMPLE]);
            demo.pointAtSimulators(flows, { pfUrl: sim.url, durstUrl: 'http://127.0.0.1:9', callbackBase: 'http://127.0.0.1:9', mqttPort: broker.port });
            for (const n of flows.filter((x) => x.type === 'printfactory-config')) { Object.assign(n, { reconnectMin: 0.05, reconnectMax: 0.3, handshakeTimeout: 1 }); }
            // The example's debug nodes become recorders, so the test reads what reached them.
            for (const n of flows.filter((x) => x.type === 'debug')) { n.type = 'test-recorder'; }
            const idOf = (name) => flows.find((n) => n.name === name && n.type === 'test-recorder').id;
            red = await startNodeRed(flows);
            await waitFor(() => sim.connectionCount === 1, 'the notification socket');

            // The flow hears of two devices before the outage.
            sim.broadcast(sim.floor.nextDeviceStatus());
            sim.broadcast(sim.floor.nextDeviceStatus());
            const before = sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[0] });
            sim.broadcast({ JobGUID: before.JobGUID, Status: 'Created' });
            const remember = flows.find((n) => n.name === 'remember devices').id;
            await waitFor(async () => (await red.state()).statuses.some((s) => s.id === remember && /^2 devices/.test(s.status.text)),
                'the flow to know two devices');

            // The outage: no handshake completes while the floor moves on; every change here is a lost notification.
            sim.setHangHandshake(true);
            sim.dropAll();
            sim.floor.setJobStatus(before.JobGUID, 'InProgress');
            const during = [
                sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[2] }),
                sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[1] }),
                sim.floor.createJob({ DeviceGUID: FLOOR_DEVICE_GUIDS[1] })
            ];
            sim.floor.setJobStatus(during[1].JobGUID, 'Error');
            sim.floor.setJobStatus(during[2].JobGUID, 'Completed');
            sim.setHangHandshake(false);

            const recorded = async (name) => (await red.state()).msgs.filter((m) => m.node === idOf(name)).map((m) => m.msg);
            const active = sim.floor.jobs().filter((j) => ACTIVE_JOB_STATUSES.includes(j.Status));
            await waitFor(async () => (await recorded('current job state')).length === active.length, `${active.length} job states`);
            const jobStates = await recorded('current job state');
            assert.deepStrictEqual(jobStates.map((m) => [m.payload.JobGUID, m.payload.Status, m.payload.JobName, m.payload.Device]).sort(),
                active.map((j) => [j.JobGUID, j.Status, j.JobName, sim.floor.device(j.DeviceGUID).info.DeviceName]).sort());
            assert.ok(jobStates.every((m) => m.topic === 'job.resync' && m.resync.downtimeMs >= 0));
            assert.ok(!jobStates.some((m) => m.payload.JobGUID === during[2].JobGUID), 'a job finished during the gap is not active');

            // Devices: the two heard of plus the third, which an active job names.
            await waitFor(async () => (await recorded('current device state')).length === 3, 'three device states');
            const deviceStates = await recorded('current device state');
            assert.deepStrictEqual(deviceStates.map((m) => m.payload.DeviceGUID).sort(), [...FLOOR_DEVICE_GUIDS].sort());
            for (const m of deviceStates) {
                const { device, info } = sim.floor.device(m.payload.DeviceGUID);
                assert.deepStrictEqual([m.payload.DeviceName, m.payload.DeviceStatus], [info.DeviceName, device.Status]);
            }
            assert.deepStrictEqual(await recorded('re-sync errors'), []);
        } finally {
            await broker.stop();
        }
    });
});
