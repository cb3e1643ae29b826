// Twin config nodes: nodes of one type whose settings and secrets are all equal (e.g. the printfactory-config that each
// imported example carries). The editor (resources/twins.js) finds them by their settings and offers to merge them;
// it cannot see the stored secrets of deployed nodes, so it asks this route which of the given nodes carry equal
// secrets. The answer holds node ids only, never a secret, and nothing leaves this runtime.
//
//   POST /print-events/<type>/twins   { nodes: [{ id, credentials?: { <field>: string } }] }
//   -> 200 { ok: true, groups: [[id, ...], ...], unknown: [id, ...] }
//
// A field sent is the editor's own value (typed or imported; `${VAR}` resolved as the runtime resolves it); a field not
// sent (or the password placeholder) is the deployed node's stored value. An id whose secrets are neither sent nor
// deployed (an id this runtime does not know as that type) is `unknown`. `groups` partitions the known ids by equal
// secrets, in request order. Permission `<type>.write`: an equality answer is an oracle for guessing a secret, so only
// users who may change the node (and so could send its secret to a URL of their choosing by deploying) may ask.
import type { NodeAPI } from 'node-red';
import { AdminError, adminPost } from './admin-routes';
import { SECRET_PLACEHOLDER, resolveEnvReference } from './editor-secrets';

/** At most this many nodes per request: a workspace with more twins than that gets its answer in the first ones. */
export const MAX_TWIN_NODES = 200;

interface TwinEntry { id: string; credentials?: Record<string, unknown> }

function entriesOf(body: unknown): TwinEntry[] {
    const nodes = (body as { nodes?: unknown } | null)?.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_TWIN_NODES) {
        throw new AdminError(400, 'invalid', `nodes must be a list of 1 to ${MAX_TWIN_NODES} { id, credentials? }`);
    }
    const seen = new Set<string>();
    return nodes.map((entry: unknown) => {
        const { id, credentials } = (entry ?? {}) as { id?: unknown; credentials?: unknown };
        if (typeof id !== 'string' || id === '' || id.length > 100) { throw new AdminError(400, 'invalid', 'every node needs an id (a string)'); }
        if (seen.has(id)) { throw new AdminError(400, 'invalid', `node ${id} is listed twice`); }
        seen.add(id);
        if (credentials !== undefined && (credentials === null || typeof credentials !== 'object' || Array.isArray(credentials))) {
            throw new AdminError(400, 'invalid', `credentials of ${id} must be an object`);
        }
        return { id, credentials: credentials as Record<string, unknown> | undefined };
    });
}

/** Registers the route for `type`, whose credential fields are `fields` (all of them, text and password). */
export function registerTwinsRoute(RED: NodeAPI, type: string, fields: readonly string[]): void {
    adminPost(RED, `/print-events/${type}/twins`, `${type}.write`, (req) => {
        const groups = new Map<string, string[]>();
        const unknown: string[] = [];
        for (const { id, credentials } of entriesOf(req.body)) {
            let deployed: import('node-red').Node | undefined;
            try {
                const node = RED.nodes.getNode(id);
                deployed = node && node.type === type ? node : undefined;
            } catch {
                deployed = undefined;
            }
            const stored = (deployed?.credentials ?? {}) as Record<string, unknown>;
            const values: string[] = [];
            let known = true;
            for (const field of fields) {
                const sent = credentials?.[field];
                if (sent !== undefined && sent !== null && typeof sent !== 'string') {
                    throw new AdminError(400, 'invalid', `credentials.${field} of ${id} must be a string`);
                }
                if (typeof sent === 'string' && sent !== SECRET_PLACEHOLDER) {
                    values.push(resolveEnvReference(RED, sent, deployed).value);
                } else if (deployed) {
                    values.push(typeof stored[field] === 'string' ? stored[field] as string : '');
                } else {
                    known = false;
                }
            }
            if (!known) { unknown.push(id); continue; }
            // In memory only, as a key of this map; never logged, never answered.
            const key = JSON.stringify(values);
            const group = groups.get(key);
            if (group) { group.push(id); } else { groups.set(key, [id]); }
        }
        return { groups: [...groups.values()], unknown };
    });
}
