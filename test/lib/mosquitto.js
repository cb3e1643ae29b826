'use strict';
// Debian's Mosquitto (/usr/sbin/mosquitto, `apt-get install mosquitto`; .ci/run installs it) as a second, real
// MQTT broker beside Aedes: on 127.0.0.1 only, anonymous, no persistence (a restart loses retained messages), its
// own config in a temp dir. restart() stops it and starts it again on the same port.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { freePort, portOpen } = require('./ports');
const { sleep, waitFor } = require('./wait');

const MOSQUITTO = process.env.MOSQUITTO_BIN || '/usr/sbin/mosquitto';

/** Why Mosquitto cannot run here, or null when it can. */
function mosquittoMissing() {
    try { fs.accessSync(MOSQUITTO, fs.constants.X_OK); return null; } catch { return `${MOSQUITTO} not installed (apt-get install mosquitto)`; }
}

async function startMosquitto({ port: fixedPort = 0 } = {}) {
    const port = fixedPort || await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-mosquitto-'));
    const conf = path.join(dir, 'mosquitto.conf');
    fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'));
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(conf, 0o644);
    let child = null;
    let output = '';
    async function up() {
        child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (c) => { output += c; });
        child.stderr.on('data', (c) => { output += c; });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.exited = exited;
        await waitFor(async () => child.exitCode !== null || await portOpen(port), 'mosquitto listening', 10000, { intervalMs: 50 });
        if (child.exitCode !== null) { throw new Error(`mosquitto exited (code ${child.exitCode}):\n${output}`); }
    }
    async function down(signal = 'SIGTERM') {
        if (child && child.exitCode === null && child.signalCode === null) {
            child.kill(signal);
            await child.exited;
        }
    }
    await up();
    return {
        port,
        url: `mqtt://127.0.0.1:${port}`,
        output: () => output,
        async restart({ downMs = 0 } = {}) {
            await down('SIGKILL');
            if (downMs > 0) { await sleep(downMs); } // a duration: how long the broker stays down is the caller's test
            await up();
        },
        stopBroker: () => down('SIGKILL'),
        startBroker: up,
        async stop() {
            await down();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };
}

module.exports = { startMosquitto, mosquittoMissing };
