'use strict';
// The set-up of a test-helper suite with the Durst nodes: the helper's server with the suite's settings (and a user
// dir of its own where the suite needs one), RED.httpNode served on a loopback port (so the simulator's callbacks
// reach durst-webhook-in over a real socket) and a Durst simulator. One start and one stop for every such suite.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { DurstSimulator } = require('../../dist/simulators/durst');
const { serveHttpNode } = require('./http-node-server');

/**
 * Starts it all. `getRED` (returns the RED the suite captured; requests before that get 404): serve RED.httpNode;
 * `userDir` (a name prefix): a fresh user dir in the settings; `simOptions` (default: no API login; false: none, the
 * suite starts its own). Resolves { sim, httpNode, hostUri (ending in "/"), userDir }.
 */
async function startDurstRig(helper, { settings = {}, getRED, userDir, simOptions = {} }) {
    const rig = { userDir: userDir ? fs.mkdtempSync(path.join(os.tmpdir(), `print-events-${userDir}-`)) : undefined };
    helper.settings(rig.userDir ? { ...settings, userDir: rig.userDir } : settings);
    await helper.startServer();
    if (getRED) {
        rig.httpNode = await serveHttpNode(getRED);
        rig.hostUri = rig.httpNode.base + '/';
    }
    if (simOptions) {
        rig.sim = new DurstSimulator({ apiAuth: { type: 'none' }, ...simOptions });
        await rig.sim.start();
    }
    return rig;
}

/** Unloads the flows and stops and removes what startDurstRig started (`sim` may be one the suite started instead). */
async function stopDurstRig(helper, { sim, httpNode, userDir }) {
    await helper.unload();
    if (sim) { await sim.stop(); }
    if (httpNode) { await httpNode.close(); }
    await helper.stopServer();
    helper.settings({});
    if (userDir) { fs.rmSync(userDir, { recursive: true, force: true }); }
}

module.exports = { startDurstRig, stopDurstRig };
