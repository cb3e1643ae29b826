// The MQTT broker the examples 05 and 07 publish to and subscribe from (localhost:1883): Aedes on a loopback port.
// One starter for the package's bin (simulators/cli.ts: palette installs have no broker of their own), the demo
// (harness/demo) and the tests. Aedes is a dependency of the package, but only this module loads it: the nodes never do.
import type { EventEmitter } from 'events';
import net from 'net';

/** The broker's own Aedes instance (tests watch its publish and subscribe events). */
export interface AedesBroker extends EventEmitter { handle: (socket: net.Socket) => void; close(cb: () => void): void }
export interface MqttBroker { aedes: AedesBroker; port: number; url: string; stop(): Promise<void> }

/** Default port of the examples' `local broker` (mqtt-broker localhost:1883). */
export const MQTT_PORT = 1883;

/** A real MQTT broker (Aedes) on `host:port` (port 0: any free one). Rejects with the listen error (EADDRINUSE). */
export async function startMqttBroker({ port = 0, host = '127.0.0.1' } = {}): Promise<MqttBroker> {
    let Aedes: { createBroker(): Promise<AedesBroker> };
    try {
        // Aedes is an ES module; this CommonJS build loads it with a real import() (tsc would turn import() into require).
        ({ Aedes } = await (new Function('m', 'return import(m)') as (m: string) => Promise<{ Aedes: typeof Aedes }>)('aedes'));
    } catch (err) {
        throw new Error(`cannot load the MQTT broker "aedes" (${(err as Error).message}); reinstall the package (npm install)`);
    }
    const aedes = await Aedes.createBroker();
    const server = net.createServer(aedes.handle);
    const closeAedes = (): Promise<void> => new Promise<void>((resolve) => aedes.close(() => resolve()));
    try {
        await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(port, host, () => { server.removeListener('error', reject); resolve(); });
        });
    } catch (err) {
        await closeAedes();
        throw err;
    }
    const actualPort = (server.address() as net.AddressInfo).port;
    return {
        aedes,
        port: actualPort,
        url: `mqtt://${host}:${actualPort}`,
        stop: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            aedes.close(() => undefined);
        })
    };
}
