// The PrintFactory Cloud REST API (api.aurelon.com/api/v2) as far as the vendor documents it, answered from the
// simulator's PrintFloor, so a JobGUID from a notification resolves to that job (../../docs/printfactory.md,
// ../../../shared notes: public-api-notes.md). Served on the notification simulator's own port: every plain HTTP
// request that is not a WebSocket upgrade comes here.
//
//   GET  /api/v2/job/{JobGUID}/status        job status           404 {"Message":"JobGUID is not found"}
//   POST /api/v2/job/list                    filtered job list    (JSON body; every documented filter field)
//   GET  /api/v2/device/{DeviceGUID}/status  device status        404 {"Message":"DeviceGUID is not found"}
//   GET  /api/v2/device/{DeviceGUID}/queues  device queues
// Every call: 401 {"Message":"Invalid MisKey"} for an unknown MisKey header, 401 with the "headers are required"
// text without one; a missing GUID is 400 {"Message":"\"JobGUID\" value required"} (DeviceGUID likewise).
// Test knobs: latency, the array-wrapped device answer one vendor page shows, and injected failures (429/503 with
// Retry-After, a non-JSON gateway page).
import type http from 'http';
import { ACTIVE_JOB_STATUSES, FloorJob, JOB_STATUSES, PrintFloor } from './floor';

export interface ApiRequestRecord { method: string; path: string; misKey: 'valid' | 'invalid' | 'missing'; status: number }

export interface InjectedFailure {
    status: number;
    /** Retry-After header value (seconds or an HTTP date), if any. */
    retryAfter?: string;
    /** Raw body instead of the vendor's JSON error (e.g. an HTML gateway page). */
    body?: string;
    contentType?: string;
}

const MISKEY_REQUIRED = '"MisKey" or "HardwareHash", "SerialNumber" and "ApplicationVersion" headers are required';
const MAX_BODY_BYTES = 64 * 1024;
const GUID_PATH = /^\/api\/v2\/(job|device)\/([^/]*)\/(status|queues)\/?$/i;
// The job list filter fields the vendor documents; string fields match case-insensitively, Job/Device/Queue by part.
const PART_FIELDS: Array<[string, (job: FloorJob, floor: PrintFloor) => string]> = [
    ['Job', (j) => j.JobName],
    ['Device', (j, floor) => floor.device(j.DeviceGUID)?.info.DeviceName ?? ''],
    ['Queue', (j) => j.QueueName]
];
const EXACT_FIELDS: Array<[string, (job: FloorJob, floor: PrintFloor) => string[]]> = [
    ['JobGUID', (j) => [j.JobGUID]],
    ['DeviceGUID', (j) => [j.DeviceGUID]],
    ['DocumentGUID', (j) => j.Documents.map((d) => d.DocumentGUID)],
    ['MediaType', (j) => [j.MediaType]],
    ['MediaSize', (j) => [j.MediaSize]],
    ['User', (j) => [j.User]],
    ['Producer', (j) => [j.Producer]],
    ['SerialNumber', (j, floor) => [String(floor.device(j.DeviceGUID)?.info.SerialNumber ?? '')]]
];

export class PrintFactoryRestApi {
    /** Every REST request, in arrival order (tests count the calls a burst made). */
    readonly requests: ApiRequestRecord[] = [];
    /** Milliseconds every answer waits before it is sent. */
    latencyMs = 0;
    /** true: the device status answer is wrapped in a one-element array, as on the vendor's mirror page. */
    deviceAnswerAsArray = false;
    /** Requests being answered now, and the most at once since start (concurrency checks). */
    inFlight = 0;
    peakInFlight = 0;
    private readonly failures: InjectedFailure[] = [];
    private readonly timers = new Set<NodeJS.Timeout>();

    constructor(private readonly floor: PrintFloor, private readonly misKeys: Set<string>) {}

    /** The next `count` requests (after the MisKey check) get this answer instead of the real one. */
    injectFailures(count: number, failure: InjectedFailure): void {
        for (let i = 0; i < count; i++) { this.failures.push(failure); }
    }

    /** Drops pending delayed answers (the server is stopping). */
    stop(): void {
        for (const timer of this.timers) { clearTimeout(timer); }
        this.timers.clear();
        this.failures.length = 0;
    }

    handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const path = (req.url ?? '/').split('?')[0];
        const header = req.headers.miskey;
        const misKey = Array.isArray(header) ? header[0] : header;
        const record: ApiRequestRecord = { method: req.method ?? 'GET', path, misKey: !misKey ? 'missing' : this.misKeys.has(misKey) ? 'valid' : 'invalid', status: 0 };
        this.requests.push(record);
        this.inFlight += 1;
        this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
        let counted = true;
        const uncount = (): void => { if (counted) { counted = false; this.inFlight -= 1; } };
        res.once('close', uncount);
        const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
            record.status = status;
            const text = typeof body === 'string' && headers['Content-Type'] ? body : JSON.stringify(body);
            const write = (): void => {
                if (res.writableEnded || res.destroyed) { return; }
                res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers, 'Content-Length': String(Buffer.byteLength(text)) });
                res.end(text);
                uncount();
            };
            if (this.latencyMs <= 0) { write(); return; }
            const timer = setTimeout(() => { this.timers.delete(timer); write(); }, this.latencyMs);
            this.timers.add(timer);
        };
        const fail = (status: number, message: string): void => send(status, { Message: message });

        if (!/^\/api\/v2\//i.test(path)) {
            send(426, 'PrintFactory simulator: notifications need a WebSocket client; the REST API is under /api/v2/\n', { 'Content-Type': 'text/plain' });
            return;
        }
        if (record.misKey === 'missing') { fail(401, MISKEY_REQUIRED); return; }
        if (record.misKey === 'invalid') { fail(401, 'Invalid MisKey'); return; }
        const failure = this.failures.shift();
        if (failure) {
            const headers: Record<string, string> = {};
            if (failure.retryAfter !== undefined) { headers['Retry-After'] = failure.retryAfter; }
            if (failure.body !== undefined) { headers['Content-Type'] = failure.contentType ?? 'text/html'; }
            send(failure.status, failure.body ?? { Message: failure.status === 429 ? 'Too Many Requests' : 'Service Unavailable' }, headers);
            return;
        }
        if (/^\/api\/v2\/job\/list\/?$/i.test(path)) {
            if (req.method !== 'POST') { fail(405, 'The requested resource does not support http method \'' + req.method + '\'.'); return; }
            this.readJson(req, (err, filter) => {
                if (err) { fail(err === 'tooLarge' ? 413 : 400, err === 'tooLarge' ? 'Request Entity Too Large' : 'Invalid JSON body'); return; }
                send(200, this.jobList(filter ?? {}));
            });
            return;
        }
        const match = GUID_PATH.exec(path);
        if (!match || (match[1].toLowerCase() === 'job' && match[3].toLowerCase() !== 'status')) { fail(404, 'No HTTP resource was found that matches the request URI.'); return; }
        if (req.method !== 'GET') { fail(405, 'The requested resource does not support http method \'' + req.method + '\'.'); return; }
        const kind = match[1].toLowerCase();
        let guid: string;
        try { guid = decodeURIComponent(match[2]).trim(); } catch { guid = ''; }
        const field = kind === 'job' ? 'JobGUID' : 'DeviceGUID';
        if (!guid) { fail(400, `"${field}" value required`); return; }
        if (kind === 'job') {
            const job = this.floor.job(guid);
            if (!job) { fail(404, 'JobGUID is not found'); return; }
            send(200, this.jobStatus(job));
            return;
        }
        const found = this.floor.device(guid);
        if (!found) { fail(404, 'DeviceGUID is not found'); return; }
        if (match[3].toLowerCase() === 'queues') { send(200, found.info.Queues); return; }
        const status = this.deviceStatus(guid);
        send(200, this.deviceAnswerAsArray ? [status] : status);
    }

    /** The documented job status answer for a floor job. */
    jobStatus(job: FloorJob): Record<string, unknown> {
        const device = this.floor.device(job.DeviceGUID);
        return {
            Info: {
                DeviceGUID: job.DeviceGUID,
                DeviceName: device?.info.DeviceName ?? null,
                QueueGUID: job.QueueGUID,
                QueueName: job.QueueName,
                Job: job.JobName,
                Status: job.Status,
                User: job.User,
                Pages: job.Pages,
                Copies: job.Copies,
                Size: '9.0 MB',
                Message: job.Message,
                PrintMode: `${job.MediaType} > CMYK 600x600`,
                PrinterProfile: 'Standard',
                DriverSettings: 'X_resolution=DPI=600, Y_resolution=600, InkSet=INK=CMYK',
                Preview: null
            },
            Documents: job.Documents.map((d) => d.Name),
            Time: { ProcessingTime: '00:00:28', PrintingOrCuttingTime: job.Status === 'Completed' ? '00:04:10' : null },
            Journal: job.Status === 'Completed' ? [{ Date: job.CreatedDate, Duration: '00:04:10', Process: 'Spooler', Message: null }] : [],
            Inks: ['Cyan', 'Magenta', 'Yellow', 'Black'].map((Name) => ({ Name, ConsumedInk: null, Cost: null })),
            Media: {
                MediaSize: job.MediaSize, MediaType: job.MediaType, UsedMediaLength: null, UsedMediaAreaGross: null,
                Efficiency: null, Cost: null, UsedMediaSheets: null, JobMediaPriceListName: null
            },
            Nest: null,
            // Not in the vendor's sample, but the job list has it and a dashboard wants it.
            Progress: job.Progress
        };
    }

    /** The documented device status answer (MediaSize as the help page's string). */
    deviceStatus(guid: string): Record<string, unknown> {
        const found = this.floor.device(guid);
        if (!found) { throw new Error(`no device ${guid}`); }
        const { device, info } = found;
        const current = this.floor.currentJob(device.DeviceGUID);
        const inProgress = this.floor.jobs().filter((j) => j.DeviceGUID === device.DeviceGUID && j.Status === 'InProgress').length;
        return {
            DeviceName: info.DeviceName,
            DeviceStatus: device.Status,
            DeviceType: info.DeviceType,
            MediaSize: info.MediaSize,
            MediaSource: 'Roll',
            Location: info.Location,
            ComputerGUID: info.ComputerGUID,
            Rip: info.Rip,
            SerialNumber: info.SerialNumber,
            CurrentJob: current
                ? { JobGUID: current.JobGUID, Name: current.JobName, Copies: current.Copies, RemainingPages: current.Pages, User: current.User, Progress: current.Progress }
                : null,
            InProgressJobs: inProgress
        };
    }

    /** The documented job list: every filter field the vendor names; no paging. */
    jobList(filter: Record<string, unknown>): Array<Record<string, unknown>> {
        const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v).trim().toLowerCase() : '');
        let statuses: string[] | null = null;
        if (Array.isArray(filter.StatusList) && filter.StatusList.length > 0) {
            statuses = filter.StatusList.map((s) => String(s)).filter((s) => (JOB_STATUSES as readonly string[]).includes(s));
        }
        return this.floor.jobs().filter((job) => {
            if (statuses && !statuses.includes(job.Status)) { return false; }
            for (const [field, value] of PART_FIELDS) {
                const wanted = text(filter[field]);
                if (wanted && !value(job, this.floor).toLowerCase().includes(wanted)) { return false; }
            }
            for (const [field, values] of EXACT_FIELDS) {
                const wanted = text(filter[field]);
                if (wanted && !values(job, this.floor).some((v) => v.toLowerCase() === wanted)) { return false; }
            }
            return true;
        }).map((job) => ({
            JobGUID: job.JobGUID,
            JobName: job.JobName,
            Documents: job.Documents,
            Device: this.floor.device(job.DeviceGUID)?.info.DeviceName ?? null,
            DeviceGUID: job.DeviceGUID,
            CreatedDate: job.CreatedDate,
            MediaType: job.MediaType,
            MediaSize: job.MediaSize,
            QueueGUID: job.QueueGUID,
            QueueName: job.QueueName,
            Status: job.Status,
            User: job.User,
            Producer: job.Producer,
            Progress: job.Progress
        }));
    }

    private readJson(req: http.IncomingMessage, callback: (err: 'tooLarge' | 'invalid' | null, body?: Record<string, unknown>) => void): void {
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        req.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES && !done) { done = true; callback('tooLarge'); req.resume(); return; }
            if (!done) { chunks.push(chunk); }
        });
        req.on('error', () => { if (!done) { done = true; callback('invalid'); } });
        req.on('end', () => {
            if (done) { return; }
            done = true;
            const text = Buffer.concat(chunks).toString('utf8').trim();
            if (text === '') { callback(null, {}); return; }
            try {
                const body = JSON.parse(text) as unknown;
                if (typeof body !== 'object' || body === null || Array.isArray(body)) { callback('invalid'); return; }
                callback(null, body as Record<string, unknown>);
            } catch {
                callback('invalid');
            }
        });
    }
}

export { ACTIVE_JOB_STATUSES };
