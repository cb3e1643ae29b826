'use strict';
/* global document, requestAnimationFrame, RED -- these run inside the editor page via page.evaluate */
// The canvas layout check of the browser tests: no status text may overlap a wire, another node or another status.
// Status texts change at runtime (counts grow, device names and causes are long), so every node that shows a
// status, or can show one (our nodes, function nodes that call node.status, MQTT nodes), is measured with room
// for a realistic text: its current text with ROOM_EXTRA more characters, and at least ROOM_CHARS characters.
// The measuring text is set on the node's own status label for a moment and put back in the same task: the canvas
// is never painted with it, and Node-RED's font, zoom and status offsets are the ones measured.

const ROOM_CHARS = 32;
const ROOM_EXTRA = 8;

/** Problems on the editor's active tab, as sentences ("status ... of X overlaps a wire"). */
function activeTabProblems(page) {
    return page.evaluate(({ roomChars, roomExtra }) => {
        const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        const nameOf = (g) => ((g.querySelector('.red-ui-flow-node-label') || {}).textContent || '').trim() || g.id;
        const groups = [...document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group')];
        const canShowStatus = (n) => n && (/^(printfactory|durst)-/.test(n.type) || /^mqtt (in|out)$/.test(n.type) ||
            (n.type === 'function' && /node\.status\(/.test(String(n.func || ''))));
        // The status band of every node that shows or can show a status, measured with the room described above.
        const bands = [];
        for (const g of groups) {
            const group = g.__statusGroup__;
            const label = g.__statusLabel__;
            if (!group || !label) { continue; }
            const node = RED.nodes.node(g.id);
            const shown = group.style.display !== 'none' && label.textContent.trim() !== '';
            if (!shown && !canShowStatus(node)) { continue; }
            const current = shown ? label.textContent : '';
            const saved = { text: label.textContent, display: group.style.display, transform: group.getAttribute('transform') };
            label.textContent = current.padEnd(Math.max(roomChars, current.length + roomExtra), '0');
            if (!shown) {
                group.style.display = 'inline';
                group.setAttribute('transform', `translate(3,${node.h + 3})`); // where Node-RED puts a status with a dot
            }
            const r = label.getBoundingClientRect();
            label.textContent = saved.text;
            group.style.display = saved.display;
            if (saved.transform === null) { group.removeAttribute('transform'); } else { group.setAttribute('transform', saved.transform); }
            bands.push({ g, name: nameOf(g), text: current, box: { left: r.left, right: r.right, top: r.top, bottom: r.bottom } });
        }
        // Points along every wire, in screen coordinates.
        const wires = [...document.querySelectorAll('#red-ui-workspace-chart path.red-ui-flow-link-path')].map((p) => {
            const m = p.getScreenCTM();
            const points = [];
            for (let d = 0, length = p.getTotalLength(); d <= length; d += 3) {
                const pt = p.getPointAtLength(d);
                points.push({ x: m.a * pt.x + m.c * pt.y + m.e, y: m.b * pt.x + m.d * pt.y + m.f });
            }
            return points;
        });
        const result = [];
        for (const band of bands) {
            const what = `status "${band.text}" (with room for ${Math.max(roomChars, band.text.length + roomExtra)} characters) of ${band.name}`;
            for (const g of groups) {
                const rect = g.querySelector('rect.red-ui-flow-node');
                if (g !== band.g && rect && hit(band.box, rect.getBoundingClientRect())) { result.push(`${what} overlaps node ${nameOf(g)}`); }
            }
            for (const other of bands) {
                if (other.g !== band.g && other.g.id < band.g.id && hit(band.box, other.box)) { result.push(`${what} overlaps the status of ${other.name}`); }
            }
            const b = band.box;
            if (wires.some((points) => points.some((p) => p.x > b.left && p.x < b.right && p.y > b.top && p.y < b.bottom))) {
                result.push(`${what} overlaps a wire`);
            }
        }
        return result;
    }, { roomChars: ROOM_CHARS, roomExtra: ROOM_EXTRA });
}

/** Shows the tab and waits until the canvas drew its nodes (the editor draws on the next animation frames). */
async function showTab(page, id) {
    await page.evaluate((tabId) => RED.workspaces.show(tabId), id);
    await page.waitForFunction((tabId) => {
        const ids = RED.nodes.filterNodes({ z: tabId }).map((n) => n.id);
        return ids.every((nodeId) => document.getElementById(nodeId));
    }, id, { timeout: 10000 });
    await redrawn(page);
}

/** Waits until the editor's pending redraw (nodes moved, statuses) is on the canvas: two animation frames later. */
function redrawn(page) {
    return page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/** Every tab of the editor: [{ id, label }]. */
function tabsOf(page) {
    return page.evaluate(() => { const list = []; RED.nodes.eachWorkspace((ws) => list.push({ id: ws.id, label: ws.label })); return list; });
}

module.exports = { ROOM_CHARS, ROOM_EXTRA, activeTabProblems, redrawn, showTab, tabsOf };
