'use strict';
// The editor HTML of every node follows the editor's theme (Node-RED 5 has a light and a dark one): colours in its
// styles are Node-RED theme variables, never fixed colours, and every variable it names exists in the theme of the
// Node-RED these tests run on (4.1 in CI's first leg, 5.0 in its second). The node's palette colour
// (`color: '#...'` in registerType) is Node-RED's convention and stays. Browser test: test/e2e/dialog-themes.test.js.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const TYPES = Object.keys(require(path.join(ROOT, 'package.json'))['node-red'].nodes);
const html = (type) => fs.readFileSync(path.join(ROOT, 'dist', 'nodes', type, `${type}.html`), 'utf8');

// The style texts of an editor HTML file: style attributes, <style> blocks, and jQuery .css(...) calls.
function styleTexts(source) {
    return [
        ...[...source.matchAll(/\bstyle="([^"]*)"/g)].map((m) => m[1]),
        ...[...source.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)].map((m) => m[1]),
        ...[...source.matchAll(/\.css\(([^;]*?)\)\s*[.;\n]/g)].map((m) => m[1])
    ];
}
const NAMED = 'white|black|red|green|blue|yellow|orange|gray|grey|silver|maroon|navy|purple|teal|olive|lime|aqua|fuchsia|pink|brown|gold|beige|ivory|khaki|lavender|tomato|coral|salmon|crimson|darkred|darkgray|darkgrey|lightgray|lightgrey|whitesmoke|gainsboro';
function fixedColours(text) {
    const found = [];
    for (const m of text.matchAll(/#[0-9a-f]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch)\(/gi)) { found.push(m[0]); }
    // A colour name as a value of a colour property (not a part of a theme variable's name such as --red-ui-...).
    for (const m of text.matchAll(new RegExp(`(?:color|background|border|fill|stroke|outline)[\\w-]*['"]?\\s*[:,]\\s*['"]?[^'";]*?(?<![\\w-])(${NAMED})(?![\\w-])`, 'gi'))) { found.push(m[1]); }
    return found;
}

// The --red-ui-* variables the running Node-RED's editor defines (its :root, the default theme).
function themeVariables() {
    const css = fs.readFileSync(path.join(path.dirname(require.resolve('@node-red/editor-client/package.json')), 'public', 'red', 'style.min.css'), 'utf8');
    const names = new Set();
    for (const block of css.matchAll(/:root\s*\{([^{}]*)\}/g)) {
        for (const m of block[1].matchAll(/(--red-ui-[\w-]+)\s*:/g)) { names.add(m[1]); }
    }
    return names;
}

describe('editor HTML: theme variables, no fixed colours', function () {
    const variables = themeVariables();

    it('finds the theme variables of the Node-RED it runs on', function () {
        assert.ok(variables.size > 100, `only ${variables.size} --red-ui-* variables found`);
        assert.ok(variables.has('--red-ui-primary-text-color'));
    });

    it('the check sees fixed colours in a style attribute, a <style> block and a .css() call', function () {
        const sample = '<div style="color: #d6615f"></div><style>.x { background: white }</style>\n$(el).css(\'border-color\', \'rgb(1, 2, 3)\');\n';
        assert.deepStrictEqual(styleTexts(sample).flatMap(fixedColours), ['#d6615f', 'white', 'rgb(']);
        assert.deepStrictEqual(fixedColours('color: var(--red-ui-text-color-error); width: 70%'), []);
    });

    for (const type of TYPES) {
        it(`${type}: no fixed colour in its styles, and every var(--red-ui-*) it uses exists`, function () {
            const source = html(type);
            assert.deepStrictEqual(styleTexts(source).flatMap(fixedColours), [], `${type}.html styles with fixed colours`);
            const used = [...new Set([...source.matchAll(/var\((--red-ui-[\w-]+)/g)].map((m) => m[1]))];
            assert.deepStrictEqual(used.filter((v) => !variables.has(v)), [], `${type}.html names theme variables this Node-RED lacks`);
            // The palette colour is the only colour literal outside the styles.
            const literals = [...source.replace(/\bcolor:\s*'#[0-9a-f]{6}',/i, '').matchAll(/['"]#[0-9a-f]{3,8}['"]/gi)].map((m) => m[0]);
            assert.deepStrictEqual(literals, [], `${type}.html colour literals besides its palette colour`);
        });
    }
});
