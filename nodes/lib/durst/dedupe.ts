// Repeated-callback suppression for durst-webhook-in. Standard Webhooks receivers dedupe on a stable message
// id; Durst sends none, so the callback itself is the key. A callback is a repeat only when it is the same
// callback again within the window: the same raw bytes, or the same JSON after normalisation (key order,
// whitespace, number spelling and charset do not matter). Any field that differs (progress, step, message,
// status, timestamp) makes it a new callback: three progress updates of one workflow are three msgs.
import * as crypto from 'crypto';

/** Default window in seconds: long enough for a sender's quick retry or a duplicate subscription. */
export const DEFAULT_DEDUPE_WINDOW_S = 30;

/** Upper bound of remembered keys, so a flood of distinct callbacks cannot grow memory without limit. */
const MAX_KEYS = 20000;

/**
 * The normalised JSON text of a parsed body: object keys sorted, no whitespace. The body was parsed with a depth
 * limit (callback.ts), so the recursion is bounded.
 */
export function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) { return '[' + value.map(canonicalJson).join(',') + ']'; }
    if (typeof value === 'object' && value !== null) {
        const record = value as Record<string, unknown>;
        return '{' + Object.keys(record).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(record[k])).join(',') + '}';
    }
    return JSON.stringify(value) ?? 'null';
}

/** The window setting of a node (seconds, 0 = off); anything unusable falls back to the default. */
export function dedupeWindowMs(value: unknown): number {
    const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) { return DEFAULT_DEDUPE_WINDOW_S * 1000; }
    return Math.round(seconds * 1000);
}

const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');

export class CallbackDeduper {
    // Insertion order = time order, so expired keys are always at the front.
    private readonly seen = new Map<string, number>();

    constructor(readonly windowMs: number, private readonly now: () => number = Date.now) {}

    /**
     * True when this callback (same bytes or same normalised JSON) was already seen within the window. A first
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
        const bytesKey = 'bytes\0' + sha256(rawBody);
        const jsonKey = 'json\0' + sha256(canonicalJson(payload));
        return [bytesKey, jsonKey];
    }

    private expire(now: number): void {
        for (const [key, at] of this.seen) {
            if (now - at < this.windowMs) { break; }
            this.seen.delete(key);
        }
    }
}
