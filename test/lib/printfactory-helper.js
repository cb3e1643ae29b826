'use strict';
// The set-up of a test-helper suite with the PrintFactory nodes: the helper's server and a PrintFactory simulator on a
// loopback port that accepts `misKeys`. One start and one stop for every such suite.
const { PrintFactorySimulator } = require('../../dist/simulators/printfactory');

/** Starts the helper's server and a simulator; resolves the simulator. */
async function startPrintFactoryRig(helper, misKeys) {
    await helper.startServer();
    const sim = new PrintFactorySimulator({ port: 0, host: '127.0.0.1', misKeys });
    await sim.start();
    return sim;
}

/** Unloads the flows, stops the simulator and the helper's server. */
async function stopPrintFactoryRig(helper, sim) {
    await helper.unload();
    await sim.stop();
    await helper.stopServer();
}

module.exports = { startPrintFactoryRig, stopPrintFactoryRig };
