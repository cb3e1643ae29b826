'use strict';
// Every example flow (examples/*.json, shown under Import > Examples) deployed in the test helper
// against the real simulators and the demo's real MQTT broker (Aedes) on loopback: it must load without
// errors, use only our node types and Node-RED core nodes, and actually carry simulated events to its
// debug nodes. The demo's merge of all examples (harness/demo/flows.ts) is deployed here too, and the MQTT
// fan-out (05) and re-sync (07) examples are checked message by message.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { PrintFactorySimulator, EXAMPLE_NAMES } = require('../../dist/simulators/printfactory');
const { DurstSimulator, DURST_SIM_LOGIN } = require('../../dist/simulators/durst');
const demo = { ...require('../../dist/harness/demo/flows'), ...require('../../dist/harness/demo/services') };

helper.init(require.resolve('node-red'));

const ROOT = path.resolve(__dirname, '..', '..');
const OUR_TYPES = ['printfactory-config', 'printfactory-notification', 'printfactory-api', 'durst-subscriber', 'durst-subscription', 'durst-webhook-in'];
const OUR_MODULES = Object.fromEntries(OUR_TYPES.map((t) => [t, require(path.join(ROOT, 'dist', 'nodes', t, `${t}.js`))]));
const { sleep, waitFor: waitUntil } = require('../lib/wait');
const { serveHttpNode } = require('../lib/http-node-server');
const STRUCTURAL_TYPES = new Set(['tab', 'group', 'subflow']);
// The one credential an example may carry: the simulators' published demo MisKey (no secret), so an imported
// example connects to `npx print-events-simulators` unchanged.
const DEMO_CREDENTIALS = {
    'printfactory-config': { misKey: 'demo-mis-key' },
    // The Durst simulator's published login (DURST_SIM_LOGIN): Durst wants a login, so the examples show one.
    'durst-subscriber': { apiUser: DURST_SIM_LOGIN.user, apiPassword: DURST_SIM_LOGIN.password }
};

// Node-RED core node types -> the core module file that registers them.
function coreNodeModules() {
    const coreDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');
    const map = new Map();
    for (const group of fs.readdirSync(coreDir)) {
        const dir = path.join(coreDir, group);
        if (!fs.statSync(dir).isDirectory()) { continue; }
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.js'))) {
            const source = fs.readFileSync(path.join(dir, file), 'utf8');
            for (const m of source.matchAll(/registerType\(\s*["']([^"']+)["']/g)) { map.set(m[1], path.join(dir, file)); }
        }
    }
    return map;
}
const CORE = coreNodeModules();

// FlowFuse Dashboard 2.0 (a devDependency): its node types -> the module file that registers them.
const DASHBOARD_MODULE = '@flowfuse/node-red-dashboard';
function dashboardNodeModules() {
    const dir = path.dirname(require.resolve(DASHBOARD_MODULE + '/package.json'));
    const nodes = require(path.join(dir, 'package.json'))['node-red'].nodes;
    return new Map(Object.entries(nodes).map(([type, file]) => [type, path.join(dir, file)]));
}
const DASHBOARD = dashboardNodeModules();
// An example may use dashboard widgets only when a comment node tells the user it needs the dashboard.
const saysItNeedsDashboard = (flow) => flow.some((n) => n.type === 'comment' && `${n.name} ${n.info}`.includes(DASHBOARD_MODULE));

/**
 * node-red-node-test-helper 0.3 runs its own copy of the core modules it preloads (catch, status, complete) once for
 * every node of that type, so a flow with two Catch nodes (the merged examples have three) fails with "catch already
 * registered". During `load` each of them runs once (its private `_nodeModules` map answers "preloaded" only for the
 * first node of a type).
 */
async function loadOncePerType(load) {
    const modules = helper._nodeModules;
    const seen = new Set();
    const once = Object.create({
        hasOwnProperty(type) {
            if (!Object.prototype.hasOwnProperty.call(modules, type) || seen.has(type)) { return false; }
            seen.add(type);
            return true;
        }
    });
    helper._nodeModules = Object.assign(once, modules);
    try { return await load(); } finally { helper._nodeModules = modules; }
}

function modulesFor(flow) {
    const mods = new Set(Object.values(OUR_MODULES));
    for (const n of flow) {
        if (CORE.has(n.type)) { mods.add(require(CORE.get(n.type))); }
        if (DASHBOARD.has(n.type)) { mods.add(require(DASHBOARD.get(n.type))); }
    }
    return [...mods];
}

const waitFor = (predicate, what, timeoutMs = 8000) => waitUntil(predicate, what, timeoutMs, { intervalMs: 20 });

/**
 * The demo's MQTT broker (Aedes) on an ephemeral port, recording every PUBLISH a client sent it
 * ({ topic, payload: string, qos }) and every subscription.
 */
async function startBroker() {
    const broker = await demo.startMqttBroker({ port: 0 });
    broker.published = [];
    broker.subscriptions = [];
    broker.aedes.on('publish', (packet, client) => {
        if (client) { broker.published.push({ topic: packet.topic, payload: packet.payload.toString('utf8'), qos: packet.qos }); }
    });
    broker.aedes.on('subscribe', (subscriptions) => { broker.subscriptions.push(...subscriptions.map((sub) => sub.topic)); });
    return broker;
}

