#!/usr/bin/env node
// Compiles the TypeScript sources into dist/ and copies the editor assets
// (node .html files and locale catalogues) next to the compiled node files,
// which is where Node-RED looks for them.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function copyAssets(srcDir, destDir) {
    if (!fs.existsSync(srcDir)) { return; }
    for (const entry of fs.readdirSync(srcDir, { withFileTypes: true })) {
        const src = path.join(srcDir, entry.name);
        const dest = path.join(destDir, entry.name);
        if (entry.isDirectory()) {
            copyAssets(src, dest);
        } else if (/\.(html|json)$/.test(entry.name)) {
            fs.mkdirSync(destDir, { recursive: true });
            fs.copyFileSync(src, dest);
        }
    }
}

// Node-RED looks for a node's icons in an icons/ folder beside its .js file.
function copyIcons() {
    const iconsDir = path.join(root, 'icons');
    const nodesDist = path.join(dist, 'nodes');
    if (!fs.existsSync(iconsDir) || !fs.existsSync(nodesDist)) { return; }
    for (const dir of fs.readdirSync(nodesDist, { withFileTypes: true })) {
        if (!dir.isDirectory() || dir.name === 'lib') { continue; }
        const dest = path.join(nodesDist, dir.name, 'icons');
        fs.mkdirSync(dest, { recursive: true });
        for (const icon of fs.readdirSync(iconsDir)) {
            fs.copyFileSync(path.join(iconsDir, icon), path.join(dest, icon));
        }
    }
}

let tsc;
try {
    tsc = require.resolve('typescript/bin/tsc');
} catch {
    // An install without devDependencies (e.g. --omit=dev): use the dist/ that is already there.
    // The published package runs no install-time script: it ships dist/ ready built (prepack builds it).
    if (fs.existsSync(path.join(dist, 'nodes'))) { process.exit(0); }
    console.error('build: typescript is not installed and dist/ is missing');
    process.exit(1);
}

// dist/ is not wiped first: a build during a running test must not pull files away from it.
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
copyAssets(path.join(root, 'nodes'), path.join(dist, 'nodes'));
copyIcons();
if (result.status !== 0) {
    console.error('build: tsc failed');
    process.exit(result.status || 1);
}
