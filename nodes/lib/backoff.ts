/**
 * The package's one backoff: the delay before retry number `attempt` (1 = first retry), doubling from `minMs`
 * up to `maxMs`, with "equal jitter" (between half and all of it) so that many clients do not retry in step.
 * The PrintFactory reconnects and every Durst retry (REST calls, ensure, switch-offs, the subscriber) use it.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
    const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
    const ceiling = Math.min(maxMs, minMs * 2 ** exponent);
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
