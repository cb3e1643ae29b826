'use strict';
// Loopback ports for the tests: one that is free, and whether something listens on one.
const net = require('net');

/**
 * A port that was free a moment ago: for a process that must come back on the same port after a restart, or a
 * port where nothing listens (connection refused).
 */
function freePort() {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once('error', reject);
        probe.listen(0, '127.0.0.1', () => {
            const { port } = probe.address();
            probe.close(() => resolve(port));
        });
    });
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function portOpen(port) {
    return new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => { socket.destroy(); resolve(true); });
        socket.once('error', () => resolve(false));
    });
}

module.exports = { freePort, portOpen };
