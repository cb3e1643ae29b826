// A small simulated print floor for the trickle: a few devices that move between Printing, Idle and
// Error, drain their inks while printing and get them refilled, and a handful of jobs that come back in
// several notifications (created, updated, copies added, reprinted...) the way a real shop's jobs do.
// Every payload has a documented shape (see examples.ts); only the values are made up.
// Behind the notifications the floor keeps what PrintFactory's REST API reports (./rest.ts): each job (name,
// device, status, progress...) and each device's name and queues, so a JobGUID from a notification resolves to
// that job, in the state the notification announced.
// `random` is injectable so tests can drive the model deterministically.
import { randomUUID } from 'crypto';
import { PrintFactoryExampleName, freshExample } from './examples';

export interface FloorInk { InkIndex: number; InkName: string; Level: number; MaxLevel: number }

export interface FloorDevice {
    DeviceGUID: string;
    Status: 'Printing' | 'Idle' | 'Error';
    Message: string;
    Temperature: number;
    ConnectionState: 'Online' | 'Unstable';
    ConnectionMessage: string;
    RemainingInks: FloorInk[];
    QueueLength: Array<{ Type: string; Value: number }>;
}

/** The job statuses of the documented job list filter; the first four are the "active" ones. */
export const JOB_STATUSES = ['Error', 'Waiting', 'InProgress', 'PrintRequest', 'Completed', 'Canceled', 'Deleted', 'NotSupported'] as const;
export type FloorJobStatus = typeof JOB_STATUSES[number];
export const ACTIVE_JOB_STATUSES: readonly FloorJobStatus[] = ['Error', 'Waiting', 'InProgress', 'PrintRequest'];

/** One print job as the REST API describes it (job list entry fields, plus what the job status answer needs). */
export interface FloorJob {
    JobGUID: string;
    JobName: string;
    DeviceGUID: string;
    Status: FloorJobStatus;
    CreatedDate: string;
    User: string;
    Producer: string;
    Copies: number;
    Pages: number;
    Progress: number;
    MediaType: string;
    MediaSize: string;
    QueueGUID: string;
    QueueName: string;
    Documents: Array<{ DocumentGUID: string; Name: string }>;
    Message: string;
}

/** What the REST API knows about a device beyond its notification: name, type, where, its queues. */
export interface FloorDeviceInfo {
    DeviceGUID: string;
    DeviceName: string;
    DeviceType: 'Printer' | 'Cutter' | 'Printer/Cutter';
    Location: string;
    Rip: string;
    ComputerGUID: string;
    SerialNumber: number;
    MediaSize: string;
    MediaType: string;
    Queues: Array<{ QueueGUID: string; QueueName: string; ProfileName: string; MediaType: string; MediaSize: string; MediaSource: string; QueueType: string; DriverSettings: string }>;
}

export interface PrintFloorOptions {
    /** Returns a number in [0, 1); Math.random by default. */
    random?: () => number;
}

