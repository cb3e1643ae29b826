'use strict';
/* global window, RED -- these run inside the editor page via page.evaluate */
// Issue #18's editor flow in a real browser against the demo: in the dialog of the deployed durst-subscriber,
// an unsaved Host URI, "Register / check", then Cancel. Durst's subscriber (read straight from the Durst
// simulator's API, logged in like a user) must be exactly what it was: the button only plans until confirmed.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startDemoInBrowser, screenshot, waitFor, reportFailure, closeBrowserAndDemo } = require('./harness');
const { DEMO_DURST_LOGIN } = require('../../dist/harness/demo/flows');
const { STATE_FILE_NAME } = require('../../dist/nodes/lib/durst/state-store');

describe('durst-subscriber "Register / check" in Chromium: nothing changes in Durst from an unsaved dialog', function () {
    this.timeout(60000);
    let demo;
    let browser;
    let page;
    const pageErrors = [];

    before(async function () {
        this.timeout(120000);
        ({ demo, browser, page } = await startDemoInBrowser(pageErrors, () => window.RED && RED.nodes && RED.nodes.getType &&
            RED.nodes.getType('durst-subscriber') && RED.nodes.filterNodes({ type: 'durst-webhook-in' }).length > 0));
    });

    afterEach(async function () {
        await reportFailure(this.currentTest, page, demo);
    });

    after(async function () {
        this.timeout(60000);
        await closeBrowserAndDemo(browser, demo);
    });

    const durstUrl = () => /Durst Workflow simulator:\s+(http:\/\/\S+)/.exec(demo.output())[1];

    /** The subscriber as Durst has it, read over its API after a login (v2), as any client would. */
    async function durstSubscriber(id) {
        const login = await fetch(`${durstUrl()}/api/v2/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: DEMO_DURST_LOGIN.user, password: DEMO_DURST_LOGIN.password }) });
        assert.strictEqual(login.status, 200, 'login to the Durst simulator');
        const res = await fetch(`${durstUrl()}/api/v1/subscribers/${encodeURIComponent(id)}`, { headers: { 'x-auth-token': login.headers.get('x-auth-token') } });
        assert.strictEqual(res.status, 200);
        return res.json();
    }

    /** The deployed config node, and the Durst subscriber id the runtime registered for it (its state file). */
    async function registered() {
        const stateFile = path.join(demo.userDir, STATE_FILE_NAME);
        let entry;
        await waitFor(() => {
            if (!fs.existsSync(stateFile)) { return false; }
            const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
            entry = Object.values(state.subscribers || {}).find((s) => s && s.id !== undefined && s.configNode);
            return !!entry;
        }, { what: 'the demo to register a Durst subscriber', timeoutMs: 30000 });
        return entry;
    }

    it('unsaved Host URI "node-red.local", Register / check, Cancel: Durst unchanged', async function () {
        const entry = await registered();
        const before = await durstSubscriber(entry.id);
        assert.match(before.hostUri, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'registered with one trailing "/"');

        // Open the dialog of that config node from the configuration sidebar.
        await page.evaluate(() => RED.sidebar.show('config'));
        const label = await page.evaluate((id) => RED.utils.getNodeLabel(RED.nodes.node(id), id), entry.configNode);
        const item = page.locator('#red-ui-sidebar-node-config li').filter({ has: page.locator('.red-ui-palette-node-config') }).filter({ hasText: label });
        await item.first().locator('.red-ui-palette-node-config').dblclick();
        const hostUri = page.locator('#node-config-input-hostUri');
        await hostUri.waitFor({ state: 'visible', timeout: 10000 });

        // The exact callback URL(s) Durst will call are shown: Host URI + each webhook's path.
        const urls = (await page.locator('#node-config-durst-subscriber-callback-urls code').allTextContents()).map((t) => t.trim());
        assert.ok(urls.length > 0 && urls.every((u) => u.startsWith(before.hostUri)), `callback URLs shown: ${urls.join(', ')}`);

        // A Host URI without a scheme: warned at once, and the button refuses it (400 from the runtime).
        await hostUri.fill('node-red.local');
        const warning = page.locator('#node-config-durst-subscriber-host-warning');
        await warning.waitFor({ state: 'visible', timeout: 5000 });
        assert.match(await warning.textContent(), /node-red\.local/);
        const result = page.locator('#node-config-durst-subscriber-register-result');
        await page.locator('#node-config-durst-subscriber-register').click();
        await waitFor(async () => /http:\/\/ or https:\/\//.test(await result.textContent()), { what: 'Register / check to refuse the Host URI' });
        await screenshot(page, 'durst-register-check-no-scheme');

        // An absolute one: the button shows what would change and waits for a decision; Cancel.
        await hostUri.fill('http://node-red.example:1880');
        await page.locator('#node-config-durst-subscriber-register').click();
        const plan = page.locator('.red-ui-notification').filter({ hasText: 'http://node-red.example:1880/' });
        await plan.first().waitFor({ state: 'visible', timeout: 15000 });
        assert.match(await plan.first().textContent(), new RegExp(`hostUri: ${before.hostUri.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} → http://node-red\\.example:1880/`));
        await screenshot(page, 'durst-register-check-plan');
        await plan.first().getByRole('button', { name: /^Cancel$/ }).click();
        await waitFor(async () => /Nothing was changed/.test(await result.textContent()), { what: 'the dialog to say nothing changed' });

        // Cancel the edit dialog itself: the flow keeps its Host URI, and Durst its subscriber.
        await page.locator('#node-config-dialog-cancel').click();
        await hostUri.waitFor({ state: 'detached', timeout: 10000 });
        const after = await durstSubscriber(entry.id);
        assert.deepStrictEqual(after, before, 'the subscriber in Durst is unchanged');
        const inFlow = await page.evaluate((id) => RED.nodes.node(id).hostUri, entry.configNode);
        assert.ok(!/node-red\.(local|example)/.test(inFlow), `the flow kept its Host URI (${inFlow})`);
    });

    it('raised no script errors in the editor', function () {
        assert.deepStrictEqual(pageErrors.map((e) => e.message), []);
    });
});
