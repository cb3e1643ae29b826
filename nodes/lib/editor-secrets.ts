// Which secrets an editor button ("Test connection", "Register / check") may use. Shared by the
// printfactory-config and durst-subscriber admin endpoints so both follow one rule:
//  - a stored secret (the form shows the placeholder) is used only together with the URL its node was
//    deployed with, so the form cannot send it to another server;
//  - `${VAR}` is resolved exactly as the runtime resolves credentials, so the button sends what the
//    deployed node sends, and never the literal reference.
import { STATUS_CODES } from 'http';
import type { Node, NodeAPI } from 'node-red';

/** What the editor shows in a password field whose value is stored on the server. */
export const SECRET_PLACEHOLDER = '__PWRD__';

export type EditorSecretsFailure = {
    ok: false;
    /**
     * `reenterSecret`: type the secret again; `envUnset`: a `${VAR}` names no variable Node-RED knows;
     * `invalid`: a form value has the wrong type.
     */
    code: 'reenterSecret' | 'envUnset' | 'invalid';
    error: string;
};

export type EditorSecrets = {
    ok: true;
    /** The form's URL with `${VAR}` resolved. */
    url: string;
    /** Every requested field: typed (resolved), stored (as the deployed node resolved it), or undefined. */
    credentials: Record<string, string | undefined>;
    /** Fields with a newly typed, non-empty value. */
    typed: string[];
    /** `request.properties`, resolved; absent ones are left out. */
    properties: Record<string, string>;
} | EditorSecretsFailure;

export interface EditorSecretsRequest {
    /** Node type the form's id must belong to. */
    type: string;
    /** Id of the node being edited (it may not be deployed). */
    id: unknown;
    /** The URL in the form, trimmed and defaulted. */
    url: string;
    /** The URL the deployed node uses (the runtime already resolved its `${VAR}`). */
    deployedUrl: (node: Node) => unknown;
    /** Credentials as the form sent them: the placeholder means "the stored one"; undefined = not sent. */
    form: Record<string, unknown>;
    fields: readonly string[];
    /** Non-secret form values the runtime also resolves `${VAR}` in (e.g. a hostUri): strings, or absent. */
    properties?: Record<string, unknown>;
}

// Node-RED 4.1 (runtime flows/util.js mapEnvVarProperties, called for credentials by nodes/index.js
// createNode) substitutes a credential only when the WHOLE value is `${NAME}` or the legacy `$(NAME)`,
// NAME without whitespace; text around a reference is not substituted, and an unknown NAME leaves the
// value as it is. NAME is looked up with util.getSetting: NR_NODE_* , group, flow and global environment
// variables, then process.env (minus settings.envVarExcludes).
const WHOLE_ENV_REFERENCE = /^\$\{\S+\}$|^\$\(\S+\)$/;

function envName(value: string): string | undefined {
    return WHOLE_ENV_REFERENCE.test(value) ? value.substring(2, value.length - 1) : undefined;
}

function lookUp(RED: NodeAPI, name: string, context: Node | undefined): unknown {
    const getSetting = (RED.util as unknown as { getSetting?: (node: unknown, name: string) => unknown }).getSetting;
    if (context && typeof getSetting === 'function') {
        // A lookup that fails counts as unset: the button then refuses instead of guessing.
        try { return getSetting(context, name); } catch { return undefined; }
    }
    // No deployed node, hence no flow to ask: what the runtime's last step reads.
    const excludes = (RED.settings as unknown as { envVarExcludes?: unknown }).envVarExcludes;
    if (Array.isArray(excludes) && excludes.includes(name)) { return undefined; }
    return process.env[name];
}

/**
 * `value` as the runtime would give it to a node: a whole `${NAME}` / `$(NAME)` replaced by the variable,
 * anything else unchanged. `unresolved` names the variable when there was a reference nobody could resolve.
 */
export function resolveEnvReference(RED: NodeAPI, value: string, context?: Node): { value: string; unresolved?: string } {
    const name = envName(value);
    if (name === undefined) { return { value }; }
    const resolved = lookUp(RED, name, context);
    if (resolved === undefined) { return { value, unresolved: name }; }
    return { value: typeof resolved === 'string' ? resolved : String(resolved) };
}

/** Same scheme, host, port and path (URL-normalised), so `ws://h:1` and `ws://H:1/` count as one endpoint. */
export function sameEndpoint(a: unknown, b: unknown): boolean {
    if (typeof a !== 'string' || typeof b !== 'string') { return false; }
    try {
        return new URL(a.trim()).href === new URL(b.trim()).href;
    } catch {
        return a.trim() === b.trim();
    }
}

function envUnset(name: string, when = 'is not set in Node-RED'): EditorSecretsFailure {
    return { ok: false, code: 'envUnset', error: `environment variable ${name} ${when}` };
}

