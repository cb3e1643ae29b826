// A node status that changes many times a second (one per msg in a burst) reaches every open editor: this
// shows the first at once and then at most one per interval, always ending on the latest.
import type { Node, NodeStatus } from 'node-red';

export class ThrottledStatus {
    private timer: NodeJS.Timeout | null = null;
    private latest: NodeStatus | null = null;

    constructor(private readonly node: Pick<Node, 'status'>, private readonly intervalMs = 1000) {}

    set(status: NodeStatus): void {
        if (this.timer) { this.latest = status; return; }
        this.node.status(status);
        this.timer = setTimeout(() => this.flush(), this.intervalMs);
    }

    /** Stops the timer; a pending status is dropped (the node is closing). */
    close(): void {
        if (this.timer) { clearTimeout(this.timer); this.timer = null; }
        this.latest = null;
    }

    private flush(): void {
        this.timer = null;
        const latest = this.latest;
        this.latest = null;
        // Showing it restarts the interval, so a steady stream updates once per interval.
        if (latest) { this.set(latest); }
    }
}
