'use strict';
// The Durst lifecycle in one real Node-RED process (stock layout) against the simulator with its login required,
// switched into each server behaviour a Spring Durst plausibly shows (HAL and paged lists, a 405 single GET, HTML
// pages with status 200, creates that commit then fail or answer late or empty, UUID ids). For each behaviour:
// restarts, a path edit (after the token expired), a topic edit (after a simulated Durst restart) and a delete,
// with two ensuring nodes. After every step: 1 subscriber, exactly 1 ACTIVE subscription per ensuring node, and
// every fired event reaches the flow exactly once. One process for all behaviours keeps the run time modest.
const assert = require('assert');
const { ensuredLine, durstBaseFlow, startDurstRuntime, stopDurstRuntime } = require('../lib/durst-runtime');
const { sleep, waitFor } = require('../lib/wait');

// Restarts per behaviour (the "across 3 restarts"); PRINT_EVENTS_DURST_RESTARTS=1 for a quick local run.
const RESTARTS = Number(process.env.PRINT_EVENTS_DURST_RESTARTS || 3);
// Creates answered after the client gave up (durstApiTimeout below): the create-slow behaviour.
const API_TIMEOUT_MS = 1500;
const SLOW_CREATE_MS = 2000;

const BEHAVIOURS = [
    { name: 'hal' },
    { name: 'paged' },
    { name: 'single-get-405' },
    // An SSO page in front during a restart: nothing may be created from it; it recovers when the page goes.
    { name: 'html-200', transient: true },
    { name: 'create-500', scope: 'subscription' },
    { name: 'create-slow', scope: 'subscription' },
    { name: 'empty-201', scope: 'subscription' },
    { name: 'uuid-ids' }
];

const ENTITY_OF = { 'STATUS/PRODUCTION_JOB/*': 'PRODUCTION_JOB', 'STATUS/MOTIF/*': 'MOTIF', 'STATUS/ARTICLE/*': 'ARTICLE', 'STATUS/PRINT_ORDER/*': 'PRINT_ORDER' };

/** Two ensuring nodes (a, b), each with its webhook on its path; `nodes.b` null = b deleted. */
function flowsOf({ apiUrl, hostUri, collectorUrl, nodes }) {
    const flows = durstBaseFlow({ apiUrl, hostUri, collectorUrl, x: 420 });
    let y = 80;
    for (const [key, node] of Object.entries(nodes)) {
        if (!node) { continue; }
        flows.push({ id: `hook-${key}`, type: 'durst-webhook-in', z: 'tab1', name: '', subscriber: 'sub1', url: '/' + node.path, dedupeWindow: 30,
            x: 120, y, wires: [['post1']] });
        flows.push({ id: `subs-${key}`, type: 'durst-subscription', z: 'tab1', name: '', subscriber: 'sub1', topic: node.topic, path: node.path,
            publishInitialState: false, ensureOnDeploy: true, x: 120, y: y + 40, wires: [[]] });
        y += 100;
    }
    return flows;
}

