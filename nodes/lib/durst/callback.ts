// Pure: turns a Durst Workflow callback body into a Durst-style topic and an event name.
//
// Status callbacks carry entityType/entityId, workflow progress carries name/id/progress. The shape of
// REPO (substrate repository) callbacks is not documented, so they are recognised heuristically: an
// entityType/type/entity/repository field mentioning SUBSTRATE, or any top-level key mentioning substrate.

export type DurstEvent = 'status' | 'workflow' | 'repo' | 'unknown';

export interface ClassifiedCallback {
    topic: string;
    event: DurstEvent;
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number | string {
    return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.trim() !== '');
}

// Topic segments must not contain the separator.
function segment(value: unknown): string {
    return String(value).trim().replace(/\//g, '_');
}

const REPO_KIND_FIELDS = ['entityType', 'type', 'entity', 'repository', 'repositoryType', 'objectType'];
const SUBSTRATE = /substrate/i;

function repoKind(body: Record<string, unknown>): string | undefined {
    for (const field of REPO_KIND_FIELDS) {
        const value = body[field];
        if (typeof value === 'string' && SUBSTRATE.test(value)) { return value; }
    }
    const key = Object.keys(body).find((k) => SUBSTRATE.test(k));
    if (key) { return key.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(); }
    return undefined;
}

export function classifyCallback(body: unknown): ClassifiedCallback {
    if (!isRecord(body)) { return { topic: 'UNKNOWN', event: 'unknown' }; }

    const kind = repoKind(body);
    if (kind !== undefined) {
        const idValue = isId(body.entityId) ? body.entityId : body.id;
        const id = isId(idValue) ? '/' + segment(idValue) : '';
        return { topic: `REPO/${segment(kind).toUpperCase()}${id}`, event: 'repo' };
    }

    if (typeof body.entityType === 'string' && body.entityType.trim() !== '' && isId(body.entityId)) {
        return { topic: `STATUS/${segment(body.entityType)}/${segment(body.entityId)}`, event: 'status' };
    }

    const looksLikeWorkflow = 'progress' in body || 'currentStep' in body || 'executionTime' in body || 'stateMessage' in body;
    if (typeof body.name === 'string' && body.name.trim() !== '' && isId(body.id) && looksLikeWorkflow) {
        return { topic: `WORKFLOW/${segment(body.name)}/${segment(body.id)}`, event: 'workflow' };
    }

    return { topic: 'UNKNOWN', event: 'unknown' };
}
