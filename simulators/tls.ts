// TLS for the simulators: wss:// / https:// with a given key and certificate; with `clientCa` the server also
// demands a client certificate signed by that CA (mutual TLS, as a site's Durst server may).
import * as https from 'https';

export interface SimulatorTls { key: string | Buffer; cert: string | Buffer; clientCa?: string | Buffer }

export function serverTlsOptions(tls: SimulatorTls): https.ServerOptions {
    return tls.clientCa
        ? { key: tls.key, cert: tls.cert, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }
        : { key: tls.key, cert: tls.cert };
}
