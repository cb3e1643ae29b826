'use strict';
// Which Node.js and which Node-RED the tests really run on: the Node-RED that
// require('node-red') resolves to from this checkout, which is what every test file,
// the test helper and the demo (harness/demo.ts) load. .ci/run runs the suites on two of them and
// sets PRINT_EVENTS_EXPECT_NODE / PRINT_EVENTS_EXPECT_NODE_RED, so a leg that silently
// resolved the wrong one fails instead of passing on the other version.
const path = require('path');

function nodeRedPackage() {
    const file = require.resolve('node-red/package.json');
    return { version: require(file).version, dir: path.dirname(file) };
}

// Test files also load core nodes and runtime parts directly (e.g. require('@node-red/nodes/...')).
const PARTS = ['@node-red/runtime', '@node-red/registry', '@node-red/nodes', '@node-red/util',
    '@node-red/editor-api', '@node-red/editor-client'];

/** Throws when an @node-red/* part that resolves from the checkout is another release than node-red itself. */
function checkPartsMatch(nodeRedVersion = nodeRedPackage().version) {
    const mixed = [];
    for (const part of PARTS) {
        let version;
        try { version = require(require.resolve(`${part}/package.json`)).version; } catch { continue; }
        if (version !== nodeRedVersion) { mixed.push(`${part} ${version}`); }
    }
    if (mixed.length > 0) {
        throw new Error(`mixed Node-RED install: node-red ${nodeRedVersion} but ${mixed.join(', ')}`);
    }
}

/** "1.2" matches 1.2.x, "1" matches 1.x.y; a leading "v" is ignored on both sides. */
function versionMatches(actual, prefix) {
    const a = String(actual).replace(/^v/, '').split(/[.-]/);
    const p = String(prefix).replace(/^v/, '').split('.');
    return p.every((part, i) => a[i] === part);
}

function expectations(env = process.env) {
    return { node: env.PRINT_EVENTS_EXPECT_NODE || '', nodeRed: env.PRINT_EVENTS_EXPECT_NODE_RED || '' };
}

/** Throws when the running Node.js or the given Node-RED version is not the one the environment asks for. */
function checkExpected({ nodeVersion = process.version, nodeRedVersion }, env = process.env) {
    const expected = expectations(env);
    const wrong = [];
    if (expected.node && !versionMatches(nodeVersion, expected.node)) {
        wrong.push(`Node.js ${nodeVersion} (expected ${expected.node}.x)`);
    }
    if (expected.nodeRed && !versionMatches(nodeRedVersion, expected.nodeRed)) {
        wrong.push(`Node-RED ${nodeRedVersion} (expected ${expected.nodeRed}.x)`);
    }
    if (wrong.length > 0) {
        throw new Error('tests run on the wrong runtime: ' + wrong.join(', '));
    }
}

/** One line for the logs; .ci/run collects these lines into its summary. */
function describeRuntime() {
    const nr = nodeRedPackage();
    return `print-events runtime: Node.js ${process.version}, Node-RED ${nr.version} (${nr.dir})`;
}

module.exports = { nodeRedPackage, versionMatches, checkExpected, checkPartsMatch, describeRuntime };
