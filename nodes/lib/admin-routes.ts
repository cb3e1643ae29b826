// The editor's buttons talk to the runtime through these routes (under RED.httpAdmin, /print-events/...): one place
// that types them with Express and gives every answer one shape.
//   success: 200 { ok: true, ...answer }
//   failure: <status> { ok: false, code, error, vars?, statusCode? }: `code` picks the editor's catalogue text
//            (`<type>.<area>.error.<code>`, or for PrintFactory's Test connection `printfactory-config.test.<code>`,
//            in en-US and de, with `vars`); `error` is the English detail for logs and for a code the editor does
//            not know. The editor app's own refusals (broken JSON, too large: ./editor-secrets.ts) have this shape too.
import type { Request, Response } from 'express';
import type { NodeAPI } from 'node-red';
import { answerEditorErrorsAsJson, isJsonRequest, NOT_JSON_ERROR } from './editor-secrets';

export type AdminVars = Record<string, string | number>;

/** A refusal with its HTTP status and catalogue code; thrown (or rejected) by a route's handler. */
export class AdminError extends Error {
    constructor(readonly status: number, readonly code: string, message: string, readonly vars?: AdminVars, readonly statusCode?: number) {
        super(message);
        this.name = 'AdminError';
    }
}

export interface AdminFailure { ok: false; code: string; error: string; vars?: AdminVars; statusCode?: number }

type Handler = (req: Request) => object | Promise<object>;

function answer(res: Response, work: () => object | Promise<object>): void {
    Promise.resolve()
        .then(work)
        .then((body) => { res.json({ ok: true, ...body }); })
        .catch((err: unknown) => {
            if (res.headersSent) { return; }
            const failure: AdminFailure = err instanceof AdminError
                ? { ok: false, code: err.code, error: err.message, vars: err.vars, statusCode: err.statusCode }
                : { ok: false, code: 'internal', error: String((err as Error)?.message ?? err), vars: { error: String((err as Error)?.message ?? err) } };
            res.status(err instanceof AdminError ? err.status : 500).json(failure);
        });
}

/** GET route; `permission` as `RED.auth.needsPermission` takes it (e.g. 'durst-subscription.read'). */
export function adminGet(RED: NodeAPI, path: string, permission: string, handler: Handler): void {
    RED.httpAdmin.get(path, RED.auth.needsPermission(permission), (req: Request, res: Response) => answer(res, () => handler(req)));
}

/**
 * POST route taking JSON only: a cross-site HTML form (urlencoded, text/plain) needs no CORS preflight, so it is
 * refused with 415 (see docs/architecture.md, Admin endpoints). Broken JSON gets a JSON 400 from the editor's app.
 */
export function adminPost(RED: NodeAPI, path: string, permission: string, handler: Handler): void {
    answerEditorErrorsAsJson(RED.httpAdmin);
    RED.httpAdmin.post(path, RED.auth.needsPermission(permission), (req: Request, res: Response) => answer(res, () => {
        if (!isJsonRequest(req)) { throw new AdminError(415, 'notJson', NOT_JSON_ERROR); }
        return handler(req);
    }));
}
