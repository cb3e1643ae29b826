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
const tableWith = (key) => EXAMPLE.find((n) => n.type === 'ui-table' && n.columns.some((c) => c.key === key)).id;
const TABLES = { devices: tableWith('cyan'), jobs: tableWith('job'), durst: tableWith('printer'), workflows: tableWith('workflow') };
const STATE_TEXTS = EXAMPLE.filter((n) => n.type === 'ui-text' && n.label === 'State').map((n) => n.id);
const DEVICE_TEXT = EXAMPLE.find((n) => n.type === 'ui-text' && n.label === 'Device').id;
const PICKER = EXAMPLE.find((n) => n.type === 'ui-dropdown').id;
// The demo's simulated floor: its devices' names (what printfactory-api answers for their GUIDs).
const { PrintFloor } = require(path.join(ROOT, 'dist', 'simulators', 'printfactory'));
const DEVICE_NAMES = new PrintFloor().deviceInfo.map((d) => d.DeviceName);
const PHONE = { width: 390, height: 844 };
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

/**
 * Font sizes (px) in each gauge: its value, its title and its scale labels (0 / 100). The value must be the largest.
 */
function gaugeFontSizes(page) {
    return page.evaluate((ids) => ids.map((id) => {
        const el = document.getElementById('nrdb-ui-widget-' + id);
        const size = (node) => (node ? parseFloat(window.getComputedStyle(node).fontSize) : null);
        const labels = el ? [...el.querySelectorAll('#limits text')].filter((t) => window.getComputedStyle(t).visibility !== 'hidden') : [];
        return {
            id,
            value: size(el && el.querySelector('.nrdb-ui-gauge-value span')),
            title: size(el && el.querySelector('.nrdb-ui-gauge-title')),
            scale: labels.length ? Math.max(...labels.map(size)) : 0,
            width: el ? el.getBoundingClientRect().width : 0
        };
    }), GAUGES);
}

