// One log line at once, then at most one per interval: a storm of bad input (garbage frames, forged
// callbacks) must not flood the log, yet nothing goes unmentioned. What was held back is counted and
// reported with the next line, or by a summary at the end of the interval if nothing else comes.

export class RateLimitedLog {
    private lastAt = -Infinity;
    private suppressed = 0;
    private summaryTimer: NodeJS.Timeout | null = null;

    constructor(
        private readonly emit: (text: string) => void,
        private readonly intervalMs: number,
        /** Text of the end-of-interval summary, e.g. `${count} more callbacks rejected`. */
        private readonly summary: (count: number, seconds: number) => string
    ) {}

    log(text: string): void {
        const now = Date.now();
        if (now - this.lastAt < this.intervalMs) {
            this.suppressed += 1;
            if (!this.summaryTimer) {
                this.summaryTimer = setTimeout(() => this.flush(), Math.max(0, this.lastAt + this.intervalMs - now));
                this.summaryTimer.unref?.();
            }
            return;
        }
        const more = this.suppressed > 0 ? ` (and ${this.suppressed} more since the last line)` : '';
        this.clearTimer();
        this.suppressed = 0;
        this.lastAt = now;
        this.safeEmit(text + more);
    }

    /** Stops the summary timer (a node's or connection's close); a pending count is logged now. */
    dispose(): void {
        this.clearTimer();
        if (this.suppressed > 0) { this.flush(); }
    }

    private flush(): void {
        this.summaryTimer = null;
        if (this.suppressed === 0) { return; }
        const count = this.suppressed;
        this.suppressed = 0;
        this.lastAt = Date.now();
        this.safeEmit(this.summary(count, Math.round(this.intervalMs / 1000)));
    }

    private clearTimer(): void {
        if (this.summaryTimer) { clearTimeout(this.summaryTimer); this.summaryTimer = null; }
    }

    // Logging must never be the thing that throws out of a handler.
    private safeEmit(text: string): void {
        try { this.emit(text); } catch { /* nothing better to do with a failing logger */ }
    }
}
