// The hostUri of a durst-subscriber whose field is empty: this Node-RED as reached from this machine,
// `http(s)://<uiHost or 127.0.0.1>:<uiPort><httpNodeRoot>`, from the runtime's own settings. Only right when
// Durst runs on the same machine (the simulator, `npx print-events-simulators`); it is what lets the examples
// leave the field empty and work on whatever port the editor runs. A real Durst needs the public URL.

export interface HostSettings {
    uiPort?: unknown;
    uiHost?: unknown;
    https?: unknown;
    httpNodeRoot?: unknown;
}

/** '' when the port is unknown (0: chosen by the OS) or the HTTP node endpoints are off. */
export function localHostUri(settings: HostSettings): string {
    if (settings.httpNodeRoot === false) { return ''; }
    const port = settings.uiPort === undefined || settings.uiPort === null || settings.uiPort === '' ? 1880 : Number(settings.uiPort);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) { return ''; }
    const bound = typeof settings.uiHost === 'string' ? settings.uiHost.trim() : '';
    // Listening on every interface: loopback reaches it.
    const host = !bound || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound.includes(':') ? `[${bound}]` : bound;
    const root = typeof settings.httpNodeRoot === 'string' ? settings.httpNodeRoot.replace(/\/+$/, '') : '';
    return `${settings.https ? 'https' : 'http'}://${host}:${port}${root.startsWith('/') || !root ? root : '/' + root}`;
}
