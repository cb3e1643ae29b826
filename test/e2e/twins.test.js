'use strict';
/* global window, document, RED -- these run inside the editor page via page.evaluate */
// Twin printfactory-config nodes in a real browser (resources/twins.js): each example brings its own config node;
// importing two examples whose configs are equal (URL, REST API, MisKey, timings) makes the editor offer a merge.
// Accepting re-points every user to the kept config and removes the twin as one undoable step; nothing reaches the
// runtime before Deploy. Deployed twins (the editor then holds no MisKey) are recognised through the runtime's
// twins route, from the config dialog's notice. A stock Node-RED process (red.js wiring) and the PrintFactory
// simulator on loopback.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startStockNodeRed } = require('../lib/stock-node-red');
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');
const { ROOT, launchBrowser, screenshot, waitFor } = require('./harness');

const NS = 'node-red-contrib-print-events/printfactory-config:printfactory-config.twins.';

describe('twin config nodes in the editor: merge offered after an import and in the dialog, undoable, one connection', function () {
    this.timeout(60000);
    let sim;
    let nodeRed;
    let browser;
    let page;
    const pageErrors = [];

    /** An example as shipped, its PrintFactory config pointed at this test's simulator (the examples use 127.0.0.1:27489). */
    function example(file) {
        const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
        for (const n of flow) {
            if (n.type === 'printfactory-config') { n.url = sim.url; n.apiUrl = sim.apiUrl; }
        }
        return flow;
    }

    async function importExample(file) {
        const flow = example(file);
        await page.evaluate((nodes) => RED.view.importNodes(nodes, { addFlow: true }), flow);
        // Imported nodes follow the mouse until a click drops them.
        const canvas = await page.locator('#red-ui-workspace-chart').boundingBox();
        await page.mouse.move(canvas.x + 200, canvas.y + 150);
        await page.mouse.click(canvas.x + 200, canvas.y + 150);
        return flow;
    }

    /** The editor's printfactory-configs with their users' ids, and which config every account property points at. */
    const workspace = () => page.evaluate(() => {
        const configs = {};
        RED.nodes.eachConfig((n) => { if (n.type === 'printfactory-config') { configs[n.id] = n.users.map((u) => u.id).sort(); } });
        const accounts = {};
        RED.nodes.eachNode((n) => { if (n.account !== undefined) { accounts[n.id] = n.account; } });
        return { configs, accounts, dirty: RED.nodes.dirty() };
    });

    const deployedFlows = async () => (await (await fetch(`${nodeRed.baseUrl}/flows`, { headers: { 'Node-RED-API-Version': 'v1' } })).json());

    async function deploy() {
        await page.locator('#red-ui-header-button-deploy').click();
        await waitFor(async () => !(await page.evaluate(() => RED.nodes.dirty())), { what: 'the deploy to finish' });
    }

    before(async function () {
        this.timeout(120000);
        sim = new PrintFactorySimulator({ port: 0, misKeys: ['demo-mis-key'] });
        await sim.start();
        nodeRed = await startStockNodeRed({ flows: [] });
        browser = await launchBrowser();
        page = browser.page;
        page.on('pageerror', (err) => pageErrors.push(err));
        await page.goto(nodeRed.baseUrl + '/');
        await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType && RED.nodes.getType('printfactory-config') &&
            window.PrintEventsTwins && document.querySelector('#red-ui-palette-container') && RED.nodes.version() && RED.workspaces.active(),
        null, { timeout: 60000 });
    });

    afterEach(async function () {
        if (this.currentTest.state === 'failed' && page) {
            await screenshot(page, 'FAILED-twins-' + this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)).catch(() => undefined);
            console.log(`    Node-RED output (tail):\n${nodeRed.output().split('\n').slice(-20).join('\n')}`);
        }
    });

    after(async function () {
        this.timeout(60000);
        if (browser) { await browser.close(); }
        if (nodeRed) { await nodeRed.stop(); }
        if (sim) { await sim.stop(); }
    });

    let kept;
    let twin;
    let usersOf;

    it('imports two examples with twin configs and offers the merge in a notification; Merge re-points every user', async function () {
        const first = await importExample('01-printfactory-job-events.json');
        const second = await importExample('02-device-ink-monitoring.json');
        kept = first.find((n) => n.type === 'printfactory-config').id;
        twin = second.find((n) => n.type === 'printfactory-config').id;
        usersOf = {
            [kept]: first.filter((n) => n.account === kept).map((n) => n.id).sort(),
            [twin]: second.filter((n) => n.account === twin).map((n) => n.id).sort()
        };
        assert.deepStrictEqual((await workspace()).configs, usersOf, 'both configs with their own users before the merge');

        const mergeText = await page.evaluate((ns) => RED._(ns + 'merge'), NS);
        const notification = page.locator('.red-ui-notification').filter({ has: page.locator('button', { hasText: mergeText }) });
        await notification.first().waitFor({ state: 'visible', timeout: 10000 });
        await screenshot(page, 'twins-01-offer');
        await notification.first().locator('button', { hasText: mergeText }).click();
        await notification.first().waitFor({ state: 'hidden', timeout: 10000 });

        const after = await workspace();
        assert.deepStrictEqual(Object.keys(after.configs), [kept], 'one config node left: the one imported first');
        assert.deepStrictEqual(after.configs[kept], [...usersOf[kept], ...usersOf[twin]].sort(), 'the kept config lists every user');
        for (const id of [...usersOf[kept], ...usersOf[twin]]) { assert.strictEqual(after.accounts[id], kept, `${id} points at the kept config`); }
        assert.strictEqual(after.dirty, true, 'the workspace is marked changed');
        assert.deepStrictEqual((await deployedFlows()).filter((n) => n.type === 'printfactory-config'), [], 'nothing deployed yet');
    });

    it('Edit > Undo restores the twin and every pointer in one step', async function () {
        await page.evaluate(() => RED.actions.invoke('core:undo'));
        const undone = await workspace();
        assert.deepStrictEqual(undone.configs, usersOf, 'both configs, each with its own users again');
        for (const [config, users] of Object.entries(usersOf)) {
            for (const id of users) { assert.strictEqual(undone.accounts[id], config); }
        }
        const problems = await page.evaluate(() => {
            const list = [];
            RED.nodes.eachNode((n) => { if (n.account !== undefined && !n.valid) { list.push(n.id); } });
            return list;
        });
        assert.deepStrictEqual(problems, [], 'every user valid after the undo');
        // Edit > Redo merges again, Undo once more restores: the one event goes both ways.
        await page.evaluate(() => RED.actions.invoke('core:redo'));
        assert.deepStrictEqual(Object.keys((await workspace()).configs), [kept], 'redo merged again');
        await page.evaluate(() => RED.actions.invoke('core:undo'));
        assert.deepStrictEqual((await workspace()).configs, usersOf, 'undone again');
    });

    it('deploys the unmerged twins: they share one connection at the simulator', async function () {
        await deploy();
        const flows = await deployedFlows();
        assert.deepStrictEqual(flows.filter((n) => n.type === 'printfactory-config').map((n) => n.id).sort(), [kept, twin].sort());
        await waitFor(() => sim.connectionCount === 1, { what: 'the shared connection' });
    });

    it('after a reload (no MisKey in the editor), the dialog names the deployed twin; Merge, Deploy: one config, one connection', async function () {
        await page.reload();
        await page.waitForFunction((id) => window.RED && RED.nodes && RED.nodes.node(id) && window.PrintEventsTwins, kept, { timeout: 60000 });
        assert.strictEqual(await page.evaluate((id) => RED.nodes.node(id).credentials, kept), undefined, 'the editor holds no MisKey');
        await page.evaluate((id) => RED.editor.editConfig('', 'printfactory-config', id), kept);
        const notice = page.locator('#node-config-printfactory-config-twins');
        const mergeText = await page.evaluate((ns) => RED._(ns + 'merge'), NS);
        await notice.locator('button', { hasText: mergeText }).waitFor({ state: 'visible', timeout: 10000 });
        const twinLabel = await page.evaluate((id) => RED.utils.getNodeLabel(RED.nodes.node(id), id), twin);
        assert.ok((await notice.innerText()).includes(twinLabel), `the notice names the twin: ${await notice.innerText()}`);
        await screenshot(page, 'twins-02-dialog');
        await notice.locator('button', { hasText: mergeText }).click();
        await waitFor(async () => (await notice.innerText()).includes(await page.evaluate((ns) => RED._(ns + 'merged', { count: 1 }), NS)),
            { what: 'the notice to say it merged' });
        await page.locator('#node-config-dialog-ok').click();
        await page.locator('#node-config-printfactory-config-twins').waitFor({ state: 'detached', timeout: 10000 });

        const merged = await workspace();
        assert.deepStrictEqual(Object.keys(merged.configs), [kept]);
        await deploy();
        const flows = await deployedFlows();
        assert.deepStrictEqual(flows.filter((n) => n.type === 'printfactory-config').map((n) => n.id), [kept], 'one config deployed');
        const users = flows.filter((n) => n.account !== undefined);
        assert.ok(users.length >= 2 && users.every((n) => n.account === kept), 'every deployed user points at it');
        await waitFor(() => sim.connectionCount === 1, { what: 'one connection after the deploy' });
        // The deploy replaced the config nodes: still exactly one connection, never two at once.
        assert.ok(sim.peakConnections <= 1, `at most one connection at any time (peak ${sim.peakConnections})`);
    });

    it('offers the same for durst-subscriber twins (examples 03 and 04); undoing merge and imports leaves nothing', async function () {
        // Not deployed: the examples' Durst API is 127.0.0.1:8090, which this test does not run.
        const before = await page.evaluate(() => RED.nodes.dirty());
        const durstUsers = () => page.evaluate(() => {
            const configs = {};
            RED.nodes.eachConfig((n) => { if (n.type === 'durst-subscriber') { configs[n.id] = n.users.map((u) => u.id).sort(); } });
            return configs;
        });
        const first = await importExample('03-durst-production-job-status.json');
        const second = await importExample('04-durst-subscription-management.json');
        const keep = first.find((n) => n.type === 'durst-subscriber').id;
        const users = [...first, ...second].filter((n) => n.subscriber !== undefined).map((n) => n.id).sort();
        const mergeText = await page.evaluate(() => RED._('node-red-contrib-print-events/durst-subscriber:durst-subscriber.twins.merge'));
        const notification = page.locator('.red-ui-notification').filter({ has: page.locator('button', { hasText: mergeText }) });
        await notification.first().waitFor({ state: 'visible', timeout: 10000 });
        await notification.first().locator('button', { hasText: mergeText }).click();
        assert.deepStrictEqual(await durstUsers(), { [keep]: users }, 'one subscriber, used by every Durst node of both examples');
        for (let i = 0; i < 3; i++) { await page.evaluate(() => RED.actions.invoke('core:undo')); }
        assert.deepStrictEqual(await durstUsers(), {}, 'merge and both imports undone');
        assert.strictEqual(await page.evaluate(() => RED.nodes.dirty()), before, 'the workspace is as deployed again');
    });

    it('raised no script errors in the editor', function () {
        assert.deepStrictEqual(pageErrors.map((e) => e.message), []);
    });
});