/** Splits `credentials` off the nodes the way Node-RED stores them (the helper takes them separately). */
function splitCredentials(flow) {
    const credentials = {};
    for (const n of flow) {
        if (n.credentials) {
            credentials[n.id] = n.credentials;
            delete n.credentials;
        }
    }
    return credentials;
}

const EXAMPLE_FILES = demo.exampleFiles();
const readExample = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('example flows (examples/*.json)', function () {
    this.timeout(20000);

    it('exist: at least the five examples of the issue', function () {
        assert.ok(EXAMPLE_FILES.length >= 5, `expected at least 5 examples, found ${EXAMPLE_FILES.map((f) => path.basename(f))}`);
    });

    it('share no node id (config nodes included), so importing them one after another in any order has no conflict', function () {
        // Node-RED's import asks "already exist" for any id already in the workspace, even with identical content.
        const owner = new Map();
        for (const file of EXAMPLE_FILES) {
            for (const n of readExample(file)) {
                assert.ok(!owner.has(n.id), `${n.type} ${n.id} is in both ${owner.get(n.id)} and ${path.basename(file)}`);
                owner.set(n.id, path.basename(file));
            }
        }
    });

    for (const file of EXAMPLE_FILES) {
        const name = path.basename(file);
        describe(name, function () {
            it('is a flow array with at most one tab, comment nodes that explain it, and no credentials but the demo MisKey', function () {
                const flow = readExample(file);
                assert.ok(Array.isArray(flow) && flow.length > 0);
                const ids = flow.map((n) => n.id);
                assert.strictEqual(new Set(ids).size, ids.length, 'duplicate node ids');
                // Without a tab node an example imports into the current tab (as Node-RED's own examples do).
                assert.ok(flow.filter((n) => n.type === 'tab').length <= 1, 'an example brings at most one tab');
                const comments = flow.filter((n) => n.type === 'comment');
                assert.ok(comments.length > 0, 'no comment node explains the steps');
                assert.ok(comments.some((c) => (c.info || c.name || '').length > 20), 'comment nodes carry no explanation');
                for (const n of flow.filter((x) => x.credentials)) {
                    assert.deepStrictEqual(n.credentials, DEMO_CREDENTIALS[n.type], `${n.type} ${n.id} carries credentials other than the demo ones`);
                }
                // What the user runs, and what to change for a real account, in the first comment's first line.
                const firstLine = (comments[0].info || '').split('\n')[0];
                assert.match(firstLine, /npx print-events-simulators/, 'the first comment says how to run the example against the simulators');
                assert.match(firstLine, /real (account|Durst)/, 'the first comment says what to change for a real account');
                assert.doesNotMatch(JSON.stringify(flow), /npm run |127\.0\.0\.1:1880|:1880\//, 'nothing assumes a clone or the editor\'s address');
                for (const n of flow.filter((x) => x.type === 'durst-subscriber')) {
                    assert.strictEqual(n.hostUri, '', 'hostUri empty: this Node-RED, on whatever port it runs');
                }
            });

            it('uses only our node types, Node-RED core nodes and (when a comment says it needs it) FlowFuse Dashboard 2.0 nodes', function () {
                const flow = readExample(file);
                const dashboardOk = saysItNeedsDashboard(flow);
                const unknown = flow.map((n) => n.type)
                    .filter((t) => !OUR_TYPES.includes(t) && !CORE.has(t) && !STRUCTURAL_TYPES.has(t) && !(dashboardOk && DASHBOARD.has(t)));
                assert.deepStrictEqual([...new Set(unknown)], []);
                // No custom web UI: Dashboard 2.0's ui-template would be one.
                assert.deepStrictEqual(flow.filter((n) => n.type === 'ui-template').map((n) => n.id), [], 'no ui-template');
            });

            it('references only nodes that exist in the example', function () {
                const flow = readExample(file);
                const ids = new Set(flow.map((n) => n.id));
                for (const n of flow) {
                    for (const target of (n.wires || []).flat()) { assert.ok(ids.has(target), `${n.id} is wired to missing ${target}`); }
                    if (n.z && flow.some((x) => x.type === 'tab')) { assert.ok(ids.has(n.z), `${n.id} sits on missing tab ${n.z}`); }
                    const refs = n.type.startsWith('mqtt ') ? ['broker']
                        : DASHBOARD.has(n.type) ? ['group', 'page', 'ui', 'theme'] : ['account', 'subscriber'];
                    for (const key of refs) {
                        if (n[key]) { assert.ok(ids.has(n[key]), `${n.id}.${key} points at missing config ${n[key]}`); }
                    }
                }
            });
        });
    }
});

describe('demo merge of example files (harness/demo/flows.ts)', function () {
    let dir;
    beforeEach(function () { dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'print-events-merge-')); });
    afterEach(function () { fs.rmSync(dir, { recursive: true, force: true }); });
    const write = (name, nodes) => { const f = path.join(dir, name); fs.writeFileSync(f, JSON.stringify(nodes)); return f; };

    it('gives a tab to an example without one, shares config nodes by id and renames clashing ids with their wires', function () {
        const cfg = { id: 'cfg1', type: 'printfactory-config', name: 'shared', url: '' };
        const a = write('a.json', [cfg,
            { id: 'src', type: 'printfactory-notification', account: 'cfg1', x: 1, y: 1, wires: [['dbg']] },
            { id: 'dbg', type: 'debug', x: 2, y: 1, wires: [] }]);
        const b = write('b.json', [{ id: 'tabB', type: 'tab', label: 'B' }, { ...cfg, name: 'second copy' },
            { id: 'src', type: 'durst-webhook-in', z: 'tabB', x: 1, y: 1, wires: [['dbg']] },
            { id: 'dbg', type: 'debug', z: 'tabB', x: 2, y: 1, wires: [] }]);
        const { flows, tabs } = demo.mergeExamples([a, b]);
        const ids = flows.map((n) => n.id);
        assert.strictEqual(new Set(ids).size, ids.length, 'ids stay unique');
        assert.deepStrictEqual(flows.filter((n) => n.type === 'printfactory-config').map((n) => n.name), ['shared']);
        assert.deepStrictEqual(tabs.map((t) => t.label), ['a', 'B']);
        const webhook = flows.find((n) => n.type === 'durst-webhook-in');
        assert.notStrictEqual(webhook.id, 'src');
        const target = flows.find((n) => n.id === webhook.wires[0][0]);
        assert.ok(target && target.type === 'debug' && target.z === 'tabB', 'the renamed wire still reaches the second example\'s debug node');
        assert.strictEqual(flows.find((n) => n.id === 'src').z, tabs[0].id, 'nodes of a tab-less example sit on its new tab');
        const sources = demo.debugNodesBySource(flows);
        assert.deepStrictEqual([...sources.printfactory], ['dbg']);
        assert.deepStrictEqual([...sources.durst], [target.id]);
    });

    it('keeps MQTT tabs enabled and points their broker config node at the demo broker', function () {
        const f = write('mqtt.json', [{ id: 'b1', type: 'mqtt-broker', broker: 'localhost', port: '1883', usetls: true },
            { id: 'o1', type: 'mqtt out', broker: 'b1', x: 1, y: 1, wires: [] }]);
        const { flows, tabs } = demo.mergeExamples([f]);
        assert.deepStrictEqual(tabs.map((t) => [t.disabled, t.label]), [[false, 'mqtt']]);
        demo.pointAtSimulators(flows, { pfUrl: 'ws://127.0.0.1:1', durstUrl: 'http://127.0.0.1:2', callbackBase: 'http://127.0.0.1:3', mqttPort: 41883 });
        const broker = flows.find((n) => n.type === 'mqtt-broker');
        assert.deepStrictEqual([broker.broker, broker.port, broker.usetls], ['127.0.0.1', '41883', false]);
    });
    it('keeps a dashboard tab disabled, and says why, when the dashboard is not installed; names the dashboard URL otherwise', function () {
        const f = write('dash.json', [
            { id: 'c1', type: 'comment', name: 'Floor: needs @flowfuse/node-red-dashboard', x: 1, y: 1, wires: [] },
            { id: 'base', type: 'ui-base', name: 'b', path: '/floor' },
            { id: 't1', type: 'ui-text', group: 'g', x: 2, y: 1, wires: [] }]);
        const without = demo.mergeExamples([f], { hasDashboard: false });
        assert.deepStrictEqual(without.tabs.map((t) => [t.disabled, t.label]), [[true, 'Floor (disabled: needs @flowfuse/node-red-dashboard)']]);
        assert.strictEqual(demo.dashboardUrlOf(without.flows, without.tabs, 'http://127.0.0.1:1880/'), null);
        const withIt = demo.mergeExamples([f]);
        assert.deepStrictEqual(withIt.tabs.map((t) => t.disabled), [false]);
        assert.strictEqual(demo.dashboardUrlOf(withIt.flows, withIt.tabs, 'http://127.0.0.1:1880/'), 'http://127.0.0.1:1880/floor');
    });
});

