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

// Durst's pages join hostUri and a subscription path as plain text ("localhost:1234" + "path/to/webhook"),
// where a URL library would resolve the path against the host. Registered as below, both readings (and a join
// that puts one "/" between them) call the same webhook URL: the hostUri ends with "/", the path has none in front.

/** Why a Host URI cannot be registered, or undefined: it must be an absolute http(s) URL with a host. */
export function hostUriProblem(hostUri: string): string | undefined {
    const text = hostUri.trim();
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) { return `Host URI "${text}" has no scheme: it must be an absolute http:// or https:// URL`; }
    let url: URL;
    try { url = new URL(text); } catch { return `Host URI "${text}" is not a valid URL`; }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') { return `Host URI "${text}" must use http:// or https://`; }
    if (!url.hostname) { return `Host URI "${text}" has no host`; }
    if (url.search || url.hash) { return `Host URI "${text}" must not have a query or fragment (Durst appends the path to it)`; }
    return undefined;
}

/** The hostUri to register: the given one with exactly one trailing "/". */
export function registeredHostUri(hostUri: string): string {
    return hostUri.trim().replace(/\/+$/, '') + '/';
}

/** The subscription path to register: no leading "/" (so a URL join keeps the Host URI's own path). */
export function registeredPath(path: string | null | undefined): string {
    return String(path ?? '').trim().replace(/^\/+/, '');
}

/**
 * The URLs Durst may call for a Host URI and a subscription path: plain concatenation, a URL join, and a join
 * with one "/" between them; de-duplicated (for a Host URI registered as above they are all one URL).
 */
export function callbackUrls(hostUri: string, path: string | null | undefined): string[] {
    const host = hostUri.trim();
    const sub = String(path ?? '').trim();
    const urls = [host + sub];
    try { urls.push(new URL(sub, host).href); } catch { /* not absolute: the text forms only */ }
    urls.push(host.replace(/\/+$/, '') + '/' + sub.replace(/^\/+/, ''));
    // Compared as URLs where they parse (":443" on https is the same URL), else as text.
    const href = (u: string) => { try { return new URL(u).href; } catch { return u; } };
    return [...new Set(urls.map(href))];
}
