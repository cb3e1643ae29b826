'use strict';
// A TCP relay on 127.0.0.1 in front of another local port, for a network partition that closes nothing:
// freeze() stops passing bytes both ways (the sockets stay open and the bytes wait, as on a link that went
// dark and TCP keeps retransmitting), thaw() passes them on again.
const net = require('net');

async function startTcpRelay(targetPort) {
    const pairs = new Set();
    let frozen = false;
    const server = net.createServer((inbound) => {
        const outbound = net.connect(targetPort, '127.0.0.1');
        const pair = { inbound, outbound };
        pairs.add(pair);
        inbound.pipe(outbound);
        outbound.pipe(inbound);
        if (frozen) { inbound.pause(); outbound.pause(); }
        const end = () => { inbound.destroy(); outbound.destroy(); pairs.delete(pair); };
        inbound.on('close', end);
        outbound.on('close', end);
        inbound.on('error', () => undefined);
        outbound.on('error', () => undefined);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        port: server.address().port,
        freeze() {
            frozen = true;
            for (const { inbound, outbound } of pairs) { inbound.unpipe(outbound); outbound.unpipe(inbound); inbound.pause(); outbound.pause(); }
        },
        thaw() {
            frozen = false;
            for (const { inbound, outbound } of pairs) { inbound.pipe(outbound); outbound.pipe(inbound); }
        },
        async stop() {
            for (const { inbound, outbound } of pairs) { inbound.destroy(); outbound.destroy(); }
            await new Promise((resolve) => server.close(resolve));
        }
    };
}

module.exports = { startTcpRelay };