describe('the demo in check mode (node dist/harness/demo.js --check)', function () {
    this.timeout(90000);
    it('starts Node-RED with the package linked in, deploys the examples and shows events from both simulators', async function () {
        const { spawn } = require('child_process');
        const userDir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'print-events-demo-check-'));
        try {
            const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'harness', 'demo.js'), '--check'], {
                cwd: ROOT,
                env: { ...process.env, HOST: '127.0.0.1', PORT: '0', PF_SIM_PORT: '0', DURST_SIM_PORT: '0', MQTT_PORT: '0', DEMO_USER_DIR: userDir,
                    PF_TRICKLE_MS: '300', DURST_TRICKLE_MS: '300', DEMO_EXIT_AFTER: '60', NODE_RED_LOG_LEVEL: 'warn' },
                stdio: ['ignore', 'pipe', 'pipe']
            });
            let output = '';
            child.stdout.on('data', (c) => { output += c; });
            child.stderr.on('data', (c) => { output += c; });
            const code = await new Promise((resolve) => child.once('exit', resolve));
            assert.strictEqual(code, 0, `demo --check failed:\n${output}`);
            assert.match(output, /Node-RED editor:\s+http:\/\/127\.0\.0\.1:\d+\//);
            assert.match(output, /demo check: OK/);
            const link = path.join(userDir, 'node_modules', 'node-red-contrib-print-events');
            assert.strictEqual(fs.realpathSync(link), fs.realpathSync(ROOT), 'the package is linked into the user dir');
            const flowsText = fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8');
            assert.ok(!flowsText.includes(demo.DEMO_MIS_KEY), 'the MisKey is not in flows.json');
            assert.deepStrictEqual(Object.keys(JSON.parse(fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8'))), ['$'],
                'credentials are stored encrypted');
        } finally {
            fs.rmSync(userDir, { recursive: true, force: true });
        }
    });
});

