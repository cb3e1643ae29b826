'use strict';
// One HA lease participant in a process of its own (test/unit/printfactory-lease.test.js), so that a test can end
// it like a crash (SIGKILL: the OS closes its broker socket) or freeze it (SIGSTOP). Reports every decision over
// IPC as { decision, at }; { cmd: 'leave' } makes it leave the lease and exit.
// Usage: node lease-participant.js <brokerUrl> <misKey> <takeoverMs> <name>
const { PrintFactoryLease } = require('../../dist/nodes/lib/printfactory/lease');

const [brokerUrl, misKey, takeoverMs, name] = process.argv.slice(2);
const lease = new PrintFactoryLease({
    brokerUrl, misKey, takeoverMs: Number(takeoverMs), name,
    logger: { log: (text) => process.send({ log: text }), warn: (text) => process.send({ log: text, warn: true }) }
});
lease.join((decision) => process.send({ decision, at: Date.now() }));
process.on('message', (m) => {
    if (m && m.cmd === 'leave') { lease.leave().then(() => process.exit(0)); }
});
process.on('disconnect', () => process.exit(0));
