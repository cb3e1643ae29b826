'use strict';
// The HA lease suite, one describe per broker (test/runtime/ha-lease-aedes.test.js, ha-lease-mosquitto.test.js: two
// files so that a parallel run works on them at once; the Aedes one holds the 3-minute window).
// Two real Node-RED processes with the same MisKey and `haBroker` (docs/several-instances.md), a real broker (Aedes,
// and Debian's Mosquitto when installed) and a PrintFactory simulator that closes the older connection when a new
// one opens ('lastWins', what made a pair flap without end before the lease):
//  - exactly one holds, the other stands by naming it; no displacement during the observation window; every event
//    is delivered once by the pair;
//  - the broker restarted: never two PrintFactory connections for longer than haTakeover (the simulator then keeps
//    both open, 'split', so an overlap is measured instead of being cut short), and one holder afterwards;
//  - the holder killed with SIGKILL: the standby connects within haTakeover and says that the holder changed.
const assert = require('assert');
const os = require('os');
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');
const demo = require('../../dist/harness/demo/services');
const { startStockNodeRed } = require('./stock-node-red');
const { startMosquitto, mosquittoMissing } = require('./mosquitto');
const { waitFor: waitUntil, sleep } = require('./wait');

const MIS_KEY = 'ha-lease-runtime-key-4f1c';
// 8 s, not the 2 s minimum: a holder steps down 2T/5 after its last acknowledged renewal, as designed, and on a loaded
// 2-core CI machine (the other leg's browser suite beside this one) the broker in this process and the holder were
// once starved for more than the 1.2 s that T = 3 s allowed: a safe step-down, but a lost event in this window.
const TAKEOVER_S = 8;
const TAKEOVER_MS = TAKEOVER_S * 1000;
// The issue asks for 0 displacements in 3 minutes, and this is that window (a duration under test): 112 renewals
// (every T/5 = 1.6 s here) and 22 takeover periods, where the pair without the lease was displaced every 4-5 s.
// PRINT_EVENTS_HA_OBSERVE_S shortens it for a quick local run.
const OBSERVE_MS = Number(process.env.PRINT_EVENTS_HA_OBSERVE_S || 180) * 1000;

/** Aedes behind the same interface as test/lib/mosquitto.js: stop and start again on the same port (retained lost). */
async function startAedes() {
    let broker = await demo.startMqttBroker({ port: 0 });
    const port = broker.port;
    return {
        port,
        stopBroker: async () => { if (broker) { await broker.stop(); broker = null; } },
        startBroker: async () => { broker = await demo.startMqttBroker({ port }); },
        stop: async () => { if (broker) { await broker.stop(); broker = null; } }
    };
}

/** The brokers the suite runs on: { name, start(), observeMs, missing() -> reason to skip or null }. */
const BROKERS = {
    aedes: { name: 'Aedes', start: startAedes, observeMs: OBSERVE_MS, missing: () => null },
    // The long window once is enough; Mosquitto gets a shorter one (still 18 renewals).
    mosquitto: { name: 'Mosquitto', start: () => startMosquitto(), observeMs: 30000, missing: mosquittoMissing }
};

