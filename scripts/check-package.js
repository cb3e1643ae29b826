#!/usr/bin/env node
// Checks the package the way a user gets it (run by .ci/run in both legs):
//   1. `npm pack` (prepack builds dist/), and the tarball holds every node's files but no
//      install-time script (preinstall, install, postinstall, prepare); of docs/ only what the README links
//      (its pictures, the user pages); at most MAX_PACKED_BYTES;
//   2. `npm install <tarball>` into a scratch Node-RED user directory prints no npm warning
//      (warnings about the machine's own npm config are not the package's and are ignored), and its bin
//      `print-events-simulators` runs;
//   3. a real Node-RED (the one this checkout's require('node-red') resolves to, so 4.1 or 5.x)
//      started on that user directory loads all five nodes from the installed copy, with their
//      editor HTML.
// Exits 0 and prints one summary line, or prints what is wrong and exits 1.
//
//   node scripts/check-package.js [--keep]   (--keep leaves the scratch directory in place)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn, spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const PKG = require(path.join(ROOT, 'package.json'));
const NODE_TYPES = Object.keys(PKG['node-red'].nodes);
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];
// npm's complaints about the machine's npmrc (e.g. "Unknown user config") say nothing about the package.
const MACHINE_CONFIG_WARNING = /Unknown (user|env|global|project|builtin|cli) config/i;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Packed on 2026-12-03: about 580 KB (the OK line prints it), 365 KB of it the README's two pictures (PNG, hardly
// compressible). The limit leaves room for the code to grow a little, not for shipping docs/, test material or more
// pictures again.
const MAX_PACKED_BYTES = 600 * 1024;

// Thrown, not process.exit(): the scratch directory is removed on the way out.
class CheckFailed extends Error {}
function fail(message) {
    throw new CheckFailed(message);
}

function npm(args, cwd) {
    const result = spawnSync(NPM, args, {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' }
    });
    if (result.error) { fail(`npm ${args.join(' ')}: ${result.error.message}`); }
    const output = `${result.stdout || ''}${result.stderr || ''}`;
    if (result.status !== 0) { fail(`npm ${args.join(' ')} exited ${result.status}:\n${output}`); }
    return { stdout: result.stdout || '', output };
}

function npmWarnings(output) {
    return output.split('\n').filter((l) => /^npm warn/i.test(l.trim()) && !MACHINE_CONFIG_WARNING.test(l));
}

function getJson(url, accept = 'application/json') {
    return new Promise((resolve, reject) => {
        http.get(url, { headers: { Accept: accept }, timeout: 30000 }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { text += c; });
            res.on('end', () => {
                if (res.statusCode !== 200) { reject(new Error(`GET ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`)); return; }
                try { resolve(accept === 'application/json' ? JSON.parse(text) : text); } catch (err) { reject(err); }
            });
        }).on('error', reject).on('timeout', function () { this.destroy(new Error(`GET ${url} timed out`)); });
    });
}

// The child is harness/child.ts (this checkout's dist/), run in the scratch user dir: Node-RED embedded on an
// ephemeral port, the editor's app only. It reports its port and version, and where the registry loaded our
// module from, over IPC.
const CHILD = path.join(ROOT, 'dist', 'harness', 'child.js');

function ask(child, message, timeoutMs = 20000) {
    const seq = Math.random();
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { child.off('message', onMessage); reject(new Error(`no answer to ${message.cmd}`)); }, timeoutMs);
        const onMessage = (m) => { if (m && m.reply === seq) { clearTimeout(timer); child.off('message', onMessage); resolve(m); } };
        child.on('message', onMessage);
        child.send({ ...message, seq });
    });
}

async function loadInNodeRed(userDir) {
    const child = spawn(process.execPath, [CHILD], {
        cwd: userDir,
        env: { ...process.env, USER_DIR: userDir, PORT: '0', LAYOUT: 'admin-only', PRINT_EVENTS_NODE_RED: path.join(ROOT, 'node_modules', 'node-red') },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    try {
        const started = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('Node-RED did not start within 90 s')), 90000);
            child.on('message', (m) => { if (m && m.port) { clearTimeout(timer); resolve(m); } });
            exited.then((code) => { clearTimeout(timer); reject(new Error(`Node-RED exited early (code ${code})`)); });
        });
        const { path: modulePath } = await ask(child, { cmd: 'moduleInfo', module: PKG.name });
        const ready = { port: started.port, nodeRed: started.nodeRed, modulePath };
        const base = `http://127.0.0.1:${ready.port}/`;
        const sets = await getJson(base + 'nodes');
        const html = await getJson(base + 'nodes', 'text/html');
        return { ...ready, sets: sets.filter((s) => s.module === PKG.name), html };
    } catch (err) {
        throw new Error(`${err.message}\n${output}`);
    } finally {
        if (child.exitCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
            await exited;
            clearTimeout(timer);
        }
    }
}

