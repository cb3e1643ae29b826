// What the demo runs beside Node-RED (an MQTT broker, both simulators) and how it watches the result (the
// editor's debug channel, the dashboard page).
import http from 'http';
import path from 'path';
import WebSocket from 'ws';
import { ROOT } from '../user-dir';
import { DASHBOARD_MODULE } from './flows';

/** Where the dashboard package is installed (this repository's node_modules), or null. */
export function dashboardDir(): string | null {
    try {
        return path.dirname(require.resolve(DASHBOARD_MODULE + '/package.json', { paths: [ROOT] }));
    } catch {
        return null;
    }
}

/** An error that tells the user what to do about a port in use. */
export function explainStartError(what: string, envName: string, port: number, err: unknown): Error {
    if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
        return new Error(`${what}: port ${port} is already in use (another demo still running?). ` +
            `Stop it, or choose another port, e.g. ${envName}=${port + 1} npm start`);
    }
    return new Error(`${what} failed to start: ${(err as Error)?.message ?? err}`);
}

// The broker is the package's own (the bin starts it too): one starter, re-exported for the demo and the tests.
export { startMqttBroker, type AedesBroker, type MqttBroker } from '../../simulators/mqtt-broker';

/** Subscribes to the editor's debug channel, exactly like the Debug sidebar does. */
export function watchDebug(baseUrl: string, onDebug: (data: { id: string; topic?: string }) => void): WebSocket {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + 'comms');
    ws.on('open', () => ws.send(JSON.stringify({ subscribe: 'debug' })));
    ws.on('message', (data) => {
        let frames: unknown;
        try { frames = JSON.parse(data.toString()); } catch { return; }
        for (const frame of (Array.isArray(frames) ? frames : [frames]) as { topic?: string; data?: { id: string; topic?: string } }[]) {
            if (frame?.topic === 'debug' && frame.data) { onDebug(frame.data); }
        }
    });
    ws.on('error', () => { /* the check's timeout reports a dead channel */ });
    return ws;
}

/** Check mode: the dashboard page must answer with its HTML (following its redirects). Returns a problem text or null. */
export async function checkDashboard(url: string, redirectsLeft = 3): Promise<string | null> {
    const answer = await new Promise<{ error?: string; status?: number; location?: string; body?: string }>((resolve) => {
        const req = http.get(url, { timeout: 10000 }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { body += c; });
            res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location, body }));
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', (err) => resolve({ error: err.message }));
    });
    if (answer.error) { return `dashboard ${url}: ${answer.error}`; }
    const status = answer.status ?? 0;
    if (status >= 300 && status < 400 && answer.location && redirectsLeft > 0) {
        return checkDashboard(new URL(answer.location, url).href, redirectsLeft - 1);
    }
    return status === 200 && /<html/i.test(answer.body || '') ? null : `dashboard ${url} answered ${status}`;
}
