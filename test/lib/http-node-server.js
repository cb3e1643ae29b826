'use strict';
// The test helper does not bind RED.httpNode to a server: this serves it on 127.0.0.1, so callbacks from a
// simulator reach durst-webhook-in over a real socket. Until the test has captured RED, every request gets 404.
const http = require('http');

/** `getRED()` returns the RED captured in the test (or undefined). Resolves with { server, base, close() }. */
async function serveHttpNode(getRED) {
    const server = http.createServer((req, res) => {
        const notFound = () => { res.statusCode = 404; res.end('not found'); };
        const RED = getRED();
        if (RED) { RED.httpNode(req, res, notFound); } else { notFound(); }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        server,
        base: `http://127.0.0.1:${server.address().port}`,
        async close() {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        }
    };
}

module.exports = { serveHttpNode };