async function main() {
    const keep = process.argv.includes('--keep');
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-package-'));
    try {
        // 1. Pack (prepack builds dist/).
        const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch], ROOT).stdout)[0];
        const tarball = path.join(scratch, packed.filename);
        const files = new Set(packed.files.map((f) => f.path));
        const missing = [];
        for (const type of NODE_TYPES) {
            const js = PKG['node-red'].nodes[type];
            for (const f of [js, js.replace(/\.js$/, '.html'), path.posix.join(path.posix.dirname(js), 'locales', 'en-US', `${type}.json`)]) {
                if (!files.has(f)) { missing.push(f); }
            }
        }
        if (missing.length > 0) { fail(`the tarball lacks ${missing.join(', ')}`); }
        // Only what an installed package needs: the runtime, the simulators (the bin), the examples, the editor's shared
        // scripts (resources/, served by Node-RED), and of docs/ the README's pictures and pages it links (the flow
        // library shows the README).
        const readmeLinks = new Set([...fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]));
        const stray = [...files].filter((f) => !/^(dist\/(nodes|simulators)\/|examples\/|resources\/)/.test(f) &&
            !['package.json', 'README.md', 'LICENSE'].includes(f) && !readmeLinks.has(f));
        if (stray.length > 0) { fail(`the tarball ships files an installed package does not need: ${stray.join(', ')}`); }
        const pictures = [...readmeLinks].filter((f) => /\.(png|jpe?g|gif|svg|webp)$/i.test(f) && !files.has(f));
        if (pictures.length > 0) { fail(`the tarball lacks the README's pictures ${pictures.join(', ')}`); }
        if (!files.has(PKG.bin['print-events-simulators'])) { fail(`the tarball lacks the bin ${PKG.bin['print-events-simulators']}`); }
        if (packed.size > MAX_PACKED_BYTES) {
            fail(`the tarball is ${Math.round(packed.size / 1024)} KB, more than ${MAX_PACKED_BYTES / 1024} KB: ${[...packed.files]
                .sort((a, b) => b.size - a.size).slice(0, 5).map((f) => `${f.path} ${Math.round(f.size / 1024)} KB`).join(', ')}`);
        }
        const scripts = Object.keys(PKG.scripts || {}).filter((s) => INSTALL_SCRIPTS.includes(s));
        if (scripts.length > 0) { fail(`package.json has install-time scripts: ${scripts.join(', ')}`); }

        // 2. Install the tarball into a fresh user directory, as `npm install <tarball>` in ~/.node-red does.
        const userDir = path.join(scratch, 'userdir');
        fs.mkdirSync(userDir);
        fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', version: '0.0.1', private: true }, null, 2));
        const npmVersion = npm(['--version'], userDir).stdout.trim();
        const install = npm(['install', tarball], userDir);
        const warnings = npmWarnings(install.output);
        if (warnings.length > 0) { fail(`npm ${npmVersion} warned while installing the tarball:\n${warnings.join('\n')}`); }
        const installed = path.join(userDir, 'node_modules', PKG.name);
        if (fs.lstatSync(installed).isSymbolicLink()) { fail(`${installed} is a link, not an installed copy`); }
        // The bin the examples' comments name (`npx print-events-simulators` in the user dir) is installed and runs.
        const bin = spawnSync(path.join(userDir, 'node_modules', '.bin', 'print-events-simulators'), ['--help'], { encoding: 'utf8' });
        if (bin.status !== 0 || !/print-events-simulators/.test(bin.stdout)) {
            fail(`node_modules/.bin/print-events-simulators --help did not run: ${bin.error ? bin.error.message : `${bin.status} ${bin.stdout}${bin.stderr}`}`);
        }

        // 3. A real Node-RED loads all five nodes from that copy.
        const result = await loadInNodeRed(userDir);
        const loaded = new Map();
        for (const set of result.sets) {
            for (const type of set.types || []) { loaded.set(type, set); }
        }
        const problems = NODE_TYPES.map((type) => {
            const set = loaded.get(type);
            if (!set) { return `${type}: not registered`; }
            if (set.err) { return `${type}: ${set.err}`; }
            if (!set.enabled) { return `${type}: disabled`; }
            if (!new RegExp(`registerType\\(\\s*['"]${type}['"]`).test(result.html)) { return `${type}: no editor definition served`; }
            return null;
        }).filter(Boolean);
        if (problems.length > 0) { fail(`Node-RED ${result.nodeRed} did not load the installed package: ${problems.join('; ')}`); }
        if (!result.modulePath || path.resolve(result.modulePath) !== path.resolve(installed)) {
            fail(`Node-RED loaded ${PKG.name} from ${result.modulePath}, not from the installed tarball at ${installed}`);
        }
        console.log(`check-package: OK: ${packed.filename} (${files.size} files, ${Math.round(packed.size / 1024)} KB of at most ${MAX_PACKED_BYTES / 1024} KB, no install script) installed with npm ${npmVersion} ` +
            `without warnings; Node-RED ${result.nodeRed} on Node.js ${process.version} loaded all ${NODE_TYPES.length} nodes ` +
            `(${NODE_TYPES.join(', ')}) from it`);
    } finally {
        if (keep) { console.log('check-package: kept ' + scratch); } else { fs.rmSync(scratch, { recursive: true, force: true }); }
    }
}

main().catch((err) => {
    console.error('check-package: FAILED: ' + (err instanceof CheckFailed ? err.message : (err && err.stack) || String(err)));
    process.exitCode = 1;
});
