// Repeated-callback suppression for durst-webhook-in. Standard Webhooks receivers dedupe on a stable message
// id; Durst sends none, so the body is the key: the SHA-256 of the exact bytes, and a natural key built from
// the fields that identify one event (status: entityType, entityId, newStatus, created; workflow progress:
// id, status, progress). The natural key also catches a repeat whose JSON was re-serialised differently.
import * as crypto from 'crypto';

/** Default window in seconds: long enough for a sender's quick retry or a duplicate subscription. */
export const DEFAULT_DEDUPE_WINDOW_S = 30;

/** Upper bound of remembered keys, so a flood of distinct callbacks cannot grow memory without limit. */
const MAX_KEYS = 20000;

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: unknown): boolean {
    return value !== undefined && value !== null && value !== '';
}

/** The natural key of a status or workflow callback, or undefined when the body has no such identity. */
export function naturalKey(payload: unknown): string | undefined {
    if (!isRecord(payload)) { return undefined; }
    const { entityType, entityId, newStatus, created } = payload;
    if (present(entityType) && present(entityId) && present(newStatus) && present(created)) {
        return 'status\0' + JSON.stringify([entityType, entityId, newStatus, created]);
    }
    const { id, status, progress } = payload;
    if (present(id) && present(status) && present(progress)) {
        return 'workflow\0' + JSON.stringify([id, status, progress]);
    }
    return undefined;
}

/** The window setting of a node (seconds, 0 = off); anything unusable falls back to the default. */
export function dedupeWindowMs(value: unknown): number {
    const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) { return DEFAULT_DEDUPE_WINDOW_S * 1000; }
    return Math.round(seconds * 1000);
}

export class CallbackDeduper {
    // Insertion order = time order, so expired keys are always at the front.
    private readonly seen = new Map<string, number>();

    constructor(readonly windowMs: number, private readonly now: () => number = Date.now) {}

    /**
     * True when this callback (same bytes or same natural key) was already seen within the window. A first
     * sighting is remembered; a repeat does not extend the window, so a steady resender still gets through
     * once per window.
     */
    isRepeat(rawBody: Buffer, payload: unknown): boolean {
        if (this.windowMs <= 0) { return false; }
        const now = this.now();
        this.expire(now);
        const keys = this.keysOf(rawBody, payload);
        if (keys.some((k) => this.seen.has(k))) { return true; }
        for (const key of keys) { this.seen.set(key, now); }
        while (this.seen.size > MAX_KEYS) { this.seen.delete(this.seen.keys().next().value as string); }
        return false;
    }

    /** Forgets a first sighting that was not delivered after all, so the sender's retry is not taken for a repeat. */
    forget(rawBody: Buffer, payload: unknown): void {
        for (const key of this.keysOf(rawBody, payload)) { this.seen.delete(key); }
    }

    get size(): number { return this.seen.size; }

    private keysOf(rawBody: Buffer, payload: unknown): string[] {
        const keys = ['bytes\0' + crypto.createHash('sha256').update(rawBody).digest('hex')];
        const natural = naturalKey(payload);
        if (natural !== undefined) { keys.push(natural); }
        return keys;
    }

    private expire(now: number): void {
        for (const [key, at] of this.seen) {
            if (now - at < this.windowMs) { break; }
            this.seen.delete(key);
        }
    }
}
