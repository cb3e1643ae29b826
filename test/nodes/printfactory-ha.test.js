'use strict';
// printfactory-config's `haBroker` in the test helper: the config node asks the HA lease (lib/printfactory/lease.ts)
// whether to connect, on a real core mqtt-broker config node and a real broker (Aedes on loopback). The other
// participant is a lease in this test process, standing for another Node-RED instance. What two real processes
// do is test/runtime/ha-lease-aedes.test.js, ha-lease-mosquitto.test.js.
const assert = require('assert');
const net = require('net');
const helper = require('node-red-node-test-helper');
const mqttNode = require('@node-red/nodes/core/network/10-mqtt.js');
const configNode = require('../../dist/nodes/printfactory-config/printfactory-config.js');
const notificationNode = require('../../dist/nodes/printfactory-notification/printfactory-notification.js');
const { PrintFactoryLease, leaseTopicBase, LEASE_TOPIC_PREFIX } = require('../../dist/nodes/lib/printfactory/lease');
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');
const demo = require('../../dist/harness/demo/services');
const { waitFor } = require('../lib/wait');
const { failureOf } = require('../lib/admin-answer');
const spies = require('../lib/helper-spies');

helper.init(require.resolve('node-red'));

const MIS_KEY = 'ha-helper-key-77e2';
const TAB = { id: 'tab', type: 'tab', label: 'test' };
const CREDS = { cfg: { misKey: MIS_KEY } };
const STATUS = (key) => `printfactory-notification.status.${key}`;
const quiet = { log() {}, warn() {} };

