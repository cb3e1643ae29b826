'use strict';
/* global document, window, RED -- these run inside the pages via page.evaluate / waitForFunction */
// Example 06 in a real browser: `npm start` (harness/demo.ts) deploys the print-floor dashboard built from
// FlowFuse Dashboard 2.0 widgets, the simulators feed it, and Debian's Chromium (no network) shows it.
// Also takes the README's two pictures; they are written to docs/images/ only with PRINT_EVENTS_UPDATE_IMAGES=1
// (a test run must not change tracked files), else to test-artifacts/e2e/.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { ROOT, ARTIFACTS, startDemo, launchBrowser, screenshot, waitFor, reportFailure, closeBrowserAndDemo } = require('./harness');

const EXAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', '06-print-floor-dashboard.json'), 'utf8'));
const GAUGES = EXAMPLE.filter((n) => n.type === 'ui-gauge').map((n) => n.id);
const TABLES = {
    jobs: EXAMPLE.find((n) => n.type === 'ui-table' && n.columns.some((c) => c.title === 'JobGUID')).id,
    durst: EXAMPLE.find((n) => n.type === 'ui-table' && n.columns.some((c) => c.key === 'printer')).id,
    workflows: EXAMPLE.find((n) => n.type === 'ui-table' && n.columns.some((c) => c.type === 'progress')).id
};
const STATE_TEXTS = EXAMPLE.filter((n) => n.type === 'ui-text' && n.label === 'State').map((n) => n.id);
const IMAGES = process.env.PRINT_EVENTS_UPDATE_IMAGES === '1' ? path.join(ROOT, 'docs', 'images') : ARTIFACTS;

/** Gauge widget id -> { title, value } as the browser shows them (value null while it shows no number). */
function readGauges(page) {
    return page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
        const el = document.getElementById('nrdb-ui-widget-' + id);
        const title = el && el.querySelector('.nrdb-ui-gauge-title');
        const value = el && el.querySelector('.nrdb-ui-gauge-value');
        const m = value ? /^\s*(\d+)\s*%\s*$/.exec(value.textContent) : null;
        return [id, { title: title ? title.textContent.trim() : null, value: m ? Number(m[1]) : null }];
    })), GAUGES);
}

/** Table widget id -> its body rows as arrays of cell texts (plus progress bar values). */
function readTable(page, id) {
    return page.evaluate((widgetId) => {
        const el = document.getElementById('nrdb-ui-widget-' + widgetId);
        if (!el) { return null; }
        return [...el.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => {
            const bar = td.querySelector('[role="progressbar"]');
            return bar ? { progress: Number(bar.getAttribute('aria-valuenow')) } : td.textContent.trim();
        })).filter((cells) => cells.length > 1);
    }, id);
}