describe('example flows deployed against the simulators', function () {
    this.timeout(20000);
    let pfSim;
    let durstSim;
    let broker;
    let RED;
    let httpNode;
    let callbackBase;
    const capture = (red) => { RED = red; };

    beforeEach(async function () {
        helper.settings({ durstApiRetryDelay: 5, durstApiTimeout: 2000 });
        await helper.startServer();
        pfSim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys: [demo.DEMO_MIS_KEY] });
        await pfSim.start();
        durstSim = new DurstSimulator({ port: 0, host: '127.0.0.1', apiAuth: { type: 'login', ...demo.DEMO_DURST_LOGIN } });
        await durstSim.start();
        broker = await startBroker();
        RED = undefined;
        httpNode = await serveHttpNode(() => RED);
        callbackBase = httpNode.base;
    });

    afterEach(async function () {
        await helper.unload();
        await pfSim.stop();
        await durstSim.stop();
        await broker.stop();
        await httpNode.close();
        await helper.stopServer();
        helper.settings({});
    });

    /** Deploys a flow the way the demo does (simulator URLs + demo credentials) and records errors. */
    async function deploy(flow) {
        demo.pointAtSimulators(flow, { pfUrl: pfSim.url, durstUrl: durstSim.url, callbackBase, mqttPort: broker.port });
        const credentials = splitCredentials(flow);
        await loadOncePerType(() => helper.load([capture, ...modulesFor(flow)], flow, credentials));
        const debugHits = new Map();
        for (const n of flow.filter((x) => x.type === 'debug')) {
            const node = helper.getNode(n.id);
            if (node) { node.on('input', (msg) => debugHits.set(n.id, [...(debugHits.get(n.id) || []), msg])); }
        }
        // A Cloud Nester automation notification carries a JobGUID that is no print job (and a device may be unknown to
        // the REST API): printfactory-api logs the API's 404 and the example's Catch node handles it. That is the
        // documented outcome, not a fault of the example.
        const caughtNotFound = (entry) => entry.type === 'printfactory-api' && /(Job|Device)GUID is not found/.test(JSON.stringify(entry.msg)) &&
            flow.some((n) => n.type === 'catch' && (n.scope || []).includes(entry.id));
        const errors = () => helper.log().getCalls()
            .map((c) => c.args[0])
            .filter((entry) => entry && entry.level <= helper.log().ERROR && !caughtNotFound(entry))
            .map((entry) => `${entry.type || ''} ${entry.id || ''}: ${entry.msg && entry.msg.stack ? entry.msg.stack : JSON.stringify(entry.msg)}`);
        return { debugHits, errors };
    }

    function assertAllNodesStarted(flow) {
        const disabledTabs = new Set(flow.filter((n) => n.type === 'tab' && n.disabled).map((n) => n.id));
        for (const n of flow) {
            if (STRUCTURAL_TYPES.has(n.type) || n.d || disabledTabs.has(n.z)) { continue; }
            assert.ok(helper.getNode(n.id), `${n.type} ${n.id} (${n.name || ''}) was not started`);
        }
    }

    async function waitForActiveSubscriptions(flow) {
        const wanted = flow.filter((n) => n.type === 'durst-subscription' && n.ensureOnDeploy && !n.d).length;
        if (wanted === 0) { return; }
        await waitFor(() => {
            const active = durstSim.subscribers()
                .flatMap((s) => durstSim.subscriptions(s.id))
                .filter((s) => s.status === 'ACTIVE');
            return active.length >= wanted;
        }, `${wanted} ACTIVE subscription(s) in the Durst simulator`);
    }

    async function firePrintFactoryExamples() {
        await waitFor(() => pfSim.connectionCount > 0, 'the PrintFactory connection');
        for (const example of EXAMPLE_NAMES) { pfSim.sendExample(example); }
    }

    async function fireDurstEvents() {
        await durstSim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTED', 'IMPOSED');
        await durstSim.fireStatus('MOTIF', 11094, 'CHECKED_IN', 'CREATED');
        await durstSim.fireWorkflow('motif-checkin', 12842);
    }

    for (const file of EXAMPLE_FILES) {
        const name = path.basename(file);
        it(`${name} deploys without errors and its debug nodes receive simulated events`, async function () {
            // Deployed exactly as the demo deploys it: on its own tab, against the demo's MQTT broker.
            const { flows: flow } = demo.mergeExamples([file]);
            const { debugHits, errors } = await deploy(flow);
            assertAllNodesStarted(flow);

            const sources = demo.debugNodesBySource(flow);
            const hasMqtt = flow.some((n) => n.type === 'mqtt out');
            if (flow.some((n) => n.type === 'printfactory-notification')) {
                await firePrintFactoryExamples();
                if (flow.some((n) => n.type === 'printfactory-notification' && n.connectionEvents)) {
                    // Connection events need a change of connection: drop it once, the node reconnects.
                    await waitFor(() => pfSim.connectionCount === 1, 'the PrintFactory connection');
                    pfSim.dropAll();
                    await waitFor(() => pfSim.connectionCount === 1, 'the PrintFactory reconnect');
                }
                if (sources.printfactory.size > 0) {
                    await waitFor(() => [...sources.printfactory].some((id) => debugHits.has(id)), 'a debug message from PrintFactory events');
                }
                if (hasMqtt) {
                    await waitFor(() => broker.published.length > 0, 'an MQTT publish of a PrintFactory event');
                    assert.ok(broker.published.every((p) => p.topic.length > 0), 'MQTT messages need a topic');
                }
                if (sources.mqtt.size > 0) {
                    await waitFor(() => [...sources.mqtt].some((id) => debugHits.has(id)), 'a debug message fed by an mqtt in node');
                }
            }
            if (flow.some((n) => n.type === 'durst-webhook-in')) {
                await waitForActiveSubscriptions(flow);
                await fireDurstEvents();
                if (sources.durst.size > 0) {
                    await waitFor(() => [...sources.durst].some((id) => debugHits.has(id)), 'a debug message from a Durst callback');
                }
                const rejected = durstSim.deliveries.filter((d) => d.status !== 200);
                assert.deepStrictEqual(rejected.map((d) => `${d.url} -> ${d.status}`), [], 'callbacks the webhook did not accept');
            }
            // Let late async work (registration, reconnects) log whatever it would log.
            await sleep(200);
            assert.deepStrictEqual(errors(), [], `${name} logged errors`);
        });
    }

    // Example 4 style: one inject per msg.action wired into a node that asks a vendor API (04: durst-subscription,
    // 08: printfactory-api).
    const API_NODE_TYPES = ['durst-subscription', 'printfactory-api'];
    for (const file of EXAMPLE_FILES) {
        const name = path.basename(file);
        const raw = readExample(file);
        const actionInjects = raw.filter((n) => n.type === 'inject' &&
            (n.wires || []).flat().some((id) => raw.some((x) => x.id === id && API_NODE_TYPES.includes(x.type))));
        if (actionInjects.length === 0) { continue; }
        it(`${name}: every inject-driven subscription action (${actionInjects.map((n) => n.name || n.id).join(', ')}) gets an API answer`, async function () {
            const { flows: flow } = demo.mergeExamples([file]);
            const { debugHits, errors } = await deploy(flow);
            await waitForActiveSubscriptions(flow);
            const reachable = (startIds) => {
                const seen = new Set();
                const queue = [...startIds];
                while (queue.length > 0) {
                    const id = queue.shift();
                    const n = flow.find((x) => x.id === id);
                    if (!n || seen.has(id)) { continue; }
                    seen.add(id);
                    queue.push(...(n.wires || []).flat());
                }
                return [...seen].filter((id) => flow.find((x) => x.id === id).type === 'debug');
            };
            const subscriptionIds = flow.filter((n) => API_NODE_TYPES.includes(n.type)).map((n) => n.id);
            const answerDebugs = reachable(subscriptionIds);
            const errorDebugs = reachable(flow.filter((n) => n.type === 'catch').map((n) => n.id));
            assert.ok(answerDebugs.length > 0, 'no debug node shows the API answers');
            const count = (ids) => ids.reduce((sum, id) => sum + (debugHits.get(id) || []).length, 0);
            for (const inject of actionInjects) {
                const before = count(answerDebugs);
                helper.getNode(inject.id).receive({});
                await waitFor(() => count(answerDebugs) > before || count(errorDebugs) > 0, `an answer to "${inject.name}"`);
                const caught = errorDebugs.flatMap((id) => debugHits.get(id) || []);
                assert.deepStrictEqual(caught.map((m) => `${m.error && m.error.message} (${m.statusCode})`), [], `"${inject.name}" failed`);
                const answer = answerDebugs.flatMap((id) => debugHits.get(id) || []).pop();
                assert.ok(answer.statusCode >= 200 && answer.statusCode < 300, `"${inject.name}" answered ${answer.statusCode}`);
            }
            assert.deepStrictEqual(errors(), [], `${name} logged errors`);
        });
    }

    const dashboardFile = EXAMPLE_FILES.find((f) => JSON.parse(fs.readFileSync(f, 'utf8')).some((n) => DASHBOARD.has(n.type)));
    it('the print floor dashboard example: a row and a picker entry per device seen, named over the REST API; gauges of the picked device; jobs by name', async function () {
        assert.ok(dashboardFile, 'an example uses FlowFuse Dashboard 2.0 widgets');
        const { flows: flow } = demo.mergeExamples([dashboardFile]);
        const { errors } = await deploy(flow);
        assertAllNodesStarted(flow);
        const hits = new Map();
        const widgets = flow.filter((n) => DASHBOARD.has(n.type) && n.group);
        for (const w of widgets) {
            helper.getNode(w.id).on('input', (msg) => hits.set(w.id, [...(hits.get(w.id) || []), msg]));
        }
        const byType = (type) => widgets.filter((w) => w.type === type);
        const last = (w) => JSON.parse(JSON.stringify((hits.get(w.id) || []).slice(-1)[0] || null));
        const floor = pfSim.floor;
        const nameOf = (guid) => floor.device(guid).info.DeviceName;
        assert.strictEqual(new Set(byType('ui-gauge').map((w) => w.group)).size, 1, 'one card with gauges: the picked device');

        await waitFor(() => pfSim.connectionCount > 0, 'the PrintFactory connection');
        const sentJobs = [];
        for (let i = 0; i < 6; i++) {
            pfSim.broadcast(floor.nextDeviceStatus());
            const job = floor.nextJobEvent();
            sentJobs.push(job);
            pfSim.broadcast(job);
        }
        // A fourth device, unknown to the REST API: it gets a row too, under its short GUID.
        const fourth = 'ffffffff-0000-4000-8000-000000000000';
        pfSim.broadcast({ ...floor.devices[0], DeviceGUID: fourth });

        // Every device seen: one row, named by printfactory-api; queues read "N sheets".
        const devicesTable = widgets.find((w) => w.type === 'ui-table' && w.columns.some((c) => c.key === 'cyan'));
        const expectedNames = [...floor.devices.map((d) => nameOf(d.DeviceGUID)), 'ffffffff'];
        await waitFor(() => last(devicesTable) && JSON.stringify(last(devicesTable).payload.map((r) => r.device)) === JSON.stringify(expectedNames),
            'a named row per device');
        for (const row of last(devicesTable).payload) {
            assert.ok(['Printing', 'Idle', 'Error'].includes(row.state), row.state);
            assert.match(row.queue, /^(1 sheet|\d+ sheets)$/);
            assert.match(row.temperature, /^\d+ °C$/);
            for (const ink of ['cyan', 'magenta', 'yellow', 'black']) { assert.ok(row[ink] >= 0 && row[ink] <= 100, `${ink} ${row[ink]}`); }
        }
        const picker = byType('ui-dropdown')[0];
        await waitFor(() => last(picker) && last(picker).options.length === 4, 'the picker with every device');
        assert.deepStrictEqual(last(picker).options.map((o) => o.label), expectedNames);
        assert.strictEqual(last(picker).payload, floor.devices[0].DeviceGUID, 'the first device seen is picked');

        // The card shows the picked device: its name, state chip and a gauge per ink.
        const texts = byType('ui-text');
        const text = (label) => texts.find((w) => w.label === label);
        await waitFor(() => byType('ui-gauge').every((w) => hits.has(w.id)), 'a value on every ink gauge');
        const showsDevice = (guid) => {
            const dev = floor.devices.find((d) => d.DeviceGUID === guid);
            const device = last(text('Device'));
            return device && device.payload.startsWith(nameOf(guid)) &&
                byType('ui-gauge').every((w, i) => last(w).payload === Math.round(100 * dev.RemainingInks[i].Level / dev.RemainingInks[i].MaxLevel));
        };
        await waitFor(() => showsDevice(floor.devices[0].DeviceGUID), 'the card of the first device');
        for (const w of byType('ui-gauge')) {
            assert.ok(['Cyan', 'Magenta', 'Yellow', 'Black'].includes(last(w).ui_update.label), last(w).ui_update.label);
        }
        assert.ok(['Printing', 'Idle', 'Error'].includes(last(text('State')).payload));
        assert.match(last(text('State')).class, /\bbg-[a-z-]+\b.*rounded-pill/);
        assert.match(last(text('Queue')).payload, /^(1 sheet|\d+ sheets)$/);
        // Picking another device in the dropdown shows that one.
        const devicesFunction = flow.find((n) => n.type === 'function' && (n.wires || []).flat().includes(picker.id));
        helper.getNode(devicesFunction.id).receive({ topic: 'pick', payload: floor.devices[2].DeviceGUID });
        await waitFor(() => showsDevice(floor.devices[2].DeviceGUID), 'the card of the picked third device');

        // Job events by name: every job notification becomes a row with the job's name, device and state.
        const jobsTable = widgets.find((w) => w.type === 'ui-table' && w.columns.some((c) => c.key === 'job' && c.title === 'Job'));
        await waitFor(() => last(jobsTable) && last(jobsTable).payload.length === sentJobs.length, 'the job events table');
        const rows = last(jobsTable).payload;
        assert.deepStrictEqual(rows.map((r) => r.jobGuid).sort(), sentJobs.map((j) => j.JobGUID).sort(), 'a row per notification');
        for (const row of rows) {
            assert.match(row.time, /^\d\d:\d\d:\d\d$/);
            assert.match(row.event, /^(job|nester)\./);
            const job = floor.job(row.jobGuid);
            if (job) {
                assert.strictEqual(row.job, job.JobName);
                assert.ok(floor.deviceInfo.some((d) => d.DeviceName === row.device), row.device);
                assert.ok(['Error', 'Waiting', 'InProgress', 'PrintRequest', 'Completed'].includes(row.state), row.state);
            } else {
                // The nester automation notifications' JobGUIDs are no print jobs.
                assert.deepStrictEqual([row.job, row.device, row.state], ['not a print job', '', '']);
            }
        }
        assert.ok(rows.some((r) => floor.job(r.jobGuid)), 'some rows name print jobs');
        assert.ok(!jobsTable.columns.some((c) => /GUID/.test(c.title)), 'no GUID column');

        await waitForActiveSubscriptions(flow);
        await durstSim.fireStatus('PRODUCTION_JOB', 2068, 'CREATED');
        await durstSim.fireStatus('PRODUCTION_JOB', 2068, 'PRINTING');
        await durstSim.fireStatus('PRODUCTION_JOB', 2069, 'IMPOSED');
        await durstSim.fireWorkflow('motif-checkin', 12842, { status: 'RUNNING', progress: 40, stateMessage: 'Preflight' });

        const durstTable = widgets.find((w) => w.type === 'ui-table' && w.columns.some((c) => c.key === 'printer'));
        await waitFor(() => last(durstTable) && last(durstTable).payload.length === 2, 'the Durst table');
        const job2068 = last(durstTable).payload.find((r) => r.job === 2068);
        assert.deepStrictEqual(JSON.parse(JSON.stringify([job2068.status, job2068.printer])), ['PRINTING', 'P5 500'], 'one row per job, latest status');

        const workflowTable = widgets.find((w) => w.type === 'ui-table' && w.columns.some((c) => c.key === 'workflow'));
        await waitFor(() => last(workflowTable), 'the workflow progress table');
        assert.deepStrictEqual(JSON.parse(JSON.stringify(last(workflowTable).payload)).map((r) => [r.workflow, r.progress, r.status]), [['motif-checkin #12842', 40, 'RUNNING']]);

        // a duration: no late error may be logged within 200 ms.
        await sleep(200);
        assert.deepStrictEqual(errors(), [], 'the dashboard example logged errors');
    });

    it('the demo\'s merge of all examples deploys together: twin config nodes share one connection, events from both simulators', async function () {
        const { flows, tabs } = demo.mergeExamples(EXAMPLE_FILES);
        const ids = flows.map((n) => n.id);
        assert.strictEqual(new Set(ids).size, ids.length, 'merged flows have duplicate ids');
        assert.strictEqual(tabs.length, EXAMPLE_FILES.length, 'one tab per example');
        const pfConfigs = flows.filter((n) => n.type === 'printfactory-config');
        assert.ok(pfConfigs.length >= 2, 'the examples bring twin printfactory-config nodes (one each)');
        assert.deepStrictEqual(tabs.filter((t) => t.disabled).map((t) => t.label), [], 'every demo tab runs, MQTT ones included');
        // Tabs carry the examples' titles (the first comment's name up to a colon), not file names.
        assert.deepStrictEqual(tabs.map((t) => t.label), EXAMPLE_FILES.map((f) => readExample(f).find((n) => n.type === 'comment').name.split(':')[0].trim()));
        assert.ok(tabs.every((t) => t.label.length <= 40 && !/^\d\d-/.test(t.label)), tabs.map((t) => t.label).join(', '));

        const { debugHits, errors } = await deploy(flows);
        assertAllNodesStarted(flows);
        const sources = demo.debugNodesBySource(flows);
        assert.ok(sources.printfactory.size > 0, 'no debug node shows PrintFactory events in the demo');
        assert.ok(sources.durst.size > 0, 'no debug node shows Durst callbacks in the demo');
        await firePrintFactoryExamples();
        await waitForActiveSubscriptions(flows);
        await fireDurstEvents();
        await waitFor(() => [...sources.printfactory].some((id) => debugHits.has(id)), 'a PrintFactory debug message');
        await waitFor(() => [...sources.durst].some((id) => debugHits.has(id)), 'a Durst debug message');
        assert.ok(sources.mqtt.size > 0, 'no debug node shows what arrives over MQTT in the demo');
        await waitFor(() => [...sources.mqtt].some((id) => debugHits.has(id)), 'a debug message that came through the broker');
        assert.strictEqual(pfSim.connectionCount, 1, 'all PrintFactory examples share one connection');
        await waitFor(() => broker.published.some((p) => /^printfactory\/(job|device|nester)\./.test(p.topic)),
            'the fan-out tab publishing PrintFactory events to the demo broker');
        // a duration: no late error may be logged within 200 ms.
        await sleep(200);
        assert.deepStrictEqual(errors(), [], 'the merged demo flows logged errors');
    });
    /** Every msg a debug node of the example (by name) received so far. */
    const byName = (flow, debugHits, name) => debugHits.get(flow.find((n) => n.type === 'debug' && n.name === name).id) || [];
    const key = (topic, payload) => `${topic} ${JSON.stringify(payload)}`;
    const exampleFile = (prefix) => EXAMPLE_FILES.find((f) => path.basename(f).startsWith(prefix));

    it('05 MQTT fan-out: every notification arrives exactly once on printfactory/<event>, for publisher and subscriber', async function () {
        const { flows: flow } = demo.mergeExamples([exampleFile('05-')]);
        const { debugHits, errors } = await deploy(flow);
        await waitFor(() => pfSim.connectionCount === 1 && broker.subscriptions.includes('printfactory/#'),
            'the PrintFactory connection and the mqtt in subscription');
        // Each documented shape twice, with fresh GUIDs each time, then a last one to know that everything is through.
        for (const example of [...EXAMPLE_NAMES, ...EXAMPLE_NAMES]) { pfSim.sendExample(example); }
        const sentCount = EXAMPLE_NAMES.length * 2 + 1;
        const emitted = () => byName(flow, debugHits, 'published events');
        await waitFor(() => emitted().length === sentCount - 1, 'the notification node to emit every notification');
        pfSim.broadcast({ JobGUID: 'last-of-the-run' });
        const received = () => byName(flow, debugHits, 'received over MQTT');
        const fanned = () => broker.published.filter((p) => p.topic.startsWith('printfactory/'));
        const lastArrived = (list) => list.some((entry) => /last-of-the-run/.test(JSON.stringify(entry)));
        await waitFor(() => lastArrived(fanned()) && lastArrived(received().map((m) => m.payload)), 'the last notification over MQTT');

        const expected = emitted().map((m) => key(`printfactory/${m.event}`, m.payload)).sort();
        assert.strictEqual(expected.length, sentCount, 'the notification node emitted each notification once');
        assert.strictEqual(new Set(expected).size, sentCount, 'fresh GUIDs make every notification distinct');
        assert.deepStrictEqual(fanned().map((p) => key(p.topic, JSON.parse(p.payload))).sort(), expected,
            'the broker got each notification exactly once, on printfactory/<event>');
        assert.ok(fanned().every((p) => p.qos === 1), 'published with QoS 1');
        assert.deepStrictEqual(received().map((m) => key(m.topic, m.payload)).sort(), expected,
            'the subscriber got each notification exactly once');
        assert.strictEqual(pfSim.peakConnections, 1);
        assert.deepStrictEqual(errors(), [], '05 logged errors');
    });

    it('07 re-sync: after an outage the missed window is told to the user and published once to printfactory/connection.gap', async function () {
        const { flows: flow } = demo.mergeExamples([exampleFile('07-')]);
        const { debugHits, errors } = await deploy(flow);
        await waitFor(() => pfSim.connectionCount === 1 && broker.subscriptions.includes('printfactory/connection.gap'),
            'the PrintFactory connection and the gap subscription');
        const connectionEvents = () => byName(flow, debugHits, 'connection events');
        await waitFor(() => connectionEvents().length === 1, 'connection.up of the first connection');
        assert.deepStrictEqual(connectionEvents()[0].payload, { state: 'connected', downtimeMs: null, disconnectedAt: null });
        // Notifications do not pass the switch: only connection events reach the recipe.
        pfSim.sendExample('jobCreated');

        const gaps = () => broker.published.filter((p) => p.topic === 'printfactory/connection.gap');
        const told = () => byName(flow, debugHits, 'tell the user');
        const consumed = () => byName(flow, debugHits, 'gap received over MQTT');
        const droppedAt = [];
        for (let outage = 1; outage <= 2; outage++) {
            droppedAt.push(Date.now());
            pfSim.dropAll();
            await waitFor(() => gaps().length === outage && told().length === outage && consumed().length === outage,
                `outage ${outage} reported to the user, the broker and the consumer`);
        }
        assert.deepStrictEqual(connectionEvents().map((m) => m.topic),
            ['connection.up', 'connection.down', 'connection.up', 'connection.down', 'connection.up']);
        for (let i = 0; i < 2; i++) {
            const gap = JSON.parse(gaps()[i].payload);
            assert.deepStrictEqual(Object.keys(gap).sort(), ['downtimeMs', 'from', 'reason', 'to']);
            assert.strictEqual(gap.reason, 'server closed');
            assert.ok(droppedAt[i] <= Date.parse(gap.from) && Date.parse(gap.from) <= Date.parse(gap.to) && gap.downtimeMs >= 0,
                JSON.stringify(gap));
            const up = connectionEvents()[2 + 2 * i];
            assert.deepStrictEqual([gap.from, gap.to, gap.downtimeMs], [up.payload.disconnectedAt, up.receivedAt, up.payload.downtimeMs]);
            assert.deepStrictEqual(consumed()[i].payload, gap, 'the consumer got the gap as published');
            assert.match(told()[i].payload, /disconnected for .* s \(server closed\)\. Notifications between \S+ and \S+ are lost/);
        }
        assert.deepStrictEqual(errors(), [], '07 logged errors');
    });

    it('08 job details: a job notification becomes job name, device and status; an unknown JobGUID reaches the Catch node with 404', async function () {
        const { flows: flow } = demo.mergeExamples([exampleFile('08-')]);
        const { debugHits, errors } = await deploy(flow);
        await waitFor(() => pfSim.connectionCount === 1, 'the PrintFactory connection');
        const job = pfSim.floor.createJob();
        pfSim.broadcast({ JobGUID: job.JobGUID });
        const summaries = () => byName(flow, debugHits, 'job, device, status');
        await waitFor(() => summaries().length === 1, 'the job summary');
        assert.deepStrictEqual(JSON.parse(JSON.stringify(summaries()[0].payload)), {
            event: 'job.updated', job: job.JobName, device: pfSim.floor.device(job.DeviceGUID).info.DeviceName, status: 'Waiting', jobGuid: job.JobGUID
        });
        pfSim.broadcast({ JobGUID: '00000000-0000-4000-8000-00000000beef' });
        const caught = () => byName(flow, debugHits, 'API error (statusCode, message)');
        await waitFor(() => caught().length === 1, 'the 404 at the Catch node');
        assert.strictEqual(caught()[0].statusCode, 404);
        assert.strictEqual(caught()[0].jobGuid, '00000000-0000-4000-8000-00000000beef');
        assert.deepStrictEqual(errors(), [], '08 logged errors');
    });
});