describe('printfactory-config with an HA broker (haBroker)', function () {
    this.timeout(15000);
    let sim;
    let broker;
    const published = [];
    const others = [];

    const flow = (brokerPort, extra = {}) => [TAB,
        { id: 'mb', type: 'mqtt-broker', name: 'site', broker: '127.0.0.1', port: String(brokerPort), clientid: '', autoConnect: true,
            usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
        { id: 'cfg', type: 'printfactory-config', name: 'account', url: sim.url, haBroker: 'mb', haTakeover: '2', reconnectMin: 0.05, reconnectMax: 0.2, ...extra },
        { id: 'pf', type: 'printfactory-notification', z: 'tab', account: 'cfg', events: [], connectionEvents: true, wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' }];

    const collect = () => spies.collect(helper, 'out');
    const statuses = () => spies.statuses(helper, 'pf');
    /** Another instance's participant, in this process. */
    function other(name) {
        const lease = new PrintFactoryLease({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, misKey: MIS_KEY, takeoverMs: 2000, name, logger: quiet });
        lease.decisions = [];
        lease.join((d) => lease.decisions.push(d));
        others.push(lease);
        return lease;
    }
    const clientIds = () => Object.values(broker.aedes.clients).map((c) => c.id);

    beforeEach(async function () {
        await helper.startServer();
        sim = new PrintFactorySimulator({ misKeys: [MIS_KEY], secondConnection: 'lastWins' });
        await sim.start();
        broker = await demo.startMqttBroker({ port: 0 });
        published.length = 0;
        broker.aedes.on('publish', (packet, client) => {
            if (client) { published.push({ at: Date.now(), topic: packet.topic, payload: packet.payload.toString('utf8'), retain: packet.retain }); }
        });
    });

    afterEach(async function () {
        await helper.unload();
        for (const lease of others.splice(0)) { await lease.leave(); }
        await sim.stop();
        await broker.stop();
        await helper.stopServer();
    });

    it('alone: holds the lease and connects; connection.up says the holder changed; the broker never sees the MisKey', async function () {
        await helper.load([mqttNode, configNode, notificationNode], flow(broker.port), CREDS);
        const msgs = collect();
        await waitFor(() => sim.connectionCount === 1, 'the PrintFactory connection', 5000);
        await waitFor(() => msgs.some((m) => m.topic === 'connection.up'), 'connection.up', 5000);
        const up = msgs.find((m) => m.topic === 'connection.up');
        assert.strictEqual(up.payload.holderChanged, true);
        assert.strictEqual(up.payload.previousHolder, null, 'nobody held it before');
        const records = published.filter((p) => p.topic === leaseTopicBase(MIS_KEY) + '/holder');
        assert.ok(records.length >= 1 && records.every((r) => r.retain), 'a retained holder record');
        assert.ok(published.every((p) => p.topic.startsWith(LEASE_TOPIC_PREFIX)), 'only lease topics');
        assert.ok(published.every((p) => !p.topic.includes(MIS_KEY) && !p.payload.includes(MIS_KEY)), 'no MisKey on the broker');
        // The lease has a client of its own; the core broker node, with no mqtt in/out using it, opened none.
        assert.deepStrictEqual(clientIds().map((id) => id.replace(/[0-9a-f]{16}$/, '<id>')), ['print-events-lease-<id>']);
    });

    it('another instance holds: grey standby naming it, connection.down "standby", no PrintFactory connection; it leaves: this one takes over', async function () {
        const elsewhere = other('other-instance');
        await waitFor(() => elsewhere.decisions.some((d) => d.hold), 'the other instance holding', 5000);
        await helper.load([mqttNode, configNode, notificationNode], flow(broker.port), CREDS);
        const msgs = collect();
        await waitFor(() => statuses().some((s) => s.text === STATUS('standby')), 'the standby status', 5000);
        const standby = statuses().find((s) => s.text === STATUS('standby'));
        assert.deepStrictEqual({ fill: standby.fill, shape: standby.shape }, { fill: 'grey', shape: 'ring' });
        await waitFor(() => msgs.some((m) => m.topic === 'connection.down'), 'connection.down', 5000);
        const down = msgs.find((m) => m.topic === 'connection.down');
        assert.strictEqual(down.payload.reason, 'standby');
        assert.match(down.payload.detail, /other-instance/);
        // "Test connection" on a standby would open a second connection for the organisation: it is skipped.
        const test = await helper.request().post('/print-events/printfactory/test').send({ id: 'cfg', url: sim.url, misKey: MIS_KEY });
        assert.deepStrictEqual(failureOf(test), { status: 409, ok: false, code: 'standby', error: 'string', vars: { holder: 'other-instance' } });
        assert.strictEqual(sim.connectionCount, 0);
        assert.strictEqual(sim.peakConnections, 0, 'neither the standby nor its test button opened a PrintFactory connection');

        await elsewhere.leave();
        await waitFor(() => sim.connectionCount === 1, 'this instance connecting after the other left', 5000);
        await waitFor(() => msgs.some((m) => m.topic === 'connection.up'), 'connection.up', 5000);
        const up = msgs.find((m) => m.topic === 'connection.up');
        assert.strictEqual(up.payload.holderChanged, true);
        assert.strictEqual(up.payload.previousHolder, 'other-instance');
        assert.strictEqual(sim.displacements, 0);
    });

    it('a stop closes the PrintFactory connection before it releases the lease, and leaves no lease client behind', async function () {
        await helper.load([mqttNode, configNode, notificationNode], flow(broker.port), CREDS);
        await waitFor(() => sim.connectionCount === 1, 'the PrintFactory connection', 5000);
        const waiting = other('waiting-instance');
        await waitFor(() => waiting.decisions.some((d) => d.why === 'held'), 'the other instance standing by', 5000);
        let closedAt = null;
        sim.once('disconnection', () => { closedAt = Date.now(); });
        await helper.unload();
        const release = published.find((p) => p.topic.endsWith('/holder') && JSON.parse(p.payload).id === null);
        assert.ok(release, 'a release record');
        assert.ok(closedAt !== null && closedAt <= release.at, 'the socket closed before the release');
        await waitFor(() => waiting.decisions.some((d) => d.hold), 'the other instance taking over at once', 1500);
        await waitFor(() => !clientIds().some((id) => id.startsWith('print-events-lease-') && id !== `print-events-lease-${waiting.id}`),
            'the node\'s lease client gone from the broker', 3000);
    });

    it('fails closed: an haBroker that is not deployed is an error, a broker out of reach a standby; no PrintFactory connection', async function () {
        await helper.load([mqttNode, configNode, notificationNode], flow(broker.port, { haBroker: 'missing' }), CREDS);
        await waitFor(() => statuses().some((s) => s.text === STATUS('error')), 'the error status', 5000);
        assert.strictEqual(statuses().find((s) => s.text === STATUS('error')).fill, 'red');
        await helper.unload();

        const closed = net.createServer();
        await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
        const deadPort = closed.address().port;
        await new Promise((resolve) => closed.close(resolve));
        await helper.load([mqttNode, configNode, notificationNode], flow(deadPort), CREDS);
        await waitFor(() => statuses().some((s) => s.text === STATUS('standbyBrokerDown')), 'standby: HA broker unreachable', 5000);
        assert.strictEqual(sim.peakConnections, 0);
    });
});
