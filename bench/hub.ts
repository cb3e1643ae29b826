// The bench's own node types (counter, delivery ceiling) live in a throw-away nodes dir
// and cannot import from here, so they reach the bench through one process-global object.
import WebSocket from 'ws';

export const HUB_KEY = Symbol.for('node-red-contrib-print-events.bench.hub');

export class Counter {
    count = 0;
    /** End-to-end latencies in ms (bench-counter with `latency: true`): send time stamped by the sender. */
    samples: number[] = [];
    private target = Infinity;
    private reached: (() => void) | null = null;

    hit(): void {
        this.count += 1;
        if (this.count >= this.target && this.reached) {
            const resolve = this.reached;
            this.reached = null;
            this.target = Infinity;
            resolve();
        }
    }

    sample(ms: number): void { this.samples.push(ms); }

    reset(): void {
        this.count = 0;
        this.samples = [];
        this.target = Infinity;
        this.reached = null;
    }

    /** Resolves once `count` reaches `n`; rejects with what arrived so far after `timeoutMs`. */
    waitFor(n: number, timeoutMs: number): Promise<void> {
        if (this.count >= n) { return Promise.resolve(); }
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.reached = null;
                this.target = Infinity;
                reject(new Error(`counter reached ${this.count} of ${n} within ${timeoutMs} ms`));
            }, timeoutMs);
            this.target = n;
            this.reached = () => { clearTimeout(timer); resolve(); };
        });
    }
}

export interface BenchHub {
    counter(name: string): Counter;
    WebSocket: typeof WebSocket;
    /** What the ceiling node sends per frame: a typical parsed notification, built once. */
    prebuiltPayload: Record<string, unknown>;
    logs: { level: string; msg: string }[];
}

export function installHub(): BenchHub {
    const counters = new Map<string, Counter>();
    const hub: BenchHub = {
        counter(name: string): Counter {
            let c = counters.get(name);
            if (!c) {
                c = new Counter();
                counters.set(name, c);
            }
            return c;
        },
        WebSocket,
        prebuiltPayload: { JobGUID: '6f1c2b8e-3d4a-4b5c-9e7f-0a1b2c3d4e5f', Status: 'Created' },
        logs: []
    };
    (globalThis as any)[HUB_KEY] = hub;
    return hub;
}