/** The URL and secrets an editor button may use for the form in `request`. Never throws. */
export function editorSecrets(RED: NodeAPI, request: EditorSecretsRequest): EditorSecrets {
    const id = typeof request.id === 'string' && request.id ? request.id : undefined;
    let deployed: Node | undefined;
    try {
        const node = id ? RED.nodes.getNode(id) : null;
        deployed = node && node.type === request.type ? node : undefined;
    } catch {
        deployed = undefined;
    }
    const url = resolveEnvReference(RED, request.url, deployed);
    if (url.unresolved) { return envUnset(url.unresolved); }
    const storedUsable = !!deployed && sameEndpoint(request.deployedUrl(deployed), url.value);
    // The deployed node's credentials are what the runtime made of the stored ones (`${VAR}` resolved).
    const stored = (storedUsable ? deployed?.credentials ?? {} : {}) as Record<string, unknown>;
    const credentials: Record<string, string | undefined> = {};
    const typed: string[] = [];
    for (const field of request.fields) {
        const value = request.form[field];
        if (value !== undefined && value !== null && typeof value !== 'string') {
            return { ok: false, code: 'invalid', error: `${field} must be a string` };
        }
        if (typeof value === 'string' && value !== SECRET_PLACEHOLDER) {
            const resolved = resolveEnvReference(RED, value, deployed);
            if (resolved.unresolved) { return envUnset(resolved.unresolved); }
            credentials[field] = resolved.value;
            if (value !== '') { typed.push(field); }
            continue;
        }
        if (value === SECRET_PLACEHOLDER && !storedUsable) {
            return {
                ok: false,
                code: 'reenterSecret',
                error: deployed
                    ? 'enter the secrets again: stored secrets are only used with the URL the node was deployed with'
                    : 'enter the secrets again: the node is not deployed, so it has no stored secrets'
            };
        }
        const storedValue = stored[field];
        if (typeof storedValue === 'string') {
            // The runtime keeps an unknown reference as text: refuse rather than send that text.
            const name = envName(storedValue);
            if (name !== undefined) { return envUnset(name, 'was not set when the node was deployed'); }
            credentials[field] = storedValue;
        } else {
            credentials[field] = undefined;
        }
    }
    const properties: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.properties ?? {})) {
        if (value === undefined || value === null) { continue; }
        if (typeof value !== 'string') { return { ok: false, code: 'invalid', error: `${key} must be a string` }; }
        const resolved = resolveEnvReference(RED, value, deployed);
        if (resolved.unresolved) { return envUnset(resolved.unresolved); }
        properties[key] = resolved.value;
    }
    return { ok: true, url: url.value, credentials, typed, properties };
}

/**
 * The editor buttons send JSON (`$.ajax` with `contentType: 'application/json'`). Anything else is refused:
 * an HTML form on any web site can POST urlencoded or text/plain to the admin app without a CORS preflight,
 * and without `adminAuth` nothing else would stop it from making the runtime register a subscriber (with
 * `${VAR}` resolved) or open a connection wherever the form says. This narrows, but does not close, that door:
 * Node-RED's admin app answers every CORS preflight with `origin: *`, so a script that sends JSON gets through,
 * as it does to the admin API's own /flows. Only `adminAuth` (a bearer token, never a cookie) closes it.
 */
export function isJsonRequest(req: { headers?: Record<string, unknown> }): boolean {
    const type = String(req.headers?.['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    return type === 'application/json';
}

export const NOT_JSON_ERROR = 'Content-Type must be application/json';

const appsAnsweringJsonErrors = new WeakSet<object>();

/**
 * The editor's admin app parses every JSON body before our endpoints see it; on broken JSON or a body over
 * `apiMaxLength` its parser raises an error that, with no handler, becomes Express's HTML error page (with a
 * stack and server paths outside production). RED.httpAdmin (where our routes live) is the runtime's app,
 * mounted inside that admin app after its parsers, so an error raised there skips it: the handler goes on
 * the app it is mounted in (`parent`, set by Express on mount), after the parsers, for `/print-events` only.
 * Installed once per app.
 */
export function answerEditorErrorsAsJson(httpAdmin: { use: (...args: any[]) => unknown; parent?: any } | undefined): void {
    const host = httpAdmin?.parent && typeof httpAdmin.parent.use === 'function' ? httpAdmin.parent : httpAdmin;
    if (!host || appsAnsweringJsonErrors.has(host)) { return; }
    appsAnsweringJsonErrors.add(host);
    host.use('/print-events', (err: any, _req: any, res: any, next: (err?: unknown) => void) => {
        if (res.headersSent) { next(err); return; }
        const status = Number.isInteger(err?.status) && err.status >= 400 && err.status < 500 ? err.status : 500;
        // The admin routes' answer shape (./admin-routes.ts): a code for the editor's catalogue, the English detail.
        const [code, error] = err?.type === 'entity.parse.failed' ? ['badJson', 'request body is not valid JSON']
            : err?.type === 'entity.too.large' ? ['tooLarge', 'request body is too large'] : ['requestFailed', STATUS_CODES[status] ?? 'request failed'];
        res.status(status).json(code === 'requestFailed' ? { ok: false, code, error, vars: { error } } : { ok: false, code, error });
    });
}
