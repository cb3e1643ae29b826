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
