'use strict';
// Shared pieces of the browser tests: the demo as a child process and Debian's Chromium.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { waitFor: waitUntil } = require('../lib/wait');

const ROOT = path.resolve(__dirname, '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Starts the demo (dist/harness/demo.js) exactly as `npm start` does (minus the build), on ephemeral ports
 * and a throw-away user dir. Resolves once the demo printed its editor URL.
 */
function startDemo({ userDir, env = {}, timeoutMs = 60000 } = {}) {
    const dir = userDir || fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-e2e-userdir-'));
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'harness', 'demo.js')], {
        cwd: ROOT,
        env: {
            ...process.env,
            HOST: '127.0.0.1',
            PORT: '0',
            PF_SIM_PORT: '0',
            DURST_SIM_PORT: '0',
            MQTT_PORT: '0',
            DEMO_USER_DIR: dir,
            PF_TRICKLE_MS: '1000',
            DURST_TRICKLE_MS: '1000',
            NODE_RED_LOG_LEVEL: 'warn',
            ...env
        },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    let output = '';
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    const ready = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo did not print its editor URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
        const onData = (chunk) => {
            output += chunk.toString();
            const m = /Node-RED editor:\s+(http:\/\/\S+)/.exec(output);
            if (m && /Runtime:\s+Node-RED \S+ on Node\.js \S+/.test(output)) {
                clearTimeout(timer);
                resolve(m[1]);
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', (chunk) => { output += chunk.toString(); });
        exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`demo exited early (code ${code}, signal ${signal}):\n${output}`));
        });
    });

    const demo = {
        userDir: dir,
        child,
        exited,
        output: () => output,
        /** { nodeRed, node } as the demo process printed them in its banner (null before that). */
        runtime() {
            const m = /Runtime:\s+Node-RED (\S+) on Node\.js (\S+)/.exec(output);
            return m ? { nodeRed: m[1], node: m[2] } : null;
        },
        async stop() {
            if (child.exitCode !== null || child.signalCode !== null) { return exited; }
            child.kill('SIGTERM');
            const killTimer = setTimeout(() => child.kill('SIGKILL'), 25000);
            const result = await exited;
            clearTimeout(killTimer);
            return result;
        }
    };
    return ready.then((editorUrl) => { demo.editorUrl = editorUrl; return demo; },
        async (err) => { await demo.stop(); throw err; });
}

async function launchBrowser() {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} not found: install Debian's Chromium with ` +
            '"apt-get update && apt-get install -y chromium" (the tests never download a browser)');
    }
    const { chromium } = require('playwright-core');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-e2e-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1600, height: 1000 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run']
    });
    const page = context.pages()[0] || await context.newPage();
    return {
        context,
        page,
        async close() {
            await context.close();
            fs.rmSync(profile, { recursive: true, force: true });
        }
    };
}

async function screenshot(page, name) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
}

/** After a failed test: a screenshot of the page and the tail of the demo's output, for the CI log. */
async function reportFailure(test, page, demo, prefix = 'FAILED-') {
    if (test.state !== 'failed' || !page) { return; }
    await screenshot(page, prefix + test.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)).catch(() => undefined);
    console.log(`    demo output (tail):\n${demo.output().split('\n').slice(-40).join('\n')}`);
}

/** Closes the browser and stops the demo: a clean stop (Ctrl+C leaves nothing behind) is part of its contract. */
async function closeBrowserAndDemo(browser, demo) {
    if (browser) { await browser.close(); }
    if (demo) {
        const { code, signal } = await demo.stop();
        assert.ok(code === 0 || signal === 'SIGTERM', `demo did not stop cleanly: code ${code} signal ${signal}\n${demo.output()}`);
        fs.rmSync(demo.userDir, { recursive: true, force: true });
    }
}

/**
 * The demo and a browser on its editor, once the page function `ready(arg)` holds (60 s at most); the page's script
 * errors are collected in `pageErrors`. Resolves { demo, browser, page }.
 */
async function startDemoInBrowser(pageErrors, ready, arg) {
    const demo = await startDemo();
    const browser = await launchBrowser();
    const page = browser.page;
    page.on('pageerror', (err) => pageErrors.push(err));
    await page.goto(demo.editorUrl);
    await page.waitForFunction(ready, arg, { timeout: 60000 });
    return { demo, browser, page };
}

/**
 * test/lib/wait.js's waitFor for page reads: a throw (an element not there yet) counts as "not yet"; a timeout names
 * the last one. Resolves fn's truthy value.
 */
function waitFor(fn, { timeoutMs = 20000, intervalMs = 250, what = 'condition' } = {}) {
    let lastError;
    const attempt = async () => { try { return await fn(); } catch (err) { lastError = err; return false; } };
    return waitUntil(attempt, what, timeoutMs, { intervalMs, detail: () => (lastError ? lastError.message : '') });
}

module.exports = { ROOT, ARTIFACTS, startDemo, launchBrowser, startDemoInBrowser, screenshot, waitFor, reportFailure, closeBrowserAndDemo };
