// Runs one autocannon load in its own process (the load generator must not share the
// event loop of the server it measures). Options as JSON in argv[2]; prints the summary
// as one JSON line on stdout.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon');

interface LoadOptions {
    url: string; connections: number; duration: number;
    headers: Record<string, string>; body: string;
}

async function main(): Promise<void> {
    const opts: LoadOptions = JSON.parse(process.argv[2]);
    const result = await autocannon({
        url: opts.url, method: 'POST', connections: opts.connections, duration: opts.duration,
        headers: opts.headers, body: opts.body
    });
    process.stdout.write(JSON.stringify({
        reqPerSec: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        total: result.requests.total,
        ok: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts
    }) + '\n');
}

main().catch((err) => {
    process.stderr.write(String(err && err.stack || err) + '\n');
    process.exit(1);
});
