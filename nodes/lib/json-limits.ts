// Limits shared by every JSON input of the package (PrintFactory frames, Durst callbacks): one rule,
// one implementation, so both doors of the runtime refuse the same hostile shapes.

/**
 * Deeper JSON is refused before parsing: Node-RED clones msgs (a node wired to two others), and the
 * debug sidebar walks them, recursively; a few KB nested thousands deep overflow the stack there.
 */
export const MAX_JSON_DEPTH = 64;

/** True when a JSON text nests objects/arrays deeper than `maxDepth` (strings are skipped). */
export function jsonDeeperThan(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
    // A text cannot nest deeper than half its length: short frames need no scan.
    if (text.length <= maxDepth * 2) { return false; }
    // Fewer opening brackets than the limit cannot nest beyond it; indexOf is much faster than a char loop.
    let opens = 0;
    for (let i = text.indexOf('{'); i !== -1 && opens <= maxDepth; i = text.indexOf('{', i + 1)) { opens += 1; }
    for (let i = text.indexOf('['); i !== -1 && opens <= maxDepth; i = text.indexOf('[', i + 1)) { opens += 1; }
    if (opens <= maxDepth) { return false; }
    let depth = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
            if (c === 92 /* \ */) { i += 1; } else if (c === 34 /* " */) { inString = false; }
        } else if (c === 34) {
            inString = true;
        } else if (c === 123 /* { */ || c === 91 /* [ */) {
            depth += 1;
            if (depth > maxDepth) { return true; }
        } else if (c === 125 /* } */ || c === 93 /* ] */) {
            depth -= 1;
        }
    }
    return false;
}

/**
 * True when a parsed JSON value has an own `__proto__` key anywhere. JSON.parse keeps such a key as a
 * plain property, but Node-RED's cloneMessage (lodash cloneDeep, used for every wire after the first)
 * turns it into the clone's prototype: the second wire would see inherited fields the first does not.
 * `text` is the JSON text the value was parsed from: without `__proto__` or a `\u` escape in it, no key
 * can be `__proto__`, so ordinary input is not walked.
 */
export function jsonHasProtoKey(text: string, value: unknown): boolean {
    if (!text.includes('__proto__') && !text.includes('\\u')) { return false; }
    const stack: unknown[] = [value];
    while (stack.length > 0) {
        const item = stack.pop();
        if (typeof item !== 'object' || item === null) { continue; }
        if (Array.isArray(item)) { for (const v of item) { stack.push(v); } continue; }
        if (Object.prototype.hasOwnProperty.call(item, '__proto__')) { return true; }
        for (const v of Object.values(item)) { stack.push(v); }
    }
    return false;
}
