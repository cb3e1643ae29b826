'use strict';
// Seeded generators for the fuzz suites: the same seed gives the same inputs, so a failure reproduces
// with FUZZ_SEED=<seed> (the suites print the seed they used).

/** mulberry32: small, fast, good enough to spread test inputs; not for anything secret. */
function prng(seed) {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (min, max) => min + Math.floor(next() * (max - min + 1));
    const pick = (list) => list[Math.floor(next() * list.length)];
    const chance = (p) => next() < p;
    return { next, int, pick, chance };
}

function fuzzSeed() {
    const fromEnv = Number(process.env.FUZZ_SEED);
    return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 20261124;
}

const ALPHABET = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f', '\u0085', '\u00e9', '\u202e', '\u200b',
    '\u2028', '\ufeff', '\ud83d\udda8', '{', '}', '[', ']', ',', ':'];

/** A random string of code points that JSON must escape or carry (controls, bidi, astral, quotes). */
function randomString(r, maxLength = 24) {
    let text = '';
    const length = r.int(0, maxLength);
    for (let i = 0; i < length; i++) { text += r.chance(0.7) ? String.fromCharCode(r.int(0x20, 0x7e)) : r.pick(ALPHABET); }
    return text;
}

function randomNumber(r) {
    return r.pick([0, -0, 1, -1, 42, 2 ** 53 + 1, -(2 ** 31), 1e308, -1e-308, 3.14159, r.next() * 1e6, r.int(-1e9, 1e9)]);
}

/** Any JSON value, nesting at most `depth` more levels. */
function randomJson(r, depth = 5) {
    const kind = depth <= 0 ? r.int(0, 3) : r.int(0, 5);
    switch (kind) {
        case 0: return null;
        case 1: return r.chance(0.5);
        case 2: return randomNumber(r);
        case 3: return randomString(r);
        case 4: return Array.from({ length: r.int(0, 4) }, () => randomJson(r, depth - 1));
        default: {
            const object = {};
            for (let i = r.int(0, 4); i > 0; i--) { object[randomString(r, 8)] = randomJson(r, depth - 1); }
            return object;
        }
    }
}

/** JSON text nesting arrays and objects exactly `depth` levels deep. */
function nestedJson(r, depth) {
    let open = '';
    let close = '';
    for (let i = 0; i < depth; i++) {
        if (r.chance(0.5)) { open += '['; close = ']' + close; } else { open += '{"k":'; close = '}' + close; }
    }
    return open + '1' + close;
}

/** Nesting depth of a parsed JSON value (arrays and objects), stopping early past `limit`. */
function depthOf(value, limit) {
    let deepest = 0;
    const stack = [[value, 1]];
    while (stack.length > 0) {
        const [v, d] = stack.pop();
        if (v === null || typeof v !== 'object') { continue; }
        deepest = Math.max(deepest, d);
        if (deepest > limit) { return deepest; }
        for (const child of Array.isArray(v) ? v : Object.values(v)) { stack.push([child, d + 1]); }
    }
    return deepest;
}

/** The JSON value of UTF-8 bytes, or undefined when they are not valid UTF-8 or not JSON. */
function parseStrictJson(bytes) {
    let text;
    try { text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes); } catch { return { ok: false, why: 'utf8' }; }
    if (text.trim() === '') { return { ok: false, why: 'empty' }; }
    try { return { ok: true, value: JSON.parse(text) }; } catch { return { ok: false, why: 'json' }; }
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves with the results in order. */
async function pool(items, limit, fn) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const index = next++;
            results[index] = await fn(items[index], index);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

module.exports = { prng, fuzzSeed, randomJson, randomString, nestedJson, depthOf, parseStrictJson, pool };
