'use strict';
// The scale-out path of docs/several-instances.md ("Several Node-RED instances"), with real processes: one Node-RED
// holds the organisation's single PrintFactory connection and publishes every event to a real MQTT
// broker (example 05); another Node-RED only subscribes to the broker and must receive every event
// exactly once. Then the holder crashes and a standby with the same flow takes the connection over.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { PrintFactorySimulator, EXAMPLE_NAMES, expectedEvent, freshExample } = require('../../dist/simulators/printfactory');
const demo = { ...require('../../dist/harness/demo/flows'), ...require('../../dist/harness/demo/services') };
const { startWithNodeCredentials } = require('../lib/stock-node-red');
const { waitFor: waitUntil } = require('../lib/wait');
const waitFor = (predicate, what, timeoutMs = 20000) => waitUntil(predicate, what, timeoutMs, { intervalMs: 25 });

const FANOUT_EXAMPLE = path.join(__dirname, '..', '..', 'examples', '05-printfactory-mqtt-fanout.json');
const key = (topic, payload) => `${topic} ${JSON.stringify(payload)}`;

/** A Node-RED process running `flows`; `credentials` on nodes go to its flows_cred.json as Node-RED stores them. */
const startNodeRed = (flows) => startWithNodeCredentials(flows);

describe('scale-out: one Node-RED holds PrintFactory, another consumes through a real MQTT broker', function () {
    this.timeout(60000);
    let broker;
    let pfSim;
    let holder;
    let standby;
    let consumer;
    let linesFile;
    let tmpDir;
    const simEvents = { connections: 0, duplicates: 0 };

    /**
     * Example 05 as a publishing instance runs it: PrintFactory simulator, the broker, quick retries for the
     * failover, and the Last Will of docs/several-instances.md on a topic of the instance's own.
     */
    function holderFlows(instance) {
        const { flows } = demo.mergeExamples([FANOUT_EXAMPLE]);
        demo.pointAtSimulators(flows, { pfUrl: pfSim.url, durstUrl: 'http://127.0.0.1:9', callbackBase: 'http://127.0.0.1:9', mqttPort: broker.port });
        for (const n of flows.filter((x) => x.type === 'printfactory-config')) {
            Object.assign(n, { reconnectMin: 0.05, reconnectMax: 0.5 });
        }
        for (const n of flows.filter((x) => x.type === 'mqtt-broker')) {
            Object.assign(n, { willTopic: `printfactory/instance/${instance}`, willPayload: '{"online":false}', willQos: '1', willRetain: 'true' });
        }
        return flows;
    }

    /** The consumer side of example 05 only (mqtt in printfactory/#), writing each msg as a JSON line. */
    function consumerFlows() {
        const { flows } = demo.mergeExamples([FANOUT_EXAMPLE]);
        demo.pointAtSimulators(flows, { pfUrl: 'ws://127.0.0.1:9', durstUrl: 'http://127.0.0.1:9', callbackBase: 'http://127.0.0.1:9', mqttPort: broker.port });
        const tab = flows.find((n) => n.type === 'tab');
        const mqttIn = flows.find((n) => n.type === 'mqtt in');
        const mqttBroker = flows.find((n) => n.type === 'mqtt-broker');
        return [tab, mqttBroker, { ...mqttIn, wires: [['line']] },
            { id: 'line', type: 'function', z: tab.id, name: 'one JSON line', outputs: 1, x: 400, y: 300, wires: [['file']],
                func: 'msg.payload = JSON.stringify({ topic: msg.topic, payload: msg.payload });\nreturn msg;' },
            { id: 'file', type: 'file', z: tab.id, name: 'received.jsonl', filename: linesFile, filenameType: 'str', appendNewline: true,
                createDir: true, overwriteFile: 'false', encoding: 'utf8', x: 600, y: 300, wires: [[]] }];
    }

    /** What the consumer process wrote so far, as topic+payload keys: events, or (`instances`) the Last Wills. */
    function consumed({ instances = false } = {}) {
        if (!fs.existsSync(linesFile)) { return []; }
        return fs.readFileSync(linesFile, 'utf8').split('\n').filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l))
            .filter((m) => m.topic.startsWith('printfactory/instance/') === instances)
            .map((m) => key(m.topic, m.payload));
    }
    // What the broker saw: PUBLISHes on printfactory/... from clients, and every SUBSCRIBE topic.
    let published = [];
    const subscriptions = [];
    const subscribers = (topic) => subscriptions.filter((t) => t === topic).length;

    /** Sends every documented notification `rounds` times (fresh GUIDs) and a closing marker; returns their keys. */
    function sendBatch(rounds, marker) {
        const sent = [];
        for (let r = 0; r < rounds; r++) {
            for (const name of EXAMPLE_NAMES) {
                const payload = freshExample(name);
                pfSim.broadcast(payload);
                sent.push(key(`printfactory/${expectedEvent[name]}`, payload));
            }
        }
        const last = { JobGUID: marker };
        pfSim.broadcast(last);
        sent.push(key('printfactory/job.updated', last));
        return sent;
    }

    before(async function () {
        tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-scale-out-'));
        linesFile = path.join(tmpDir, 'received.jsonl');
        broker = await demo.startMqttBroker({ port: 0 });
        broker.aedes.on('publish', (packet, client) => {
            if (client && packet.topic.startsWith('printfactory/') && !packet.topic.startsWith('printfactory/instance/')) { published.push(key(packet.topic, JSON.parse(packet.payload.toString('utf8')))); }
        });
        broker.aedes.on('subscribe', (subs) => { subscriptions.push(...subs.map((s) => s.topic)); });
        pfSim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [demo.DEMO_MIS_KEY] });
        await pfSim.start();
        pfSim.on('connection', () => { simEvents.connections += 1; });
        pfSim.on('rejected', (reason) => { if (reason === 'duplicate') { simEvents.duplicates += 1; } });
        [holder, consumer] = await Promise.all([startNodeRed(holderFlows('holder')), startNodeRed(consumerFlows())]);
    });

    after(async function () {
        for (const instance of [holder, standby, consumer]) {
            if (instance) { await instance.stop(); }
        }
        if (pfSim) { await pfSim.stop(); }
        if (broker) { await broker.stop(); }
        fs.rmSync(tmpDir, { recursive: true, force: true });
    });

    it('the consumer, with no PrintFactory connection of its own, receives every event exactly once', async function () {
        assert.ok(!consumerFlows().some((n) => /^printfactory-/.test(n.type)), 'the consumer has no PrintFactory node');
        // The holder's example subscribes too (its illustration consumer): two subscribers of printfactory/#.
        await waitFor(() => pfSim.connectionCount === 1 && subscribers('printfactory/#') >= 2,
            'the holder\'s PrintFactory connection and both MQTT subscriptions');
        const sent = sendBatch(3, 'end-of-first-batch');
        await waitFor(() => consumed().some((k) => k.includes('end-of-first-batch')), 'the last event at the consumer');
        assert.strictEqual(new Set(sent).size, sent.length, 'every sent notification is distinct');
        assert.deepStrictEqual(consumed().sort(), [...sent].sort(), 'the consumer got every event exactly once');
        assert.deepStrictEqual([...published].sort(), [...sent].sort(), 'the holder published every event exactly once');
        assert.strictEqual(pfSim.peakConnections, 1, 'only the holder connected to PrintFactory');
    });

    it('when the holder crashes, a standby running the same flow takes the connection over and the consumer carries on', async function () {
        const before = consumed().length;
        standby = await startNodeRed(holderFlows('standby'));
        // The vendor allows one connection per organisation: the standby is refused (409) and retries with backoff.
        await waitFor(() => simEvents.duplicates >= 2, 'the standby being refused while the holder is connected');
        assert.strictEqual(pfSim.connectionCount, 1);
        const connectionsBefore = simEvents.connections;
        await holder.kill();
        // The Last Will of docs/several-instances.md: the broker tells the consumers that the crashed instance is gone.
        await waitFor(() => consumed({ instances: true }).includes(key('printfactory/instance/holder', { online: false })),
            'the holder\'s Last Will at the consumer');
        await waitFor(() => simEvents.connections === connectionsBefore + 1 && pfSim.connectionCount === 1, 'the standby to connect');
        await waitFor(() => subscribers('printfactory/#') >= 3, 'the standby\'s MQTT subscription');
        published = [];
        const sent = sendBatch(1, 'end-after-failover');
        await waitFor(() => consumed().some((k) => k.includes('end-after-failover')), 'the last event after the failover');
        assert.deepStrictEqual(consumed().slice(before).sort(), [...sent].sort(), 'every event after the failover exactly once');
        assert.deepStrictEqual([...published].sort(), [...sent].sort(), 'the standby published every event exactly once');
        assert.strictEqual(pfSim.peakConnections, 1, 'never two PrintFactory connections at once');
    });
});
