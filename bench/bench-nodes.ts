// Source of the bench-only node types, written into a temporary nodes dir at run time
// (Node-RED loads node files from disk, with a sibling .html).
//
// bench-counter: counts every msg it receives, into the hub counter named by `name`; with
//                `latency: true` it also records now - the send time the paced sender wrote into
//                the JobGUID ("lat-<process.hrtime ns>"), from msg.jobGuid or msg.payload.JobGUID.
// bench-ceiling: Node-RED's delivery ceiling: one WebSocket client that sends one
//                pre-built msg per frame, without parsing (`yieldEvery`: optional flow control). Same socket, same counter,
//                so the gap to it is the cost of everything a real node does per frame.
import fs from 'fs';
import path from 'path';

const NODE_JS = `'use strict';
module.exports = function (RED) {
    const hub = globalThis[Symbol.for('node-red-contrib-print-events.bench.hub')];
    function BenchCounter(config) {
        RED.nodes.createNode(this, config);
        const counter = hub.counter(config.name || config.id);
        if (config.latency) {
            this.on('input', function (msg, send, done) {
                const guid = msg.jobGuid || (msg.payload && msg.payload.JobGUID);
                if (typeof guid === 'string' && guid.startsWith('lat-')) {
                    counter.sample(Number(process.hrtime.bigint() - BigInt(guid.slice(4))) / 1e6);
                }
                counter.hit();
                done();
            });
            return;
        }
        this.on('input', function (msg, send, done) { counter.hit(); done(); });
    }
    RED.nodes.registerType('bench-counter', BenchCounter);

    function BenchCeiling(config) {
        RED.nodes.createNode(this, config);
        const node = this;
        const payload = hub.prebuiltPayload;
        const socket = new hub.WebSocket(config.url, { headers: { MisKey: config.misKey } });
        // yieldEvery: the same flow control as the package's connection (pause reading after that many
        // frames in one turn, resume on setImmediate), so the gap to it is per-frame work only.
        const yieldEvery = Number(config.yieldEvery) || 0;
        let frames = 0;
        const resume = function () { frames = 0; socket.resume(); };
        socket.on('message', function () {
            node.send({ payload: payload, topic: 'job.created' });
            if (yieldEvery && ++frames >= yieldEvery && socket.readyState === 1 && !socket.isPaused) {
                socket.pause();
                setImmediate(resume);
            }
        });
        socket.on('error', function (err) { node.warn('bench-ceiling: ' + err.message); });
        node.on('close', function (done) {
            if (socket.readyState === socket.CLOSED) { done(); return; }
            socket.once('close', function () { done(); });
            socket.terminate();
        });
    }
    RED.nodes.registerType('bench-ceiling', BenchCeiling);
};
`;

const NODE_HTML = `<script type="text/javascript">
RED.nodes.registerType('bench-counter', { category: 'bench', defaults: { name: { value: '' }, latency: { value: false } }, inputs: 1, outputs: 0 });
RED.nodes.registerType('bench-ceiling', { category: 'bench', defaults: { url: { value: '' }, misKey: { value: '' }, yieldEvery: { value: 0 } }, inputs: 0, outputs: 1 });
</script>
`;

/** Writes the bench node files into `dir` (created if needed) and returns it. */
export function writeBenchNodes(dir: string): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'bench-nodes.js'), NODE_JS);
    fs.writeFileSync(path.join(dir, 'bench-nodes.html'), NODE_HTML);
    return dir;
}
