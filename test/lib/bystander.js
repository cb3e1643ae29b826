'use strict';
// A loopback listener that must stay untouched: it counts TCP connections and keeps every byte sent, so a
// test can prove that no connection and no secret reached a URL the user did not deploy.
const net = require('net');

async function startBystander() {
    const bystander = { connections: 0, received: '' };
    const sockets = new Set();
    const server = net.createServer((socket) => {
        bystander.connections += 1;
        sockets.add(socket);
        socket.on('data', (chunk) => { bystander.received += chunk.toString('latin1'); });
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    bystander.port = server.address().port;
    bystander.stop = () => new Promise((resolve) => {
        for (const socket of sockets) { socket.destroy(); }
        server.close(resolve);
    });
    return bystander;
}

module.exports = { startBystander };
