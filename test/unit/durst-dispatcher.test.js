'use strict';
// The webhook dispatcher in Express layouts other than the two the fault table runs in: HTTP nodes under a
// prefix behind the editor, an httpNode mounted after the flows started, an embedding the capture cannot
// precede, httpNodeMiddleware with its own body parser or refusing a request. Real express apps (Node-RED's
// own express and body-parser) on loopback sockets; the target is a plain recorder of what it was handed.
const http = require('http');
const path = require('path');
const assert = require('assert');
const { getDispatcher } = require('../../dist/nodes/lib/durst/dispatcher');

const fromNodeRed = (name) => require(require.resolve(name, { paths: [path.dirname(require.resolve('node-red'))] }));
const express = fromNodeRed('express');
const bodyParser = fromNodeRed('body-parser');

const PRETTY = JSON.stringify({ entityType: 'MOTIF', entityId: 7, newStatus: 'PRINTED' }, null, 4);

function recordingTarget() {
    const seen = { bodies: [], rejected: [] };
    return {
        seen,
        handle(request) { seen.bodies.push(request.rawBody.toString('utf8')); return { status: 200, body: { ok: true } }; },
        rejected(status, reason) { seen.rejected.push({ status, reason }); }
    };
}

/** The editor's admin app as far as bodies go: JSON + urlencoded parsers for every request, and a JSON echo route. */
function adminApp() {
    const admin = express();
    admin.use(bodyParser.json({ limit: '5mb' }));
    admin.use(bodyParser.urlencoded({ limit: '5mb', extended: true }));
    admin.post('/admin-echo', (req, res) => res.json({ parsed: req.body }));
    return admin;
}

async function serve(handler) {
    const server = http.createServer(handler);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); })
    };
}

const post = async (url, body, headers = { 'content-type': 'application/json' }) => {
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, type: res.headers.get('content-type') || '', json: await res.json().catch(() => undefined) };
};

describe('durst webhook dispatcher in other Express layouts', function () {
    const servers = [];
    afterEach(async function () { while (servers.length) { await servers.pop().close(); } });

    it('HTTP nodes under /nodes behind the editor on /: exact bytes under the prefix (any case), admin JSON still parsed', async function () {
        const root = express();
        const httpNode = express();
        root.use('/', adminApp());
        root.use('/nodes/', httpNode);
        const dispatcher = getDispatcher({ settings: {}, httpNode });
        const target = recordingTarget();
        dispatcher.register('/hook', target);
        const server = await serve(root);
        servers.push(server);
        assert.strictEqual((await post(server.url + '/nodes/hook', PRETTY)).status, 200);
        assert.strictEqual((await post(server.url + '/NODES/hook', PRETTY)).status, 200);
        assert.deepStrictEqual(target.seen.bodies, [PRETTY, PRETTY], 'the exact bytes, indentation included');
        // The same path outside the prefix is not the webhook's, and the editor's own JSON API still parses.
        assert.strictEqual((await post(server.url + '/hook', PRETTY)).status, 404);
        const echo = await post(server.url + '/admin-echo', '{"a":1}');
        assert.deepStrictEqual(echo.json, { parsed: { a: 1 } });
        // Placed once, first in the root app, however often the dispatcher is asked for.
        assert.strictEqual(getDispatcher({ settings: {}, httpNode }), dispatcher);
        const stack = root._router.stack;
        assert.strictEqual(stack[0].handle, dispatcher.capture);
        assert.strictEqual(stack.filter((layer) => layer.handle === dispatcher.capture).length, 1);
    });

    it('httpNode mounted only after the webhook registered: the capture moves to the new root', async function () {
        const httpNode = express();
        const dispatcher = getDispatcher({ settings: {}, httpNode });
        const target = recordingTarget();
        dispatcher.register('/late', target);
        const root = express();
        root.use('/', adminApp());
        root.use('/', httpNode);
        const server = await serve(root);
        servers.push(server);
        assert.strictEqual((await post(server.url + '/late', PRETTY)).status, 200);
        assert.deepStrictEqual(target.seen.bodies, [PRETTY]);
    });

    it('an embedding that parses bodies before httpNode without mounting it: a defined 500 in JSON, counted', async function () {
        const admin = adminApp();
        const httpNode = express();
        const dispatcher = getDispatcher({ settings: {}, httpNode });
        const target = recordingTarget();
        dispatcher.register('/hidden', target);
        const server = await serve((req, res) => admin(req, res, () => httpNode(req, res, () => { res.statusCode = 404; res.end(); })));
        servers.push(server);
        const res = await post(server.url + '/hidden', PRETTY);
        assert.strictEqual(res.status, 500);
        assert.match(res.type, /^application\/json/);
        assert.strictEqual(res.json.ok, false);
        assert.match(res.json.error, /another body parser/);
        assert.deepStrictEqual(target.seen.bodies, []);
        assert.deepStrictEqual(target.seen.rejected.map((r) => r.status), [500]);
    });

    it('httpNodeMiddleware with a body parser of its own still leaves the exact bytes; a refusing middleware is answered in JSON', async function () {
        const httpNode = express();
        const refuse = (req, _res, next) => {
            if (req.headers['x-refuse']) { const err = new Error('nope: /secret/path/file.js'); err.status = 403; next(err); return; }
            next();
        };
        const dispatcher = getDispatcher({ settings: { httpNodeMiddleware: [bodyParser.json(), refuse] }, httpNode });
        const target = recordingTarget();
        dispatcher.register('/mw', target);
        const server = await serve(httpNode);
        servers.push(server);
        assert.strictEqual((await post(server.url + '/mw', PRETTY)).status, 200);
        assert.deepStrictEqual(target.seen.bodies, [PRETTY]);
        const refused = await post(server.url + '/mw', PRETTY, { 'content-type': 'application/json', 'x-refuse': '1' });
        assert.strictEqual(refused.status, 403);
        assert.deepStrictEqual(refused.json, { ok: false, error: 'forbidden' }, 'no message, stack or path of the error');
    });

    it('a target that throws: 500 in JSON without the error text, and the server keeps serving', async function () {
        const httpNode = express();
        const dispatcher = getDispatcher({ settings: {}, httpNode });
        const rejected = [];
        dispatcher.register('/throws', { handle() { throw new Error('at /srv/app/secret.js:1:1'); }, rejected: (s) => rejected.push(s) });
        const server = await serve(httpNode);
        servers.push(server);
        const res = await post(server.url + '/throws', '{}');
        assert.strictEqual(res.status, 500);
        assert.deepStrictEqual(res.json, { ok: false, error: 'internal error' });
        assert.deepStrictEqual(rejected, [500]);
        assert.strictEqual((await post(server.url + '/throws', '{}')).status, 500, 'still answering');
    });
});
