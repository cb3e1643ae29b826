// Every notification shape documented in the PrintFactory Cloud "WebSocket Notifications"
// page, by name, with the event name the classifier must give it. The GUIDs here are
// fixed samples; the simulator sends fresh ones through `freshExample`.
import { randomUUID } from 'crypto';

export type PrintFactoryExampleName =
    | 'jobCreated'
    | 'jobUpdated'
    | 'jobStatusChanged'
    | 'jobCopyAddedNoJournal'
    | 'jobCopyAddedJournal'
    | 'jobReprint'
    | 'jobReroute'
    | 'jobResubmit'
    | 'jobResend'
    | 'jobDeviceSet'
    | 'nesterAutomationJobAdded'
    | 'nesterDocumentsProcessed'
    | 'nesterJobCreated'
    | 'deviceStatus';

const JOB = '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b';
const DEVICE = '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const NEST = '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d';
const DATE = '2026-01-15T10:30:00.000Z';

export const PRINTFACTORY_EXAMPLES: Readonly<Record<PrintFactoryExampleName, Record<string, unknown>>> = {
    jobCreated: { JobGUID: JOB, Status: 'Created' },
    jobUpdated: { JobGUID: JOB },
    jobStatusChanged: { JobGUID: JOB },
    // Manual Job Completion of a job without journal entries: StatusPrint is an empty string.
    jobCopyAddedNoJournal: { JobGUID: JOB, StatusRIP: 'Ready', StatusPrint: '' },
    // With journal entries: one notification per journal entry.
    jobCopyAddedJournal: { JobGUID: JOB, StatusRIP: 'Ready' },
    jobReprint: { JobGUID: JOB, Event: 'Reprint', EventDate: DATE },
    jobReroute: { JobGUID: JOB, Event: 'ReRoute', EventDate: DATE, Status: 'ReRoute' },
    jobResubmit: { JobGUID: JOB, Event: 'ReSubmit', EventDate: DATE },
    jobResend: { JobGUID: JOB, Status: 'Created' },
    jobDeviceSet: { JobGUID: JOB },
    // The JobGUID of the two nester automation notifications is not a Print/Cut job.
    nesterAutomationJobAdded: { JobGUID: JOB },
    nesterDocumentsProcessed: { JobGUID: JOB },
    nesterJobCreated: { JobGUID: JOB, Status: 'NestComplete', NestGUID: NEST, Event: 'Creation', EventDate: DATE },
    deviceStatus: {
        DeviceGUID: DEVICE,
        Status: 'Printing',
        Message: 'Printing job 4711',
        Temperature: 24,
        ConnectionState: 'Online',
        ConnectionMessage: '',
        RemainingInks: [
            { InkIndex: 0, InkName: 'Cyan', Level: 820, MaxLevel: 1000 },
            { InkIndex: 1, InkName: 'Magenta', Level: 95, MaxLevel: 1000 },
            { InkIndex: 2, InkName: 'Yellow', Level: 640, MaxLevel: 1000 },
            { InkIndex: 3, InkName: 'Black', Level: 410, MaxLevel: 1000 }
        ],
        QueueLength: [{ Type: 'Sheet', Value: 3 }]
    }
};

/** The event name each documented shape must be classified as. */
export const expectedEvent: Readonly<Record<PrintFactoryExampleName, string>> = {
    jobCreated: 'job.created',
    jobUpdated: 'job.updated',
    jobStatusChanged: 'job.updated',
    jobCopyAddedNoJournal: 'job.copyAdded',
    jobCopyAddedJournal: 'job.copyAdded',
    jobReprint: 'job.reprint',
    jobReroute: 'job.reroute',
    jobResubmit: 'job.resubmit',
    jobResend: 'job.created',
    jobDeviceSet: 'job.updated',
    nesterAutomationJobAdded: 'job.updated',
    nesterDocumentsProcessed: 'job.updated',
    nesterJobCreated: 'nester.jobCreated',
    deviceStatus: 'device.status'
};

export const EXAMPLE_NAMES = Object.keys(PRINTFACTORY_EXAMPLES) as PrintFactoryExampleName[];

export function isExampleName(name: unknown): name is PrintFactoryExampleName {
    return typeof name === 'string' && Object.prototype.hasOwnProperty.call(PRINTFACTORY_EXAMPLES, name);
}

const DEVICE_STATUSES = ['Idle', 'Printing', 'Printing', 'Printing', 'Pause', 'Calibrating', 'Error', 'Sleeping'];

/** A copy of a documented payload with fresh GUIDs, a current EventDate and, for devices, moving ink levels. */
export function freshExample(name: PrintFactoryExampleName): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(PRINTFACTORY_EXAMPLES[name])) as Record<string, unknown>;
    if ('JobGUID' in copy) { copy.JobGUID = randomUUID(); }
    if ('NestGUID' in copy) { copy.NestGUID = randomUUID(); }
    if ('EventDate' in copy) { copy.EventDate = new Date().toISOString(); }
    if (name === 'deviceStatus') {
        copy.Status = DEVICE_STATUSES[Math.floor(Math.random() * DEVICE_STATUSES.length)];
        const inks = copy.RemainingInks as Array<Record<string, number | string>>;
        for (const ink of inks) { ink.Level = Math.floor(Math.random() * 1000); }
    }
    return copy;
}
