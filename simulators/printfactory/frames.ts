// Every frame form a PrintFactory notification server may use (issue #19), and the shape variants a server
// other than the documented one may send: the simulator sends them (`sendFramed`, `sendKeepAlive`), the tests and
// the demo use them. The vendor page shows one JSON object per text frame; nothing public says a server never
// batches, and gateways in front of WebSocket servers do.

export type FrameForm =
    | 'single'        // one JSON text per value, one frame each (the documented form)
    | 'array'         // one frame: a JSON array of the values
    | 'concatenated'  // one frame: the JSON texts back to back
    | 'ndjson'        // one frame: one JSON text per line, LF
    | 'crlf'          // one frame: one JSON text per line, CRLF
    | 'rs'            // one frame: RFC 7464 JSON text sequence (\x1e before each, LF after)
    | 'bom'           // one frame per value, each with a UTF-8 byte order mark before the JSON
    | 'binary';       // one binary frame per value holding its UTF-8 JSON

export const FRAME_FORMS: readonly FrameForm[] = Object.freeze(['single', 'array', 'concatenated', 'ndjson', 'crlf', 'rs', 'bom', 'binary']);

export type KeepAliveKind = 'ping' | 'pong' | 'keepalive' | 'whitespace' | 'empty';
export const KEEP_ALIVE_KINDS: readonly KeepAliveKind[] = Object.freeze(['ping', 'pong', 'keepalive', 'whitespace', 'empty']);

/** Spellings of the documented keys and enum values that servers other than the documented one may use. */
export type ShapeVariant = 'documented' | 'extraFields' | 'camelCase' | 'lowerCase' | 'snakeCase' | 'separatedValues';
export const SHAPE_VARIANTS: readonly ShapeVariant[] = Object.freeze(['documented', 'extraFields', 'camelCase', 'lowerCase', 'snakeCase', 'separatedValues']);

export interface Frame { data: string | Buffer; binary: boolean }

/** The frames that carry `values` in `form`, in order. */
export function encodeFrames(values: unknown[], form: FrameForm): Frame[] {
    const texts = values.map((v) => JSON.stringify(v));
    switch (form) {
        case 'single': return texts.map((data) => ({ data, binary: false }));
        case 'array': return [{ data: JSON.stringify(values), binary: false }];
        case 'concatenated': return [{ data: texts.join(''), binary: false }];
        case 'ndjson': return [{ data: texts.join('\n') + '\n', binary: false }];
        case 'crlf': return [{ data: texts.join('\r\n') + '\r\n', binary: false }];
        case 'rs': return [{ data: texts.map((t) => `\u001e${t}\n`).join(''), binary: false }];
        case 'bom': return texts.map((t) => ({ data: '\ufeff' + t, binary: false }));
        case 'binary': return texts.map((t) => ({ data: Buffer.from(t, 'utf8'), binary: true }));
        default: throw new Error(`unknown frame form "${String(form)}"; known: ${FRAME_FORMS.join(', ')}`);
    }
}

export function keepAliveText(kind: KeepAliveKind): string {
    switch (kind) {
        case 'ping': return 'ping';
        case 'pong': return 'pong';
        case 'keepalive': return 'keepalive';
        case 'whitespace': return ' \r\n';
        case 'empty': return '';
        default: throw new Error(`unknown keep-alive "${String(kind)}"; known: ${KEEP_ALIVE_KINDS.join(', ')}`);
    }
}

const VALUE_SPELLING: Record<string, string> = { ReRoute: 'Re-Route', Reprint: 'Re-Print', ReSubmit: 'Re-Submit', NestComplete: 'Nest-Complete' };

function renameKeys(obj: Record<string, unknown>, rename: (key: string) => string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) { out[rename(k)] = v; }
    return out;
}

/** A documented notification as another server might spell it (top-level keys and the Status/Event values only). */
export function shapeVariant(payload: Record<string, unknown>, variant: ShapeVariant): Record<string, unknown> {
    switch (variant) {
        case 'documented': return { ...payload };
        // Fields the page does not show, as seen from servers in the field.
        case 'extraFields': return { ...payload, EventDate: new Date().toISOString(), OrganisationGUID: 'org-1', Source: 'simulator' };
        // jobGuid, deviceGuid, statusRIP ...
        case 'camelCase': return renameKeys(payload, (k) => k.replace(/^[A-Z]+(?=[A-Z][a-z]|$)|^[A-Z]/, (m) => m.toLowerCase()).replace(/GUID$/, 'Guid'));
        case 'lowerCase': {
            const out = renameKeys(payload, (k) => k.toLowerCase());
            for (const key of ['status', 'event']) { if (typeof out[key] === 'string') { out[key] = (out[key] as string).toLowerCase(); } }
            return out;
        }
        case 'snakeCase': return renameKeys(payload, (k) => k.replace(/GUID/g, 'Guid').replace(/RIP/g, 'Rip').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase());
        case 'separatedValues': {
            const out = { ...payload };
            for (const key of ['Status', 'Event']) {
                const v = out[key];
                if (typeof v === 'string' && VALUE_SPELLING[v]) { out[key] = VALUE_SPELLING[v]; }
            }
            return out;
        }
        default: throw new Error(`unknown shape variant "${String(variant)}"; known: ${SHAPE_VARIANTS.join(', ')}`);
    }
}