function describeHaLease(kind) {
    describe(`HA lease: two Node-RED processes, one PrintFactory connection, on ${kind.name}`, function () {
        this.timeout(60000);
        let broker;
        let sim;
        const instances = [];
        // Simulator connection log: every open and close with its time, and the displacements.
        const simLog = [];
        const waitFor = (predicate, what, timeoutMs = 20000) => waitUntil(predicate, what, timeoutMs, { intervalMs: 25 });

        function flows(brokerPort) {
            return {
                flows: [
                    { id: 'tab', type: 'tab', label: 'ha' },
                    { id: 'mb', type: 'mqtt-broker', name: 'site broker', broker: '127.0.0.1', port: String(brokerPort), clientid: '',
                        autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
                    { id: 'pfc', type: 'printfactory-config', name: 'pf', url: sim.url, haBroker: 'mb', haTakeover: String(TAKEOVER_S),
                        reconnectMin: 0.05, reconnectMax: 0.5 },
                    { id: 'pfn', type: 'printfactory-notification', z: 'tab', account: 'pfc', events: [], connectionEvents: true, x: 100, y: 100, wires: [['rec']] },
                    { id: 'rec', type: 'test-recorder', z: 'tab', x: 300, y: 100, wires: [] }
                ],
                credentials: { pfc: { misKey: MIS_KEY } }
            };
        }
        async function startInstance() {
            const instance = await startStockNodeRed(flows(broker.port));
            instance.name = `${os.hostname()}/${instance.child.pid}`;
            instances.push(instance);
            return instance;
        }
        const lastStatus = async (instance) => {
            const { statuses } = await instance.state();
            const mine = statuses.filter((s) => s.id === 'pfn');
            return mine.length ? mine[mine.length - 1].status : {};
        };
        const recorded = async (instance) => (await instance.state()).msgs.filter((m) => m.node === 'rec').map((m) => m.msg);
        const openCount = () => sim.connectionCount;
        /** The longest time during which two PrintFactory connections were open at once, from the simulator's log. */
        function longestOverlap(since) {
            let open = 0;
            let from = null;
            let worst = 0;
            for (const e of simLog) {
                open += e.type === 'open' ? 1 : -1;
                if (open >= 2 && from === null) { from = e.at; }
                if (open < 2 && from !== null) { if (e.at >= since) { worst = Math.max(worst, e.at - Math.max(from, since)); } from = null; }
            }
            if (from !== null) { worst = Math.max(worst, Date.now() - Math.max(from, since)); }
            return worst;
        }
        async function holderAndStandby() {
            await waitFor(() => openCount() === 1, 'one PrintFactory connection');
            let holder = null;
            await waitFor(async () => {
                const statuses = await Promise.all(instances.filter((i) => i.alive()).map(async (i) => ({ i, s: await lastStatus(i) })));
                const green = statuses.filter((x) => x.s.fill === 'green');
                const grey = statuses.filter((x) => x.s.fill === 'grey');
                if (green.length === 1 && grey.length === statuses.length - 1) { holder = green[0].i; return true; }
                return false;
            }, 'one green holder and grey standbys');
            return { holder, standby: instances.find((i) => i.alive() && i !== holder) };
        }

        before(async function () {
            const missing = kind.missing();
            if (missing) {
                console.log(`      skipped: ${missing}`);
                this.skip();
            }
            broker = await kind.start();
            sim = new PrintFactorySimulator({ misKeys: [MIS_KEY], secondConnection: 'lastWins' });
            await sim.start();
            sim.on('connection', () => simLog.push({ type: 'open', at: Date.now() }));
            sim.on('disconnection', () => simLog.push({ type: 'close', at: Date.now() }));
            await Promise.all([startInstance(), startInstance()]);
        });

        after(async function () {
            for (const i of instances) { await i.stop(); }
            if (sim) { await sim.stop(); }
            if (broker) { await broker.stop(); }
        });

        it(`one holds, the other stands by naming it; no displacement and every event once by the pair (${kind.observeMs / 1000} s)`, async function () {
            this.timeout(kind.observeMs + 60000);
            const { holder, standby } = await holderAndStandby();
            const standbyStatus = await lastStatus(standby);
            assert.strictEqual(standbyStatus.shape, 'ring');
            assert.strictEqual(standbyStatus.text, `standby (holder: ${holder.name})`);
            const displacedBefore = sim.displacements;
            const opensBefore = simLog.filter((e) => e.type === 'open').length;
            // The observation window: its length is the behaviour under test. An event every 250 ms.
            const sent = [];
            const started = Date.now();
            let i = 0;
            while (Date.now() - started < kind.observeMs) {
                const guid = `ha-${kind.name}-${i++}`;
                assert.strictEqual(sim.broadcast({ JobGUID: guid }), 1, `event ${guid} went to exactly one connection`);
                sent.push(guid);
                // a duration: an event every 250 ms through the window.
                await sleep(250);
            }
            assert.strictEqual(sim.displacements - displacedBefore, 0, 'no displacement');
            assert.strictEqual(simLog.filter((e) => e.type === 'open').length, opensBefore, 'no new PrintFactory connection');
            const guids = async () => [...await recorded(holder), ...await recorded(standby)]
                .filter((m) => m.payload && typeof m.payload.JobGUID === 'string' && m.payload.JobGUID.startsWith(`ha-${kind.name}-`))
                .map((m) => m.payload.JobGUID);
            await waitFor(async () => (await guids()).length >= sent.length, 'every event delivered');
            assert.deepStrictEqual((await guids()).sort(), [...sent].sort(), 'every event exactly once by the pair');
            assert.strictEqual((await recorded(standby)).filter((m) => m.payload && m.payload.JobGUID).length, 0, 'the standby received nothing');
        });

        it('the broker restarted: never two PrintFactory connections for longer than haTakeover, one holder afterwards', async function () {
            await holderAndStandby();
            // Keep a second connection open instead of closing the older one, so that an overlap can be measured.
            sim.setSecondConnection('split');
            const since = Date.now();
            await broker.stopBroker();
            // A holder that cannot renew closes its PrintFactory connection within haTakeover.
            await waitFor(() => openCount() === 0, 'the holder letting go while the broker is down', TAKEOVER_MS);
            await sleep(Math.max(0, since + TAKEOVER_MS - Date.now())); // the behaviour under test: an outage as long as haTakeover
            assert.strictEqual(openCount(), 0, 'nobody connects while the lease cannot be read');
            await broker.startBroker();
            const { holder, standby } = await holderAndStandby();
            await sleep(TAKEOVER_MS); // and it stays one holder for another takeover period
            assert.strictEqual(openCount(), 1);
            assert.ok(longestOverlap(since) <= TAKEOVER_MS, `two connections for ${longestOverlap(since)} ms`);
            sim.setSecondConnection('lastWins');
            const guid = `after-restart-${kind.name}`;
            assert.strictEqual(sim.broadcast({ JobGUID: guid }), 1);
            await waitFor(async () => (await recorded(holder)).some((m) => m.payload && m.payload.JobGUID === guid), 'the event at the holder');
            assert.ok(!(await recorded(standby)).some((m) => m.payload && m.payload.JobGUID === guid));
        });

        it('the holder killed with SIGKILL: the standby connects within haTakeover and reports that the holder changed', async function () {
            const { holder, standby } = await holderAndStandby();
            const opensBefore = simLog.filter((e) => e.type === 'open').length;
            const killedAt = Date.now();
            await holder.kill();
            await waitFor(() => simLog.filter((e) => e.type === 'open').length > opensBefore, 'the standby connecting', TAKEOVER_MS * 3);
            const tookMs = simLog.filter((e) => e.type === 'open')[opensBefore].at - killedAt;
            assert.ok(tookMs <= TAKEOVER_MS, `connected ${tookMs} ms after the kill (haTakeover ${TAKEOVER_MS} ms)`);
            await waitFor(async () => (await lastStatus(standby)).fill === 'green', 'the standby green');
            const ups = (await recorded(standby)).filter((m) => m.topic === 'connection.up');
            const last = ups[ups.length - 1];
            assert.strictEqual(last.payload.holderChanged, true);
            assert.strictEqual(last.payload.previousHolder, holder.name);
            const guid = `after-kill-${kind.name}`;
            assert.strictEqual(sim.broadcast({ JobGUID: guid }), 1);
            await waitFor(async () => (await recorded(standby)).some((m) => m.payload && m.payload.JobGUID === guid), 'the event at the new holder');
        });
    });
}

module.exports = { BROKERS, describeHaLease };
