// Pure classification of PrintFactory Cloud notifications into event names.
// The vendor sends bare JSON objects without a type field; the documented shapes are told apart by the
// fields that identify them, never by the exact key set: extra fields never make a documented shape
// unknown (see docs/printfactory.md, "Event names").
import { isRecord } from '../is-record';

export type PrintFactoryEvent =
    | 'job.created'
    | 'job.updated'
    | 'job.copyAdded'
    | 'job.reprint'
    | 'job.reroute'
    | 'job.resubmit'
    | 'nester.jobCreated'
    | 'device.status'
    | 'unknown';

/** Every event name the classifier can return, in the order the editor lists them. */
export const PRINTFACTORY_EVENTS: readonly PrintFactoryEvent[] = Object.freeze([
    'job.created',
    'job.updated',
    'job.copyAdded',
    'job.reprint',
    'job.reroute',
    'job.resubmit',
    'nester.jobCreated',
    'device.status',
    'unknown'
]);

// Keys and enum values are compared in a normal form: lower case, letters and digits only, so `JobGUID`,
// `jobGuid`, `job_guid` and `Job-GUID` are one key and `Re-Print`, `reprint`, `REPRINT` one value. The vendor
// documents one spelling; servers, gateways and future versions have been seen to use others.
const EVENT_BY_EVENT_VALUE: Record<string, PrintFactoryEvent> = {
    reprint: 'job.reprint',
    reroute: 'job.reroute',
    resubmit: 'job.resubmit'
};

/**
 * Fields only a device status notification carries (beside `DeviceGUID`): when a notification has both a
 * `JobGUID` and a `DeviceGUID`, one of these makes it a device status, else it is a job notification that
 * happens to name its device.
 */
const DEVICE_ONLY_KEYS = new Set(['connectionstate', 'connectionmessage', 'remaininginks', 'queuelength', 'temperature']);

/** The identifying fields of a notification, found by their normal-form key names. */
interface Fields {
    jobGuid: unknown;
    deviceGuid: unknown;
    nestGuid: unknown;
    status: unknown;
    event: unknown;
    statusRip: unknown;
    deviceOnly: boolean;
}

export interface Description {
    event: PrintFactoryEvent;
    jobGuid?: string;
    deviceGuid?: string;
}

// The documented key spellings, looked up before any string work (the common case costs one Map lookup per key).
const DOCUMENTED_KEYS = new Map<string, string>([
    'JobGUID', 'DeviceGUID', 'NestGUID', 'Status', 'Event', 'StatusRIP', 'StatusPrint', 'EventDate', 'Message', 'Temperature',
    'ConnectionState', 'ConnectionMessage', 'RemainingInks', 'QueueLength'
].map((k) => [k, k.toLowerCase()]));

