'use strict';
/* global document, getComputedStyle, RED -- these run inside the editor page via page.evaluate */
// Our nodes' edit dialogs in the browser tests: open one (the first node of a type, config nodes included), close it,
// take its picture, and measure what a reader sees in it (text contrast, light backgrounds in a dark theme).
const { waitFor } = require('./harness');

/** Opens the edit dialog of the first node of `type`; resolves with the tray once its body shows. */
async function openNodeDialog(page, type) {
    const id = await page.evaluate((t) => {
        let found = null;
        RED.nodes.eachConfig((n) => { if (!found && n.type === t) { found = n.id; } });
        RED.nodes.eachNode((n) => { if (!found && n.type === t) { found = n.id; } });
        return found;
    }, type);
    if (!id) { throw new Error(`no ${type} to open`); }
    await page.evaluate((nodeId) => {
        const n = RED.nodes.node(nodeId);
        if (n._def.category === 'config') { RED.editor.editConfig('', n.type, n.id); } else { RED.workspaces.show(n.z); RED.editor.edit(n); }
    }, id);
    const tray = page.locator('.red-ui-tray').last();
    await tray.locator('.red-ui-tray-body').waitFor({ state: 'visible', timeout: 10000 });
    await page.waitForTimeout(400); // the tray slides in: the duration is the animation's, for a still picture
    return tray;
}

/**
 * A picture of the whole open dialog, for docs/images/dialogs: the tray is as high as the window, so the window grows
 * (for the picture only) until nothing of the form is scrolled out of sight, and a long form shows no half-cut row.
 */
async function dialogPicture(page, tray) {
    const size = page.viewportSize();
    // How much of the form is out of sight: the tray's scrolling boxes (Node-RED's editor.scss: overflow auto).
    const hidden = () => tray.evaluate((el) => Math.max(0, ...[...el.querySelectorAll('.red-ui-tray-body-wrapper, .red-ui-tray-content')]
        .map((box) => box.scrollHeight - box.clientHeight)));
    const extra = await hidden();
    if (extra === 0) { return tray.screenshot(); }
    await page.setViewportSize({ width: size.width, height: size.height + extra + 16 });
    try {
        await waitFor(async () => (await hidden()) === 0, { what: 'the whole dialog in sight', timeoutMs: 10000 });
        return await tray.screenshot();
    } finally {
        await page.setViewportSize(size);
    }
}

/** Cancels the open dialog and waits until its tray is gone. */
async function closeNodeDialog(page, tray) {
    await page.locator('#node-dialog-cancel, #node-config-dialog-cancel').first().click();
    await tray.waitFor({ state: 'detached', timeout: 10000 });
}

/**
 * What a reader cannot read in the open dialog's form (ours: the node's template and what its editor code adds):
 * every visible element with text of its own, and every input, select and textarea, whose text colour against the
 * background behind it has a contrast ratio below `minRatio` (WCAG 2 relative luminance; opacity and translucent
 * layers blended); with `dark`, also every element with a light background of its own (luminance above 0.4).
 */
function dialogProblems(page, { dark, minRatio = 4.5 }) {
    return page.evaluate(({ dark: isDark, minRatio: min }) => {
        const form = [...document.querySelectorAll('.red-ui-tray')].pop().querySelector('form#dialog-form, form#node-config-dialog-edit-form');
        if (!form) { return ['no dialog form found']; }
        const parse = (text) => {
            const m = /^rgba?\(([^)]+)\)$/.exec(text);
            if (!m) { return null; }
            const [r, g, b, a = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
            return { r, g, b, a };
        };
        const over = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
        const luminance = ({ r, g, b }) => {
            const f = (v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
        };
        const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
        // The colour behind an element: its own background and its ancestors', translucent layers blended down to the page.
        const backgroundOf = (el) => {
            const layers = [];
            for (let e = el; e; e = e.parentElement) {
                const c = parse(getComputedStyle(e).backgroundColor);
                if (c && c.a > 0) { layers.push(c); if (c.a >= 1) { break; } }
            }
            return layers.reverse().reduce((below, layer) => over(layer, below), { r: 255, g: 255, b: 255, a: 1 });
        };
        const opacityOf = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) { o *= Number(getComputedStyle(e).opacity); } return o; };
        const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
        const describe = (el) => {
            const text = (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) ? el.value || el.id : [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join(' ')).trim();
            return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} "${text.slice(0, 40)}"`;
        };
        const problems = [];
        for (const el of form.querySelectorAll('*')) {
            if (!visible(el)) { continue; }
            const style = getComputedStyle(el);
            const field = /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) && !/^(checkbox|radio|hidden|button|file)$/.test(el.type);
            const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
            const background = backgroundOf(el);
            // Node-RED's own button widget keeps the theme's button colours (4.1's default theme gives every button,
            // core nodes' too, #888 on white): not measured as text of ours. Its background is, below.
            if ((field || ownText) && !el.closest('.red-ui-button')) {
                const colour = parse(style.color);
                if (!colour) { problems.push(`${describe(el)}: colour ${style.color} not measurable`); continue; }
                const text = over({ ...colour, a: colour.a * opacityOf(el) }, background);
                const r = ratio(text, background);
                if (r < min) { problems.push(`${describe(el)}: contrast ${r.toFixed(2)} (${style.color} on rgb(${background.r}, ${background.g}, ${background.b}))`); }
            }
            const own = parse(style.backgroundColor);
            if (isDark && own && own.a > 0 && luminance(background) > 0.4) {
                problems.push(`${describe(el)}: light background ${style.backgroundColor} in the dark theme`);
            }
        }
        return problems;
    }, { dark, minRatio });
}

module.exports = { openNodeDialog, closeNodeDialog, dialogPicture, dialogProblems };
