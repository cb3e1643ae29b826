'use strict';
// A throw-away private CA and a server certificate it signed, made with the openssl command line
// (Node's crypto cannot issue X.509 certificates). Nothing is written outside a fresh temp dir.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

/**
 * { ca, key, cert, clientKey, clientCert } as PEM strings: the server certificate is valid for `names` (DNS) and
 * 127.0.0.1; the client certificate (CN print-events-client) is for TLS client authentication. Both signed by `ca`.
 */
function makeCertificates(names) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'print-events-certs-'));
    const file = (name) => path.join(dir, name);
    const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-keyout', file('ca.key'), '-out', file('ca.crt'), '-subj', '/CN=print-events test CA', '-days', '2',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
        openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', `/CN=${names[0]}`);
        fs.writeFileSync(file('ext.cnf'), [
            `subjectAltName=${names.map((n) => 'DNS:' + n).join(',')},IP:127.0.0.1`,
            'basicConstraints=CA:FALSE',
            'keyUsage=digitalSignature',
            'extendedKeyUsage=serverAuth'
        ].join('\n') + '\n');
        openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
            '-set_serial', '0x' + Date.now().toString(16), '-out', file('server.crt'), '-days', '2', '-extfile', file('ext.cnf'));
        openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-keyout', file('client.key'), '-out', file('client.csr'), '-subj', '/CN=print-events-client');
        fs.writeFileSync(file('client.cnf'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
        openssl('x509', '-req', '-in', file('client.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
            '-set_serial', '0x' + (Date.now() + 1).toString(16), '-out', file('client.crt'), '-days', '2', '-extfile', file('client.cnf'));
        return {
            clientKey: fs.readFileSync(file('client.key'), 'utf8'),
            clientCert: fs.readFileSync(file('client.crt'), 'utf8'),
            ca: fs.readFileSync(file('ca.crt'), 'utf8'),
            key: fs.readFileSync(file('server.key'), 'utf8'),
            cert: fs.readFileSync(file('server.crt'), 'utf8')
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

module.exports = { makeCertificates };