function normal(text: string): string {
    return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function present(value: unknown): boolean {
    return value !== undefined && value !== null;
}

function fieldsOf(n: Record<string, unknown>): Fields {
    const f: Fields = {
        jobGuid: undefined, deviceGuid: undefined, nestGuid: undefined, status: undefined, event: undefined,
        statusRip: undefined, deviceOnly: false
    };
    // Own keys only (Object.keys): an inherited field must not classify anything. With two spellings of
    // one key, the first one present wins.
    for (const key of Object.keys(n)) {
        const value = n[key];
        if (!present(value)) { continue; }
        const k = DOCUMENTED_KEYS.get(key) ?? normal(key);
        switch (k) {
            case 'jobguid': if (f.jobGuid === undefined) { f.jobGuid = value; } break;
            case 'deviceguid': if (f.deviceGuid === undefined) { f.deviceGuid = value; } break;
            case 'nestguid': if (f.nestGuid === undefined) { f.nestGuid = value; } break;
            case 'status': if (f.status === undefined) { f.status = value; } break;
            case 'event': if (f.event === undefined) { f.event = value; } break;
            case 'statusrip': if (f.statusRip === undefined) { f.statusRip = value; } break;
            default: if (DEVICE_ONLY_KEYS.has(k)) { f.deviceOnly = true; }
        }
    }
    return f;
}

function eventOf(f: Fields): PrintFactoryEvent {
    const event = typeof f.event === 'string' ? normal(f.event) : undefined;
    const status = typeof f.status === 'string' ? normal(f.status) : undefined;
    if (event !== undefined) {
        const byEvent = EVENT_BY_EVENT_VALUE[event];
        if (byEvent) { return byEvent; }
    }
    if (status === 'nestcomplete' || present(f.nestGuid)) { return 'nester.jobCreated'; }
    const job = present(f.jobGuid);
    if (present(f.deviceGuid) && (!job || f.deviceOnly)) { return 'device.status'; }
    if (!job) { return 'unknown'; }
    // An Event the vendor does not document (e.g. "Creation" without the nest fields, or a new one) names
    // another event than the ones below: unknown, so a flow filtering for job.updated does not mistake it.
    if (event !== undefined && event !== '') { return 'unknown'; }
    if (present(f.statusRip)) { return 'job.copyAdded'; }
    if (status === 'created') { return 'job.created'; }
    if (status === 'reroute') { return 'job.reroute'; }
    return 'job.updated';
}

function guid(value: unknown): string | undefined {
    return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The event name and GUIDs of one parsed notification, in one pass over its keys. Precedence, first match wins:
 * 1. not a JSON object                                  -> unknown
 * 2. `Event` Reprint / ReRoute / ReSubmit                -> job.reprint / job.reroute / job.resubmit
 *    (ReRoute also carries Status "ReRoute": the Event field decides)
 * 3. `Status` NestComplete or a `NestGUID`               -> nester.jobCreated (its Event is "Creation")
 * 4. `DeviceGUID` without `JobGUID`, or with a field only device statuses carry (ConnectionState,
 *    RemainingInks, QueueLength, Temperature, ConnectionMessage)  -> device.status
 * 5. no `JobGUID`                                        -> unknown
 * 6. any other `Event` value                             -> unknown (an event the vendor does not document)
 * 7. `StatusRIP`                                         -> job.copyAdded
 * 8. `Status` Created                                    -> job.created (created and re-send look alike)
 * 9. `Status` ReRoute (without Event)                    -> job.reroute
 * 10. `JobGUID`, whatever else it carries                -> job.updated (updated, status changed, device set,
 *                                                          nester automation job added/processed look alike)
 * Key names and the values of `Status` and `Event` match in any letter case, with or without separators.
 * Fields that are null count as absent.
 */
export function describe(notification: unknown): Description {
    if (!isRecord(notification)) { return { event: 'unknown' }; }
    const f = fieldsOf(notification);
    const out: Description = { event: eventOf(f) };
    const jobGuid = guid(f.jobGuid);
    const deviceGuid = guid(f.deviceGuid);
    if (jobGuid !== undefined) { out.jobGuid = jobGuid; }
    if (deviceGuid !== undefined) { out.deviceGuid = deviceGuid; }
    return out;
}

/** The event name of one parsed notification (see describe()). */
export function classify(notification: unknown): PrintFactoryEvent {
    return describe(notification).event;
}

/** `JobGUID` / `DeviceGUID` (any spelling) as strings when the notification carries them non-empty. */
export function guidsOf(notification: unknown): { jobGuid?: string; deviceGuid?: string } {
    const { jobGuid, deviceGuid } = describe(notification);
    const out: { jobGuid?: string; deviceGuid?: string } = {};
    if (jobGuid !== undefined) { out.jobGuid = jobGuid; }
    if (deviceGuid !== undefined) { out.deviceGuid = deviceGuid; }
    return out;
}

export function isPrintFactoryEvent(name: unknown): name is PrintFactoryEvent {
    return typeof name === 'string' && (PRINTFACTORY_EVENTS as readonly string[]).includes(name);
}