describe('durst: one real Node-RED process against every server behaviour, with login', function () {
    this.timeout(600000);
    let rig;
    let sim;
    let red;
    let nextEntity = 7000;
    let nodes;

    const flowsFor = (where) => flowsOf({ ...where, nodes });
    const flows = () => flowsFor({ apiUrl: sim.url, hostUri: rig.hostUri, collectorUrl: rig.collector.url });
    const all = () => sim.subscribers().flatMap((s) => sim.subscriptions(s.id));
    const active = () => all().filter((s) => s.status === 'ACTIVE');
    const detail = () => `\nsimulator: ${JSON.stringify(all())}\nlog:\n${red.log.slice(-4000)}`;

    /** Fires one status per expected node's topic; each must be sent once and reach the flow once. */
    async function fireEach(what) {
        for (const node of Object.values(nodes).filter(Boolean)) {
            const id = nextEntity++;
            const deliveries = await sim.fireStatus(ENTITY_OF[node.topic], id, 'PRINTING');
            assert.strictEqual(deliveries.length, 1, `${what}: ${node.topic} sent to ${deliveries.length} subscriptions${detail()}`);
            assert.strictEqual(deliveries[0].status, 200, `${what}: callback answered ${deliveries[0].status} ${deliveries[0].error || ''}`);
            await waitFor(() => rig.collector.received.some((b) => b.entityId === id), `${what}: ${node.topic} ${id} in the flow`, 20000);
        }
        // a duration: a duplicate would arrive right behind the first.
        await sleep(150);
        const seen = new Map();
        for (const b of rig.collector.received) { seen.set(b.entityId, (seen.get(b.entityId) || 0) + 1); }
        assert.ok([...seen.values()].every((n) => n === 1), `${what}: every callback arrived once`);
    }

    /** 1 subscriber, exactly one ACTIVE subscription per ensuring node (its topic and path), nothing else ACTIVE. */
    async function assertState(what) {
        assert.strictEqual(sim.subscribers().length, 1, `${what}: subscribers${detail()}`);
        const expected = Object.values(nodes).filter(Boolean);
        const on = active();
        assert.strictEqual(on.length, expected.length, `${what}: ACTIVE subscriptions${detail()}`);
        for (const node of expected) {
            assert.strictEqual(on.filter((s) => s.topic === node.topic && s.path === node.path).length, 1, `${what}: one ACTIVE for ${node.topic} on ${node.path}${detail()}`);
        }
        await fireEach(what);
    }

    /** Counts of finished-ensure log lines per ensuring node, to wait for the next ones. */
    const ensureCounts = () => Object.fromEntries(Object.entries(nodes).filter(([, n]) => n).map(([k, n]) => [k, red.count(ensuredLine(n.topic, n.path))]));

    /** Waits until each of `keys` logged an ensure of its current topic and path beyond `before`. */
    async function ensured(before, keys, what) {
        await waitFor(() => keys.every((k) => red.count(ensuredLine(nodes[k].topic, nodes[k].path)) > (before[k] || 0)),
            `${what}: ensure of ${keys.join(', ')}`, 20000, { intervalMs: 100, detail });
    }

    before(async function () {
        nodes = { a: { topic: 'STATUS/PRODUCTION_JOB/*', path: 'durst/a' }, b: { topic: 'STATUS/MOTIF/*', path: 'durst/b' } };
        rig = await startDurstRuntime({ flowsFor, simOptions: { slowCreateMs: SLOW_CREATE_MS }, settings: { durstApiTimeout: API_TIMEOUT_MS } });
        ({ sim, red } = rig);
        await red.start();
        await ensured({}, ['a', 'b'], 'first start');
        await assertState('first start');
    });

    after(() => stopDurstRuntime(rig));

    for (const [index, behaviour] of BEHAVIOURS.entries()) {
        it(`${behaviour.name}: ${RESTARTS} restarts, a path edit after the token expired, a topic edit after a Durst restart, a delete`, async function () {
            sim.clearBehaviours();
            sim.setBehaviour(behaviour.name, behaviour.scope || true);
            const creates = () => sim.requests.filter((r) => r.method === 'POST' && !/\/login$/.test(r.path)).length;
            for (let restart = 1; restart <= RESTARTS; restart++) {
                const before = ensureCounts();
                const createsBefore = creates();
                if (behaviour.transient && restart === 1) {
                    const failed = red.count(/Durst answered an HTML page: is a proxy or login page in front of apiUrl\?/);
                    await red.restart();
                    await red.waitForLines(/Durst answered an HTML page: is a proxy or login page in front of apiUrl\?/, failed, 'the HTML error');
                    assert.strictEqual(creates(), createsBefore, 'nothing created from an HTML page');
                    assert.strictEqual(active().length, 2, 'the ensured subscriptions stay as they are');
                    sim.setBehaviour(behaviour.name, false);
                } else {
                    await red.restart();
                }
                await ensured(before, ['a', 'b'], `${behaviour.name} restart ${restart}`);
                assert.strictEqual(creates(), createsBefore, `${behaviour.name} restart ${restart}: a restart creates nothing`);
                await assertState(`${behaviour.name} restart ${restart}`);
            }
            // A path edit after the token expired (24 h): one new login, no user action.
            sim.expireTokens();
            const logins = sim.logins;
            nodes.a = { ...nodes.a, path: `durst/a${index}` };
            const beforeEdit = ensureCounts();
            await red.deploy(flows(), 'nodes');
            await ensured(beforeEdit, ['a'], `${behaviour.name} path edit`);
            assert.ok(sim.logins > logins, 'logged in again after the token expired');
            await assertState(`${behaviour.name} path edit`);
            // A topic edit after Durst restarted (tokens void, connections dropped).
            sim.restart();
            const topics = Object.keys(ENTITY_OF).filter((t) => t !== nodes.a.topic && t !== nodes.b.topic);
            nodes.b = { ...nodes.b, topic: topics[index % topics.length] };
            const beforeTopic = ensureCounts();
            await red.deploy(flows(), 'nodes');
            await ensured(beforeTopic, ['b'], `${behaviour.name} topic edit`);
            await assertState(`${behaviour.name} topic edit`);
            // A delete: its subscription is switched off, the other stays.
            const removed = nodes.b;
            const deleted = red.count(/its durst-subscription node was deleted/);
            nodes.b = null;
            await red.deploy(flows(), 'nodes');
            await red.waitForLines(/its durst-subscription node was deleted/, deleted, `${behaviour.name} delete`);
            assert.strictEqual(all().filter((s) => s.topic === removed.topic && s.path === removed.path && s.status === 'ACTIVE').length, 0);
            await assertState(`${behaviour.name} delete`);
            // Back for the next behaviour.
            nodes.b = { topic: 'STATUS/MOTIF/*', path: 'durst/b' };
            const readded = ensureCounts();
            await red.deploy(flows(), 'nodes');
            await ensured(readded, ['b'], `${behaviour.name} re-add`);
            sim.clearBehaviours();
        });
    }
});
