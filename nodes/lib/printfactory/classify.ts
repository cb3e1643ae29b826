// Pure classification of PrintFactory Cloud notifications into event names.
// The vendor sends bare JSON objects without a type field; the documented shapes
// are told apart by which keys they carry (see docs/printfactory.md, "Event names").

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

const EVENT_BY_EVENT_FIELD: Record<string, PrintFactoryEvent> = {
    reprint: 'job.reprint',
    reroute: 'job.reroute',
    resubmit: 'job.resubmit'
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(obj: Record<string, unknown>, key: string): boolean {
    return obj[key] !== undefined && obj[key] !== null;
}

/**
 * Maps one parsed notification to its event name. Precedence, first match wins:
 * 1. not a JSON object                          -> unknown
 * 2. `Event` Reprint / ReRoute / ReSubmit        -> job.reprint / job.reroute / job.resubmit
 *    (ReRoute also carries Status "ReRoute": the Event field decides)
 * 3. `Status` "NestComplete" or a `NestGUID`     -> nester.jobCreated (its Event is "Creation")
 * 4. `DeviceGUID`                                -> device.status
 * 5. `StatusRIP`                                 -> job.copyAdded
 * 6. `Status` "Created"                          -> job.created (created and re-send look alike)
 * 7. exactly one key, `JobGUID`                  -> job.updated (updated, status changed, device set,
 *                                                   nester automation job added/processed look alike)
 * 8. anything else                               -> unknown (still delivered)
 */
export function classify(notification: unknown): PrintFactoryEvent {
    if (!isPlainObject(notification)) { return 'unknown'; }
    const n = notification;

    if (typeof n.Event === 'string') {
        const byEvent = EVENT_BY_EVENT_FIELD[n.Event.toLowerCase()];
        if (byEvent) { return byEvent; }
    }
    if (n.Status === 'NestComplete' || has(n, 'NestGUID')) { return 'nester.jobCreated'; }
    if (has(n, 'DeviceGUID')) { return 'device.status'; }
    if (has(n, 'StatusRIP')) { return 'job.copyAdded'; }
    if (n.Status === 'Created') { return 'job.created'; }
    if (has(n, 'JobGUID')) {
        let keys = 0;
        for (const key in n) {
            if (Object.prototype.hasOwnProperty.call(n, key)) { keys += 1; }
        }
        if (keys === 1) { return 'job.updated'; }
    }
    return 'unknown';
}

/** `JobGUID` / `DeviceGUID` as strings when the notification carries them. */
export function guidsOf(notification: unknown): { jobGuid?: string; deviceGuid?: string } {
    if (!isPlainObject(notification)) { return {}; }
    const out: { jobGuid?: string; deviceGuid?: string } = {};
    if (typeof notification.JobGUID === 'string' && notification.JobGUID !== '') { out.jobGuid = notification.JobGUID; }
    if (typeof notification.DeviceGUID === 'string' && notification.DeviceGUID !== '') { out.deviceGuid = notification.DeviceGUID; }
    return out;
}

export function isPrintFactoryEvent(name: unknown): name is PrintFactoryEvent {
    return typeof name === 'string' && (PRINTFACTORY_EVENTS as readonly string[]).includes(name);
}