// Fixed device GUIDs, so a dashboard keeps each device on the same card across demo restarts.
export const FLOOR_DEVICE_GUIDS = [
    '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    '4d2e6f80-1a3b-4c5d-9e7f-0a1b2c3d4e5f',
    'b7c8d9e0-f1a2-4b3c-8d4e-5f6a7b8c9d0e'
];
const DEVICE_INFO: Array<Omit<FloorDeviceInfo, 'DeviceGUID' | 'Queues'> & { queues: string[] }> = [
    { DeviceName: 'Durst P5 250 HS', DeviceType: 'Printer', Location: 'Hall A', Rip: 'rip-01', ComputerGUID: '1f0e2d3c-4b5a-4697-8877-665544332211', SerialNumber: 29490, MediaSize: '250 roll', MediaType: 'PVC banner 510 g', queues: ['Banner', 'Rush'] },
    { DeviceName: 'Epson SureColor S80600', DeviceType: 'Printer', Location: 'Hall A', Rip: 'rip-01', ComputerGUID: '1f0e2d3c-4b5a-4697-8877-665544332211', SerialNumber: 29490, MediaSize: '64 inch roll', MediaType: 'Photo satin 260', queues: ['Photo'] },
    { DeviceName: 'HP Latex 800W', DeviceType: 'Printer/Cutter', Location: 'Hall B', Rip: 'rip-02', ComputerGUID: '2a1b0c9d-8e7f-4061-9524-a3b2c1d0e9f8', SerialNumber: 29491, MediaSize: '1.63 m roll', MediaType: 'Self-adhesive vinyl', queues: ['Vinyl', 'Contour cut'] }
];
const JOB_WORDS = ['Poster', 'Banner', 'Window graphics', 'Roll-up', 'Fleet wrap', 'Stickers', 'Trade show wall', 'Menu board'];
const CUSTOMERS = ['Bakery Weber', 'City Museum', 'Autohaus Kraft', 'Café Lumen', 'Sportclub 09', 'Hotel Adler'];
const USERS = ['a.keller', 'm.nowak', 'j.silva'];
/** The floor remembers this many jobs; older ones are gone (their GUID answers 404, as an expired job would). */
const MAX_JOBS = 500;
const INK_NAMES = ['Cyan', 'Magenta', 'Yellow', 'Black'];
const MAX_LEVEL = 1000;
/** Below this share of MaxLevel a printing device stops with an ink error. */
export const EMPTY_SHARE = 0.06;
const ERRORS = ['Media jam', 'Head strike detected', 'Cover open'];
// Job notifications of the trickle, in a realistic mix (the nester ones are cloud-nester jobs).
const JOB_MIX: PrintFactoryExampleName[] = [
    'jobCreated', 'jobUpdated', 'jobStatusChanged', 'jobDeviceSet', 'jobCopyAddedJournal', 'nesterAutomationJobAdded',
    'jobUpdated', 'jobReprint', 'nesterDocumentsProcessed', 'jobCreated', 'nesterJobCreated', 'jobCopyAddedNoJournal',
    'jobReroute', 'jobResubmit', 'jobResend', 'jobStatusChanged'
];
const LIVE_JOBS = 5;

export class PrintFloor {
    readonly devices: FloorDevice[];
    /** Names, types and queues of `devices`, in the same order. */
    readonly deviceInfo: FloorDeviceInfo[];
    private readonly random: () => number;
    private readonly jobsByGuid = new Map<string, FloorJob>();
    private jobSerial = 1000;
    private deviceTurn = 0;
    private jobTurn = 0;
    private jobNumber = 4711;
    private readonly liveJobs: string[] = [];

    constructor(options: PrintFloorOptions = {}) {
        this.random = options.random ?? Math.random;
        const start: Array<[FloorDevice['Status'], number[], number]> = [
            ['Printing', [820, 460, 640, 410], 3],
            ['Idle', [950, 900, 300, 700], 0],
            ['Printing', [530, 140, 720, 90], 5]
        ];
        this.devices = FLOOR_DEVICE_GUIDS.map((guid, i) => ({
            DeviceGUID: guid,
            Status: start[i][0],
            Message: start[i][0] === 'Printing' ? `Printing job ${this.jobNumber++}` : 'Ready',
            Temperature: start[i][0] === 'Printing' ? 29 : 24,
            ConnectionState: 'Online',
            ConnectionMessage: '',
            RemainingInks: INK_NAMES.map((name, k) => ({ InkIndex: k, InkName: name, Level: start[i][1][k], MaxLevel: MAX_LEVEL })),
            QueueLength: [{ Type: 'Sheet', Value: start[i][2] }]
        }));
        this.deviceInfo = FLOOR_DEVICE_GUIDS.map((guid, i) => {
            const { queues, ...info } = DEVICE_INFO[i];
            return {
                ...info,
                DeviceGUID: guid,
                // Fixed queue GUIDs derived from the device's, so a queue keeps its GUID across restarts.
                Queues: queues.map((name, k) => ({
                    QueueGUID: `${guid.slice(0, 24)}${String(k + 1).padStart(12, '0')}`,
                    QueueName: name,
                    ProfileName: `${info.MediaType} ${name === 'Rush' ? 'fast' : 'quality'}`,
                    MediaType: info.MediaType,
                    MediaSize: info.MediaSize,
                    MediaSource: 'Roll',
                    QueueType: 'Print',
                    DriverSettings: 'X_resolution=DPI=600, Y_resolution=600, InkSet=INK=CMYK'
                }))
            };
        });
    }

    /** Every job the floor remembers, oldest first. */
    jobs(): FloorJob[] { return [...this.jobsByGuid.values()]; }

    job(guid: string): FloorJob | undefined {
        // GUIDs are case-insensitive (the vendor's own samples mix cases).
        return this.jobsByGuid.get(guid.toLowerCase());
    }

    device(guid: string): { device: FloorDevice; info: FloorDeviceInfo } | undefined {
        const i = this.devices.findIndex((d) => d.DeviceGUID === guid.toLowerCase());
        return i < 0 ? undefined : { device: this.devices[i], info: this.deviceInfo[i] };
    }

