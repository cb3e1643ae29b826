'use strict';
// A real squid forward proxy (Debian's squid package) for the proxy tests. Each instance gets its own
// config, port on 127.0.0.1, logs, password file and hosts file in a fresh temp dir and runs in the
// foreground (-N) as a child of the test process; nothing is written to system paths. Host names the
// tests use are resolved by squid from its own hosts file (squid's `hosts_file`), so targets are names,
// not loopback literals, and /etc/hosts is never touched. DNS look-ups go to 127.0.0.1 only.
const { execFileSync, spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const SQUID = process.env.SQUID_PATH || '/usr/sbin/squid';
const NCSA_AUTH = '/usr/lib/squid/basic_ncsa_auth';

function squidMissing() {
    if (!fs.existsSync(SQUID)) { return `${SQUID} not found: install Debian's squid (apt-get install -y squid)`; }
    if (!fs.existsSync(NCSA_AUTH)) { return `${NCSA_AUTH} not found (part of Debian's squid package)`; }
    return undefined;
}

function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

function canConnect(port) {
    return new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => { socket.destroy(); resolve(true); });
        socket.once('error', () => resolve(false));
    });
}

const { waitFor } = require('./wait');

/**
 * Starts squid. `user`/`password`: Basic auth required (else open to 127.0.0.1). `sslPorts`: the ports CONNECT
 * may reach (stock squid: 443 only). `hosts`: names that resolve to 127.0.0.1 for squid.
 */
async function startSquid({ user, password, sslPorts = '443 1025-65535', hosts = [] } = {}) {
    const missing = squidMissing();
    if (missing) { throw new Error(missing); }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-squid-'));
    // Started as root, squid drops to the `proxy` user: it must be able to write its logs here.
    fs.chmodSync(dir, 0o777);
    const file = (name) => path.join(dir, name);
    const port = await freePort();
    fs.writeFileSync(file('hosts'), `127.0.0.1 ${hosts.join(' ')}\n`);
    const lines = [
        `http_port 127.0.0.1:${port}`,
        'visible_hostname print-events-test-proxy',
        `pid_filename ${file('squid.pid')}`,
        // squid's native format plus the client's source port, so tests can tell connection reuse apart.
        'logformat squidport %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt %>p',
        `access_log stdio:${file('access.log')} squidport`,
        `cache_log ${file('cache.log')}`,
        'cache_store_log none',
        'logfile_rotate 0',
        `coredump_dir ${dir}`,
        'cache deny all',
        'cache_mem 8 MB',
        'pinger_enable off',
        `hosts_file ${file('hosts')}`,
        'dns_nameservers 127.0.0.1',
        'shutdown_lifetime 0 seconds',
        'acl localhost_client src 127.0.0.1/32',
        `acl SSL_ports port ${sslPorts}`,
        'acl CONNECT method CONNECT',
        'http_access deny !localhost_client',
        'http_access deny CONNECT !SSL_ports'
    ];
    if (user !== undefined) {
        const salt = crypto.randomBytes(6).toString('base64').replace(/[^a-zA-Z0-9]/g, 'x').slice(0, 8);
        const hash = execFileSync('openssl', ['passwd', '-1', '-salt', salt, '-stdin'], { input: password + '\n' }).toString().trim();
        fs.writeFileSync(file('passwd'), `${user}:${hash}\n`, { mode: 0o644 });
        lines.push(`auth_param basic program ${NCSA_AUTH} ${file('passwd')}`, 'auth_param basic realm print-events test proxy',
            'auth_param basic children 2 startup=1 idle=1', 'acl authenticated proxy_auth REQUIRED', 'http_access allow authenticated');
    } else {
        lines.push('http_access allow localhost_client');
    }
    lines.push('http_access deny all');
    fs.writeFileSync(file('squid.conf'), lines.join('\n') + '\n', { mode: 0o644 });

    const child = spawn(SQUID, ['-N', '-f', file('squid.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    let exited = false;
    const exit = new Promise((resolve) => child.once('exit', () => { exited = true; resolve(); }));
    const cacheLog = () => { try { return fs.readFileSync(file('cache.log'), 'utf8'); } catch { return ''; } };

    const proxy = {
        port,
        url: `http://127.0.0.1:${port}`,
        /** The access log's entries: { method, target, status, user, clientPort }. */
        entries() {
            let text = '';
            try { text = fs.readFileSync(file('access.log'), 'utf8'); } catch { return []; }
            return text.split('\n').filter(Boolean).map((line) => {
                const f = line.trim().split(/\s+/);
                return { status: f[3], method: f[5], target: f[6], user: f[7], clientPort: f[10] };
            });
        },
        /** Resolves when `predicate(entries)` holds (bounded), else rejects with the log. */
        waitForEntries(predicate, what, timeoutMs = 10000) {
            return waitFor(() => predicate(proxy.entries()), `squid to log ${what}`, timeoutMs,
                { intervalMs: 50, detail: () => 'access log:\n' + JSON.stringify(proxy.entries(), null, 1) });
        },
        async stop() {
            if (!exited) {
                child.kill('SIGTERM');
                const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
                await exit;
                clearTimeout(killer);
            }
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    // Bounded wait until squid accepts connections (it takes about a second to start) or exits.
    const listening = await waitFor(async () => exited || await canConnect(port), 'squid to listen', 15000, { intervalMs: 100 }).catch(() => false);
    if (listening && !exited) { return proxy; }
    const log = cacheLog() + stderr;
    await proxy.stop();
    throw new Error('squid did not start:\n' + log.split('\n').slice(-20).join('\n'));
}

module.exports = { startSquid, squidMissing };
