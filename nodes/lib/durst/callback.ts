// Pure: turns a Durst Workflow callback body into a Durst-style topic and an event name.
//
// Status callbacks carry entityType/entityId, workflow progress carries name/id/progress. The shape of
// REPO (substrate repository) callbacks is not documented, so they are recognised heuristically: an
// entityType/type/entity/repository field mentioning SUBSTRATE, or any top-level key mentioning substrate.

import * as bufferModule from 'buffer';
import iconv from 'iconv-lite';
import { MAX_JSON_DEPTH, jsonDeeperThan, jsonHasProtoKey } from '../json-limits';
import { isRecord } from '../is-record';

export type DurstEvent = 'status' | 'workflow' | 'repo' | 'unknown';

export interface ClassifiedCallback {
    topic: string;
    event: DurstEvent;
}

// Control characters (C0, C1, NUL), format characters (bidi overrides such as U+202E, zero-width marks,
// BOM) and line/paragraph separators from a sender's body never reach msg.topic: switch/route rules
// and log lines compare and show topics, and invisible characters there mislead both.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** Removes control, format and line-separator characters. */
export function stripControlCharacters(text: string): string {
    return text.replace(INVISIBLE, '');
}

function isId(value: unknown): value is number | string {
    return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && segment(value) !== '');
}

// Topic segments must not contain the separator.
function segment(value: unknown): string {
    return stripControlCharacters(String(value)).trim().replace(/\//g, '_');
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

    if (typeof body.entityType === 'string' && segment(body.entityType) !== '' && isId(body.entityId)) {
        return { topic: `STATUS/${segment(body.entityType)}/${segment(body.entityId)}`, event: 'status' };
    }

    const looksLikeWorkflow = 'progress' in body || 'currentStep' in body || 'executionTime' in body || 'stateMessage' in body;
    if (typeof body.name === 'string' && segment(body.name) !== '' && isId(body.id) && looksLikeWorkflow) {
        return { topic: `WORKFLOW/${segment(body.name)}/${segment(body.id)}`, event: 'workflow' };
    }

    return { topic: 'UNKNOWN', event: 'unknown' };
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false; error: string };

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
// buffer.isUtf8 (Node >= 18.14) validates much faster than a fatal TextDecoder.
const isUtf8 = (bufferModule as { isUtf8?: (input: Buffer) => boolean }).isUtf8;

/** The text of UTF-8 bytes without a leading BOM, or undefined when they are not valid UTF-8. */
function decodeUtf8(rawBody: Buffer): string | undefined {
    let text: string;
    if (typeof isUtf8 === 'function') {
        if (!isUtf8(rawBody)) { return undefined; }
        text = rawBody.toString('utf8');
    } else {
        try { text = fatalUtf8.decode(rawBody); } catch { return undefined; }
    }
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The charset a byte order mark at the start of the body names; it outranks the declared one (as in WHATWG decode). */
function charsetFromBom(rawBody: Buffer): string | undefined {
    if (rawBody.length >= 3 && rawBody[0] === 0xef && rawBody[1] === 0xbb && rawBody[2] === 0xbf) { return 'utf-8'; }
    if (rawBody.length >= 2 && rawBody[0] === 0xfe && rawBody[1] === 0xff) { return 'utf-16be'; }
    if (rawBody.length >= 2 && rawBody[0] === 0xff && rawBody[1] === 0xfe) { return 'utf-16le'; }
    return undefined;
}

/**
 * Bytes -> text in `charset` (lower case; the dispatcher only passes charsets iconv-lite knows). UTF-8 is
 * validated strictly (RFC 8259): invalid bytes are refused, not replaced. Other charsets (ISO-8859-1 exactly as
 * Latin-1, Windows-1252, UTF-16 ...) decode every byte. A leading BOM is stripped and decides the charset.
 */
export function decodeBody(rawBody: Buffer, charset = 'utf-8'): string | undefined {
    const effective = charsetFromBom(rawBody) ?? charset;
    if (effective === 'utf-8' || effective === 'utf8') { return decodeUtf8(rawBody); }
    try {
        return iconv.decode(rawBody, effective); // strips the BOM by default
    } catch {
        return undefined;
    }
}

/**
 * Raw callback bytes -> JSON value, or the reason it is refused: empty, not valid in its charset, nested
 * deeper than MAX_JSON_DEPTH (the same limit as PrintFactory frames), not JSON, or with a `__proto__` key. Any JSON value is
 * accepted, so `42` or `null` becomes an `unknown` event rather than a lost callback. Never throws.
 */
export function parseCallbackBody(rawBody: Buffer, charset = 'utf-8'): ParsedBody {
    const text = decodeBody(rawBody, charset);
    if (text === undefined) {
        const effective = charsetFromBom(rawBody) ?? charset;
        return { ok: false, error: `body is not valid ${effective === 'utf-8' ? 'UTF-8' : effective}` };
    }
    if (text.trim() === '') { return { ok: false, error: 'empty body' }; }
    if (jsonDeeperThan(text, MAX_JSON_DEPTH)) { return { ok: false, error: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` }; }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        // The parser's message quotes the body: keep it short and printable, it goes to the answer and the log.
        return { ok: false, error: 'invalid JSON: ' + stripControlCharacters(String((err as Error).message)).slice(0, 160) };
    }
    // A "__proto__" key would become the prototype of the msg's clones (every wire after the first).
    if (jsonHasProtoKey(text, value)) { return { ok: false, error: 'JSON has a "__proto__" key' }; }
    return { ok: true, value };
}
