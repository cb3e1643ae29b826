'use strict';
// The admin routes' failure answer (nodes/lib/admin-routes.ts: <status> { ok: false, code, error, vars?, statusCode? })
// as one object to compare whole: the HTTP status beside the body, the English `error` (a detail for logs; the
// editor shows the catalogue text of `code`) as its type.
function failureOf(res) {
    return { status: res.status, ...res.body, error: typeof res.body.error };
}

module.exports = { failureOf };