    /** Adds a job (Waiting, on a random device unless given) as a jobCreated notification would announce it. */
    createJob(init: Partial<FloorJob> = {}): FloorJob {
        const r = this.random;
        const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length) % list.length];
        const device = init.DeviceGUID ? this.device(init.DeviceGUID) : undefined;
        const info = device?.info ?? pick(this.deviceInfo);
        const queue = pick(info.Queues);
        const serial = this.jobSerial++;
        const name = `${pick(CUSTOMERS)} ${pick(JOB_WORDS)} ${serial}`;
        const job: FloorJob = {
            JobGUID: randomUUID(),
            JobName: name,
            DeviceGUID: info.DeviceGUID,
            Status: 'Waiting',
            CreatedDate: new Date().toISOString(),
            User: pick(USERS),
            Producer: 'PrintFactory Cloud',
            Copies: 1 + Math.floor(r() * 4),
            Pages: 1,
            Progress: 0,
            MediaType: info.MediaType,
            MediaSize: info.MediaSize,
            QueueGUID: queue.QueueGUID,
            QueueName: queue.QueueName,
            Documents: [{ DocumentGUID: randomUUID(), Name: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.pdf` }],
            Message: '',
            ...init
        };
        job.JobGUID = job.JobGUID.toLowerCase();
        this.jobsByGuid.set(job.JobGUID, job);
        if (this.jobsByGuid.size > MAX_JOBS) { this.jobsByGuid.delete(this.jobsByGuid.keys().next().value as string); }
        return job;
    }

    /** Sets a job's status (tests and tools; the trickle moves jobs through nextJobEvent). */
    setJobStatus(guid: string, status: FloorJobStatus): FloorJob {
        const job = this.job(guid);
        if (!job) { throw new Error(`no job ${guid} on the floor`); }
        job.Status = status;
        if (status === 'Completed') { job.Progress = 100; }
        if (status === 'Waiting' || status === 'PrintRequest') { job.Progress = 0; }
        return job;
    }

    /** The device's printing job, as the device status answer's CurrentJob. */
    currentJob(deviceGuid: string): FloorJob | undefined {
        return this.jobs().find((j) => j.DeviceGUID === deviceGuid && j.Status === 'InProgress');
    }

    /** Advances the next device (round robin) by one step and returns its device.status notification. */
    nextDeviceStatus(): Record<string, unknown> {
        const device = this.devices[this.deviceTurn % this.devices.length];
        this.deviceTurn += 1;
        this.step(device);
        return JSON.parse(JSON.stringify(device)) as Record<string, unknown>;
    }

    /**
     * The next job or nester notification; print jobs reuse a few live JobGUIDs, and each notification changes
     * the job the way the event means (created: Waiting; status changed: Waiting -> InProgress -> Completed,
     * sometimes Error; device set / reroute: another device; reprint: PrintRequest...), so the REST API
     * answers with the state the notification announced.
     */
    nextJobEvent(): Record<string, unknown> {
        const name = JOB_MIX[this.jobTurn % JOB_MIX.length];
        this.jobTurn += 1;
        const payload = freshExample(name);
        // A nester-created job is a print job of its own (it resolves); the automation ones are not.
        if (name.startsWith('nester')) { this.track(name, payload); return payload; }
        let job: FloorJob;
        if (name === 'jobCreated' || this.liveJobs.length === 0) {
            job = this.createJob();
            this.liveJobs.push(job.JobGUID);
            if (this.liveJobs.length > LIVE_JOBS) { this.liveJobs.shift(); }
        } else {
            const guid = this.liveJobs[Math.floor(this.random() * this.liveJobs.length)];
            job = this.job(guid) ?? this.createJob({ JobGUID: guid });
            this.apply(name, job);
        }
        payload.JobGUID = job.JobGUID;
        if (name === 'jobCopyAddedJournal') { payload.StatusPrint = 'Printed'; }
        return payload;
    }

    /**
     * Makes a notification sent outside the trickle (sendExample, blast) consistent with the REST API: its print
     * job is created (or changed as the event means). The nester automation notifications' JobGUIDs are no print
     * jobs (vendor page): they stay unknown, as the device notifications' GUIDs stay the floor's devices.
     */
    track(name: PrintFactoryExampleName, payload: Record<string, unknown>): void {
        if (name === 'deviceStatus' || name === 'nesterAutomationJobAdded' || name === 'nesterDocumentsProcessed' || typeof payload.JobGUID !== 'string') { return; }
        const known = this.job(payload.JobGUID);
        if (known) { this.apply(name, known); return; }
        this.createJob({ JobGUID: payload.JobGUID });
    }

    private apply(name: PrintFactoryExampleName, job: FloorJob): void {
        const r = this.random;
        switch (name) {
            case 'jobStatusChanged':
                if (job.Status === 'Waiting' || job.Status === 'PrintRequest') {
                    job.Status = 'InProgress';
                    job.Progress = 10;
                } else if (job.Status === 'InProgress') {
                    if (r() < 0.15) { job.Status = 'Error'; job.Message = 'Media jam'; } else { this.setJobStatus(job.JobGUID, 'Completed'); }
                } else if (job.Status === 'Error') {
                    job.Status = 'Waiting';
                    job.Message = '';
                }
                break;
            case 'jobUpdated':
                if (job.Status === 'InProgress') { job.Progress = Math.min(95, job.Progress + 20 + Math.floor(r() * 20)); }
                break;
            case 'jobDeviceSet':
            case 'jobReroute': {
                const others = this.deviceInfo.filter((d) => d.DeviceGUID !== job.DeviceGUID);
                const info = others[Math.floor(r() * others.length) % others.length];
                job.DeviceGUID = info.DeviceGUID;
                job.QueueGUID = info.Queues[0].QueueGUID;
                job.QueueName = info.Queues[0].QueueName;
                job.MediaType = info.MediaType;
                job.MediaSize = info.MediaSize;
                break;
            }
            case 'jobCopyAddedJournal':
            case 'jobCopyAddedNoJournal':
                job.Copies += 1;
                break;
            case 'jobReprint':
                this.setJobStatus(job.JobGUID, 'PrintRequest');
                break;
            case 'jobResubmit':
            case 'jobResend':
                this.setJobStatus(job.JobGUID, 'Waiting');
                break;
            default:
        }
    }

    private step(d: FloorDevice): void {
        const r = this.random;
        const queue = d.QueueLength[0];
        d.ConnectionState = r() < 0.05 ? 'Unstable' : 'Online';
        d.ConnectionMessage = d.ConnectionState === 'Unstable' ? 'Heartbeat late' : '';
        switch (d.Status) {
            case 'Printing': {
                for (const ink of d.RemainingInks) {
                    // Black and cyan go faster, like on most real jobs.
                    const use = Math.round((20 + r() * 60) * (ink.InkName === 'Black' || ink.InkName === 'Cyan' ? 1.3 : 1));
                    ink.Level = Math.max(0, ink.Level - use);
                }
                d.Temperature = Math.min(34, d.Temperature + (r() < 0.6 ? 1 : 0));
                if (r() < 0.35) { queue.Value = Math.max(0, queue.Value - 1); }
                const empty = d.RemainingInks.find((ink) => ink.Level < ink.MaxLevel * EMPTY_SHARE);
                if (empty) {
                    d.Status = 'Error';
                    d.Message = `Ink empty: ${empty.InkName}`;
                } else if (r() < 0.05) {
                    d.Status = 'Error';
                    d.Message = ERRORS[Math.floor(r() * ERRORS.length)];
                } else if (queue.Value === 0) {
                    d.Status = 'Idle';
                    d.Message = 'Queue empty';
                } else {
                    d.Message = `Printing job ${this.jobNumber++}`;
                }
                break;
            }
            case 'Error': {
                // The operator fixes it: empty inks are refilled, then the device is idle again.
                const refilled = d.RemainingInks.filter((ink) => ink.Level < ink.MaxLevel * 0.25);
                for (const ink of refilled) { ink.Level = ink.MaxLevel; }
                d.Status = 'Idle';
                d.Message = refilled.length > 0 ? `Ink refilled: ${refilled.map((ink) => ink.InkName).join(', ')}` : 'Error cleared';
                d.Temperature = Math.max(22, d.Temperature - 2);
                break;
            }
            default: {
                queue.Value = Math.min(12, queue.Value + Math.floor(r() * 3));
                d.Temperature = Math.max(22, d.Temperature - 1);
                if (queue.Value > 0 && r() < 0.7) {
                    d.Status = 'Printing';
                    d.Message = `Printing job ${this.jobNumber++}`;
                } else {
                    d.Message = queue.Value > 0 ? 'Waiting for media' : 'Ready';
                }
            }
        }
    }
}
