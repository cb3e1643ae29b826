// Pure: one WebSocket frame of the PrintFactory notification socket -> the JSON values it carries.
// The vendor page shows one JSON object per text frame; servers in the field also send a JSON array of
// notifications, several JSON values in one frame (concatenated, one per line with LF or CRLF, or separated by
// the record separator \x1e of RFC 7464), a byte order mark before the JSON, JSON in a binary frame, and text
// keep-alives. Each of these gives the same values, in order. The common frame, one object, takes one
// JSON.parse and nothing else (the fast path; `npm run bench` measures it).
import { MAX_JSON_DEPTH, jsonDeeperThan, jsonHasProtoKey } from '../json-limits';

/** Frames above this are dropped with a warning; the socket stays open. */
export const MAX_FRAME_BYTES = 1024 * 1024;

export type BadFrameReason = 'binary' | 'tooLarge' | 'notJson' | 'tooDeep' | 'protoKey';

export interface FrameContents {
    /** The notifications of the frame, in order (a top-level array gives its elements). */
    values: unknown[];
    /** What was left out of the frame, one entry per value or part (empty when everything was read). */
    bad: BadFrameReason[];
    /** True for a text keep-alive (ping, pong, keepalive, whitespace, empty): nothing to deliver, nothing bad. */
    keepAlive: boolean;
    /**
     * Fresh copies of `values` (parsed again from the frame's text), for the second and later users of one
     * connection, so one flow changing msg.payload cannot affect another.
     */
    copy(): unknown[];
}

// Keep-alive texts some servers send on the data channel instead of WebSocket pings (compared trimmed, any case).
const KEEP_ALIVE = /^(?:ping|pong|keep-?alive|heartbeat|hb)?$/i;
/** Between JSON values of one frame: JSON whitespace, the record separator 0x1e (RFC 7464) and byte order marks. */
function isSeparator(c: number): boolean {
    return c === 32 || c === 10 || c === 13 || c === 9 || c === 0x1e || c === 0xfeff;
}
const utf8 = new TextDecoder('utf-8', { fatal: true });

const NOTHING: FrameContents = Object.freeze({ values: [], bad: [], keepAlive: true, copy: () => [] }) as FrameContents;

function badOnly(reason: BadFrameReason): FrameContents {
    return { values: [], bad: [reason], keepAlive: false, copy: () => [] };
}

/**
 * Reads one frame. Binary frames are read like text when they hold valid UTF-8 (else `binary`); text frames
 * are decoded as UTF-8 as ws delivers them. Limits: the frame size (MAX_FRAME_BYTES), the nesting depth
 * (MAX_JSON_DEPTH, over the whole frame, so an array's elements are one level shallower than allowed) and
 * the `__proto__` key (checked for every value: a value with one is left out, the others are delivered).
 */
export function readFrame(buffer: Buffer, isBinary: boolean): FrameContents {
    if (buffer.length > MAX_FRAME_BYTES) { return badOnly('tooLarge'); }
    let text: string;
    if (isBinary) {
        try { text = utf8.decode(buffer); } catch { return badOnly('binary'); }
    } else {
        text = buffer.toString('utf8');
    }
    if (jsonDeeperThan(text, MAX_JSON_DEPTH)) { return badOnly('tooDeep'); }
    // Fast path: one JSON value (a BOM or a second value makes JSON.parse throw: the slow path below).
    let single: unknown;
    let isSingle = true;
    try { single = JSON.parse(text); } catch { isSingle = false; }
    if (isSingle) {
        if (Array.isArray(single)) { return contents([text], [single]); }
        if (jsonHasProtoKey(text, single)) { return badOnly('protoKey'); }
        return { values: [single], bad: [], keepAlive: false, copy: () => [JSON.parse(text)] };
    }
    if (KEEP_ALIVE.test(text.trim().replace(/^\ufeff+/, '').trim())) { return NOTHING; }
    const parts = splitValues(text);
    if (parts === null) { return badOnly('notJson'); }
    const texts: string[] = [];
    const parsed: unknown[] = [];
    let broken = 0;
    for (const part of parts) {
        try {
            parsed.push(JSON.parse(part));
            texts.push(part);
        } catch {
            broken += 1;
        }
    }
    const result = contents(texts, parsed);
    for (let i = 0; i < broken; i++) { result.bad.push('notJson'); }
    return result;
}

/** The values of parsed texts, top-level arrays flattened, values with a `__proto__` key left out. */
function contents(texts: string[], parsed: unknown[]): FrameContents {
    const values: unknown[] = [];
    const bad: BadFrameReason[] = [];
    // Which flattened values were kept, so copies leave out the same ones.
    const kept: boolean[] = [];
    for (let i = 0; i < parsed.length; i++) {
        const value = parsed[i];
        const items = Array.isArray(value) ? value : [value];
        for (const item of items) {
            // jsonHasProtoKey only walks the value when the text could hold such a key at all.
            if (jsonHasProtoKey(texts[i], item)) { bad.push('protoKey'); kept.push(false); continue; }
            values.push(item);
            kept.push(true);
        }
    }
    return {
        values,
        bad,
        keepAlive: false,
        copy(): unknown[] {
            const out: unknown[] = [];
            let k = 0;
            for (const text of texts) {
                const value: unknown = JSON.parse(text);
                for (const item of Array.isArray(value) ? value : [value]) {
                    if (kept[k++]) { out.push(item); }
                }
            }
            return out;
        }
    };
}

/**
 * Splits a text into the texts of its top-level JSON values, or null when it does not start like JSON. A value
 * ends where its brackets balance (outside strings), a string at its closing quote, a number or literal at the
 * next separator or bracket. A part that is not valid JSON stays a part of its own (the caller counts it).
 */
export function splitValues(text: string): string[] | null {
    const parts: string[] = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
        while (i < n && isSeparator(text.charCodeAt(i))) { i += 1; }
        if (i >= n) { break; }
        const start = i;
        const c = text.charCodeAt(i);
        if (c === 123 /* { */ || c === 91 /* [ */) {
            let depth = 0;
            let inString = false;
            for (; i < n; i++) {
                const d = text.charCodeAt(i);
                if (inString) {
                    if (d === 92 /* \ */) { i += 1; } else if (d === 34 /* " */) { inString = false; }
                } else if (d === 34) {
                    inString = true;
                } else if (d === 123 || d === 91) {
                    depth += 1;
                } else if (d === 125 /* } */ || d === 93 /* ] */) {
                    depth -= 1;
                    if (depth === 0) { i += 1; break; }
                }
            }
        } else if (c === 34 /* " */) {
            for (i += 1; i < n; i++) {
                const d = text.charCodeAt(i);
                if (d === 92) { i += 1; } else if (d === 34) { i += 1; break; }
            }
        } else {
            // A number or literal, or text that is not JSON at all.
            for (; i < n; i++) {
                const d = text.charCodeAt(i);
                if (isSeparator(d) || d === 123 || d === 91 || d === 34) { break; }
            }
        }
        parts.push(text.slice(start, i));
    }
    if (parts.length === 0) { return []; }
    // Prose with a brace somewhere is not a frame of JSON values: it must start like one.
    return /^[{["\d-]|^(?:true|false|null)$/.test(parts[0]) ? parts : null;
}
