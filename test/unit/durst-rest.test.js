'use strict';
// DurstRestClient against a tiny server that answers the way the vendor docs show, not the way the simulator does.
const http = require('http');
const assert = require('assert');
const { DurstRestClient } = require('../../dist/nodes/lib/durst/rest-client');

// The documented list example, verbatim: not valid JSON.
const DOC_LIST = `{
  {
    "id": 4,
    "path": "path/after/baseUri/",
    "topic": "STATUS/*",
    "status": "ACTIVE"
  },
  {
    "id": 3,
    "path": "path/after/baseUri/",
    "topic": "STATUS/PRODUCTION_JOB/*",
    "status": "ACTIVE"
  }
]`;

describe('durst REST client against documented answer shapes', function () {
    let server;
    let url;
    const seen = [];

    before(async function () {
        server = http.createServer((req, res) => {
            seen.push(`${req.method} ${req.url} ${req.headers.authorization || ''}`);
            if (req.url === '/api/v1/subscribers/17/subscriptions' || req.url === '/api/v1/subscribers/17/subscriptions/3') {
                res.writeHead(200, { 'content-type': '*/*' });
                res.end(DOC_LIST);
            } else if (req.url === '/api/v1/subscribers/18/subscriptions') {
                res.writeHead(200, { 'content-type': 'application/json' });
                res.end(JSON.stringify({ content: [{ id: 9, topic: 'REPO/*', status: 'ACTIVE' }], totalElements: 1 }));
            } else if (req.url === '/api/v1/subscribers/403') {
                res.writeHead(403);
                res.end();
            } else {
                res.writeHead(404);
                res.end();
            }
        });
        await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
        url = `http://127.0.0.1:${server.address().port}`;
    });

    after(async function () {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
    });

    it('reads the documented (invalid JSON) list example as an array', async function () {
        const client = new DurstRestClient({ apiUrl: url, auth: { type: 'bearer', token: 't0k' } });
        const res = await client.listSubscriptions(17);
        assert.strictEqual(res.statusCode, 200);
        assert.deepStrictEqual(res.body.map((s) => s.id), [4, 3]);
        assert.ok(seen[seen.length - 1].endsWith('Bearer t0k'));
    });

    it('unwraps a list wrapped in an object', async function () {
        const client = new DurstRestClient({ apiUrl: url });
        assert.deepStrictEqual((await client.listSubscriptions(18)).body.map((s) => s.id), [9]);
    });

    it('picks the requested entry when "get one" answers with a list, as the docs show', async function () {
        const client = new DurstRestClient({ apiUrl: url, auth: { type: 'basic', user: 'u', password: 'p' } });
        const res = await client.getSubscription(17, 3);
        assert.strictEqual(res.body.topic, 'STATUS/PRODUCTION_JOB/*');
        assert.ok(seen[seen.length - 1].endsWith('Basic ' + Buffer.from('u:p').toString('base64')));
    });

    it('gives 403 and 404 clear errors with statusCode, without retrying', async function () {
        const client = new DurstRestClient({ apiUrl: url, backoffMs: 1 });
        const before = seen.length;
        await assert.rejects(client.getSubscriber(403), (err) => err.statusCode === 403 && /forbidden/.test(err.message));
        await assert.rejects(client.getSubscriber(404), (err) => err.statusCode === 404 && /not found/.test(err.message));
        assert.strictEqual(seen.length - before, 2);
    });

    it('retries network errors a bounded number of times and reports the error code', async function () {
        const closed = http.createServer();
        await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
        const port = closed.address().port;
        await new Promise((resolve) => closed.close(resolve));
        const client = new DurstRestClient({ apiUrl: `http://127.0.0.1:${port}`, attempts: 3, backoffMs: 1 });
        await assert.rejects(client.getSubscriber(1), (err) => err.code === 'ECONNREFUSED' && err.statusCode === undefined);
    });

    it('times out a hanging server', async function () {
        const hang = http.createServer(() => { /* never answers */ });
        await new Promise((resolve) => hang.listen(0, '127.0.0.1', resolve));
        const client = new DurstRestClient({ apiUrl: `http://127.0.0.1:${hang.address().port}`, timeoutMs: 100, attempts: 2, backoffMs: 1 });
        await assert.rejects(client.getSubscriber(1), (err) => err.code === 'ECONNABORTED' || /timeout/i.test(err.message));
        hang.closeAllConnections();
        await new Promise((resolve) => hang.close(resolve));
    });
});