function assertValueLargest(sizes, where) {
    for (const g of sizes) {
        assert.ok(g.value !== null, `${where}: gauge ${g.id} shows its value (${g.width} px wide)`);
        assert.ok(g.value > g.scale && g.value > (g.title || 0), `${where}: gauge ${g.id} value ${g.value} px, scale ${g.scale} px, title ${g.title} px`);
    }
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

    it('the device picker lists every device by name; picking one shows its card', async function () {
        const deviceText = () => page.evaluate((id) => {
            const el = document.querySelector('#nrdb-ui-widget-' + id + ' .nrdb-ui-text-value');
            return el ? el.textContent.trim() : '';
        }, DEVICE_TEXT);
        await waitFor(async () => {
            const text = await deviceText();
            return DEVICE_NAMES.some((name) => text.startsWith(name));
        }, { timeoutMs: 60000, what: 'a device name on the card' });
        const before = await deviceText();
        const other = DEVICE_NAMES.find((name) => !before.startsWith(name));
        await page.click('#nrdb-ui-widget-' + PICKER + ' .v-field');
        const items = await waitFor(async () => {
            const texts = await page.evaluate(() => [...document.querySelectorAll('.v-overlay-container .v-list-item-title')].map((e) => e.textContent.trim()));
            return DEVICE_NAMES.every((name) => texts.includes(name)) ? texts : null;
        }, { timeoutMs: 30000, what: 'every device name in the picker' });
        assert.deepStrictEqual([...items].sort(), [...DEVICE_NAMES].sort(), 'names, not GUIDs');
        await page.click(`.v-overlay-container .v-list-item-title:text-is("${other}")`);
        await waitFor(async () => (await deviceText()).startsWith(other), { timeoutMs: 30000, what: `the card of ${other}` });
        const gauges = await waitFor(async () => {
            const g = await readGauges(page);
            return Object.values(g).every((x) => x.value !== null) ? g : null;
        }, { timeoutMs: 30000, what: 'gauges of the picked device' });
        assert.strictEqual(Object.keys(gauges).length, 4);
    });

    it('the gauge value is the largest text in every gauge', async function () {
        assertValueLargest(await gaugeFontSizes(page), `${1600} px wide`);
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
            const devices = await readTable(page, TABLES.devices);
            const jobs = await readTable(page, TABLES.jobs);
            const durst = await readTable(page, TABLES.durst);
            const workflows = await readTable(page, TABLES.workflows);
            return devices && devices.length >= 3 && jobs && jobs.length >= 5 && durst && durst.length >= 2 && workflows && workflows.length >= 2
                ? { devices, jobs, durst, workflows } : null;
        }, { timeoutMs: 60000, what: 'rows in the four tables' });
        // Devices: one row per device, by name; queue in words; ink bars.
        assert.deepStrictEqual(tables.devices.map((r) => r[0]).sort(), [...DEVICE_NAMES].sort());
        for (const [, state, , temperature, queue, ...inks] of tables.devices) {
            assert.match(state, /^(Printing|Idle|Error)$/);
            assert.match(temperature, /^\d+ °C$/);
            assert.match(queue, /^(1 sheet|\d+ sheets)$/);
            assert.strictEqual(inks.filter((c) => typeof c === 'object' && c.progress >= 0 && c.progress <= 100).length, 4);
        }
        // Job events: time, event, the job's name (not its GUID), device name, state.
        for (const [time, event, job, device, state] of tables.jobs) {
            assert.match(time, /^\d\d:\d\d:\d\d$/);
            assert.match(event, /^(job|nester)\./);
            assert.ok(job.length > 0 && !/^[0-9a-f-]{36}$/.test(job), job);
            assert.ok(job === 'not a print job' ? device === '' : DEVICE_NAMES.includes(device), `${job}: ${device}`);
            assert.ok(job === 'not a print job' || /^(Error|Waiting|InProgress|PrintRequest|Completed)$/.test(state), state);
        }
        assert.ok(tables.jobs.some((r) => DEVICE_NAMES.includes(r[3])), 'rows name their devices');
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

    it(`on a phone (${PHONE.width} px wide) the tables fit the screen, rows become cards, and the gauge value stays the largest text`, async function () {
        const phone = await browser.context.newPage();
        phone.on('pageerror', (err) => pageErrors.push(err));
        try {
            await phone.setViewportSize(PHONE);
            await phone.goto(dashboardUrl);
            await waitFor(async () => {
                const devices = await phone.evaluate((id) => document.querySelectorAll('#nrdb-ui-widget-' + id + ' tbody tr').length, TABLES.devices);
                const jobs = await phone.evaluate((id) => document.querySelectorAll('#nrdb-ui-widget-' + id + ' tbody tr').length, TABLES.jobs);
                return devices >= 3 && jobs >= 3;
            }, { timeoutMs: 60000, what: 'rows on the phone' });
            const layout = await phone.evaluate((ids) => ({
                pageWidth: document.documentElement.scrollWidth,
                tables: ids.map((id) => {
                    const el = document.getElementById('nrdb-ui-widget-' + id);
                    const box = el.getBoundingClientRect();
                    const cells = [...el.querySelectorAll('tbody td')];
                    return {
                        id,
                        right: box.right,
                        scrolls: el.querySelector('.v-table__wrapper') ? el.querySelector('.v-table__wrapper').scrollWidth > el.querySelector('.v-table__wrapper').clientWidth + 1 : false,
                        mobile: el.querySelectorAll('.v-data-table__tr--mobile, .v-data-table--mobile').length > 0,
                        clipped: cells.filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.textContent.trim()).slice(0, 3)
                    };
                })
            }), Object.values(TABLES));
            assert.ok(layout.pageWidth <= PHONE.width + 1, `the page is ${layout.pageWidth} px wide`);
            for (const t of layout.tables) {
                assert.ok(t.right <= PHONE.width + 1, `table ${t.id} ends at ${t.right} px`);
                assert.ok(!t.scrolls, `table ${t.id} scrolls sideways`);
                assert.ok(t.mobile, `table ${t.id} shows its rows as cards`);
                assert.deepStrictEqual(t.clipped, [], `table ${t.id}: cells cut off`);
            }
            await phone.waitForFunction((count) => document.querySelectorAll('.nrdb-ui-gauge-value span').length === count, GAUGES.length, { timeout: 30000 });
            assertValueLargest(await gaugeFontSizes(phone), `${PHONE.width} px wide`);
            await screenshot(phone, '21-dashboard-phone');
        } finally {
            await phone.close();
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
                // The dashboard example's tab: the one with the gauges (tabs carry the examples' titles).
                RED.nodes.eachWorkspace((ws) => { if (!id && RED.nodes.filterNodes({ z: ws.id, type: 'ui-gauge' }).length > 0) { id = ws.id; } });
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