describe('print floor dashboard (example 06) in Chromium', function () {
    this.timeout(90000);
    let demo;
    let browser;
    let page;
    let dashboardUrl;
    const requests = [];
    const pageErrors = [];

    before(async function () {
        this.timeout(150000);
        demo = await startDemo();
        const m = /Print floor dashboard:\s+(http:\/\/\S+)/.exec(demo.output());
        assert.ok(m, `npm start prints the dashboard URL:\n${demo.output()}`);
        dashboardUrl = m[1];
        browser = await launchBrowser();
        page = browser.page;
        browser.context.on('request', (req) => requests.push(req.url()));
        page.on('pageerror', (err) => pageErrors.push(err));
        await page.goto(dashboardUrl);
    });

    afterEach(async function () {
        await reportFailure(this.currentTest, page, demo, 'FAILED-dashboard-');
    });

    after(async function () {
        this.timeout(60000);
        await closeBrowserAndDemo(browser, demo);
    });

    it('shows a number on every ink gauge, labelled with the ink names of device.status', async function () {
        await page.waitForFunction((count) => document.querySelectorAll('.nrdb-ui-gauge').length === count, GAUGES.length, { timeout: 60000 });
        const gauges = await waitFor(async () => {
            const g = await readGauges(page);
            return Object.values(g).every((x) => x.value !== null && /^(Cyan|Magenta|Yellow|Black)$/.test(x.title)) ? g : null;
        }, { timeoutMs: 60000, what: 'a percentage and an ink name on every gauge' });
        for (const { value } of Object.values(gauges)) { assert.ok(value >= 0 && value <= 100, `gauge value ${value}`); }
    });

    it('the gauge numbers change as the simulated devices print and get refilled', async function () {
        const before = await readGauges(page);
        const changed = await waitFor(async () => {
            const now = await readGauges(page);
            const moved = GAUGES.filter((id) => now[id].value !== null && now[id].value !== before[id].value);
            return moved.length >= 2 ? moved : null;
        }, { timeoutMs: 60000, what: 'gauge values to change' });
        assert.ok(changed.length >= 2);
    });

    it('each device card shows its state as a coloured chip', async function () {
        const chips = await waitFor(async () => {
            const found = await page.evaluate((ids) => ids.map((id) => {
                const el = document.getElementById('nrdb-ui-widget-' + id);
                const value = el && el.querySelector('.nrdb-ui-text-value');
                return el && value ? { state: value.textContent.trim(), background: window.getComputedStyle(el).backgroundColor } : null;
            }), STATE_TEXTS);
            return found.every((c) => c && /^(Printing|Idle|Error)$/.test(c.state)) ? found : null;
        }, { timeoutMs: 30000, what: 'a state on every device card' });
        for (const chip of chips) {
            assert.ok(!/^rgba\(0, 0, 0, 0\)$|^transparent$/.test(chip.background), `the ${chip.state} chip has a colour`);
        }
    });

    it('the job event, Durst job and workflow tables fill with live rows', async function () {
        const tables = await waitFor(async () => {
            const jobs = await readTable(page, TABLES.jobs);
            const durst = await readTable(page, TABLES.durst);
            const workflows = await readTable(page, TABLES.workflows);
            return jobs && jobs.length >= 5 && durst && durst.length >= 2 && workflows && workflows.length >= 2
                ? { jobs, durst, workflows } : null;
        }, { timeoutMs: 60000, what: 'rows in the three tables' });
        // Job events: time, event, JobGUID, status.
        for (const [time, event, guid] of tables.jobs) {
            assert.match(time, /^\d\d:\d\d:\d\d$/);
            assert.match(event, /^(job|nester)\./);
            assert.match(guid, /^[0-9a-f-]{36}$/);
        }
        // Durst: production job id -> latest status, printer name, time; one row per job.
        const ids = tables.durst.map((r) => r[0]);
        assert.strictEqual(new Set(ids).size, ids.length, 'one row per production job');
        for (const [id, status, printer] of tables.durst) {
            assert.match(id, /^\d+$/);
            assert.match(status, /^[A-Z_]+$/);
            assert.ok(printer.length > 0);
        }
        // Workflows: a progress bar per workflow.
        for (const row of tables.workflows) {
            const bar = row.find((c) => typeof c === 'object');
            assert.ok(bar && bar.progress >= 0 && bar.progress <= 100, JSON.stringify(row));
        }
    });

    it('loads nothing from outside Node-RED (the browser has no network) and throws no page errors', async function () {
        const origin = new URL(dashboardUrl).origin;
        const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !/^(data|blob):/.test(u));
        assert.deepStrictEqual(foreign, [], 'requests that left Node-RED');
        assert.ok(requests.length > 0);
        assert.deepStrictEqual(pageErrors.map((e) => e.message), []);
    });

    it('takes the README picture of the dashboard (dashboard.png)', async function () {
        // A picture worth showing: every table has several rows and the cards show their devices.
        await waitFor(async () => {
            const jobs = await readTable(page, TABLES.jobs);
            const durst = await readTable(page, TABLES.durst);
            return jobs && jobs.length >= 8 && durst && durst.length >= 3;
        }, { timeoutMs: 60000, what: 'full tables for the picture' });
        fs.mkdirSync(IMAGES, { recursive: true });
        const file = path.join(IMAGES, 'dashboard.png');
        await page.screenshot({ path: file, fullPage: true });
        assert.ok(fs.statSync(file).size > 20000, 'a real picture');
        await screenshot(page, '20-dashboard');
    });

    it('takes the README picture of the editor with the dashboard flow (editor.png)', async function () {
        const editor = await browser.context.newPage();
        editor.on('pageerror', (err) => pageErrors.push(err));
        try {
            await editor.goto(demo.editorUrl);
            await editor.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType && RED.nodes.getType('printfactory-notification') &&
                RED.nodes.getType('ui-gauge') && RED.nodes.filterNodes({ type: 'ui-gauge' }).length > 0 &&
                document.querySelector('#red-ui-palette-container'), null, { timeout: 60000 });
            const tab = await editor.evaluate(() => {
                let id = null;
                RED.nodes.eachWorkspace((ws) => { if (/^06-/.test(ws.label)) { id = ws.id; } });
                if (id) { RED.workspaces.show(id); }
                // Open our palette category and scroll to it, so the picture shows the package's nodes.
                const header = document.querySelector('#red-ui-palette-container-print_events .red-ui-palette-header');
                const content = document.querySelector('#red-ui-palette-base-category-print_events');
                if (header && content && content.offsetParent === null) { header.click(); }
                const category = document.querySelector('#red-ui-palette-container-print_events');
                if (category) { category.scrollIntoView({ block: 'start' }); }
                // The workspace gets the sidebar's room.
                if (document.querySelector('#red-ui-sidebar') && document.querySelector('#red-ui-sidebar').offsetParent !== null) {
                    RED.actions.invoke('core:toggle-sidebar');
                }
                return id;
            });
            assert.ok(tab, 'the dashboard example has its own tab');
            // The whole flow fits the picture.
            await editor.evaluate(() => { for (let i = 0; i < 2; i++) { RED.actions.invoke('core:zoom-out'); } });
            await editor.waitForFunction(() => document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node-group, #red-ui-workspace-chart g.red-ui-flow-node').length > 20,
                null, { timeout: 30000 });
            // Nodes of the dashboard example render without the "unknown node" or error marks.
            const invalid = await editor.evaluate(() => RED.nodes.filterNodes({ z: RED.workspaces.active() }).filter((n) => !n.valid || n.type === 'unknown').map((n) => n.type));
            assert.deepStrictEqual(invalid, []);
            fs.mkdirSync(IMAGES, { recursive: true });
            const file = path.join(IMAGES, 'editor.png');
            await editor.screenshot({ path: file });
            assert.ok(fs.statSync(file).size > 20000, 'a real picture');
        } finally {
            await editor.close();
        }
        assert.deepStrictEqual(pageErrors.map((e) => e.message), []);
    });
});
