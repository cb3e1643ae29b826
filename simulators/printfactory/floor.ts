// A small simulated print floor for the trickle: a few devices that move between Printing, Idle and
// Error, drain their inks while printing and get them refilled, and a handful of jobs that come back in
// several notifications (created, updated, copies added, reprinted...) the way a real shop's jobs do.
// Every payload has a documented shape (see examples.ts); only the values are made up.
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
    private readonly random: () => number;
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
    }

    /** Advances the next device (round robin) by one step and returns its device.status notification. */
    nextDeviceStatus(): Record<string, unknown> {
        const device = this.devices[this.deviceTurn % this.devices.length];
        this.deviceTurn += 1;
        this.step(device);
        return JSON.parse(JSON.stringify(device)) as Record<string, unknown>;
    }

    /** The next job or nester notification; print jobs reuse a few live JobGUIDs. */
    nextJobEvent(): Record<string, unknown> {
        const name = JOB_MIX[this.jobTurn % JOB_MIX.length];
        this.jobTurn += 1;
        const payload = freshExample(name);
        if (name.startsWith('nester')) { return payload; }
        if (name === 'jobCreated' || this.liveJobs.length === 0) {
            const guid = randomUUID();
            this.liveJobs.push(guid);
            if (this.liveJobs.length > LIVE_JOBS) { this.liveJobs.shift(); }
            payload.JobGUID = guid;
        } else {
            payload.JobGUID = this.liveJobs[Math.floor(this.random() * this.liveJobs.length)];
        }
        if (name === 'jobCopyAddedJournal') { payload.StatusPrint = 'Printed'; }
        return payload;
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
