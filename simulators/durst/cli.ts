// Command line: node dist/simulators/durst/cli.js [--port 8090] [--host 127.0.0.1] [--trickle <ms>]
//   [--api-user u --api-password p | --api-token t] [--xauth-style headers|basic]
import { DurstSimulator, SimApiAuth } from './index';

const USAGE = `Durst Workflow simulator: the subscriber/subscription REST API plus callbacks, on a real HTTP server.

Usage: npm run sim:durst -- [options]
       node dist/simulators/durst/cli.js [options]

Options:
  --port <n>            port to listen on (default 8090; 0 = any free port)
  --host <addr>         address to listen on (default 127.0.0.1)
  --trickle <ms>        fire a realistic status or workflow event every <ms> milliseconds (default off)
  --api-user <u>        require HTTP Basic auth on the API with this user ...
  --api-password <p>    ... and this password
  --api-token <t>       require a Bearer token on the API instead
  --xauth-style <s>     how XAUTH callbacks carry credentials: headers (default) or basic
  -h, --help            show this help and exit

Each event is POSTed once per ACTIVE subscription whose topic matches, for every subscriber,
to the subscriber's hostUri joined with the subscription's path (as Durst does).
State is kept in memory only and is gone when the simulator stops.
`;

function arg(name: string): string | undefined {
    const index = process.argv.indexOf('--' + name);
    return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
    if (process.argv.includes('--help') || process.argv.includes('-h')) {
        process.stdout.write(USAGE);
        return;
    }
    let apiAuth: SimApiAuth = { type: 'none' };
    if (arg('api-token')) { apiAuth = { type: 'bearer', token: arg('api-token') as string }; }
    if (arg('api-user')) { apiAuth = { type: 'basic', user: arg('api-user') as string, password: arg('api-password') ?? '' }; }
    const sim = new DurstSimulator({
        port: Number(arg('port') ?? 8090),
        host: arg('host') ?? '127.0.0.1',
        apiAuth,
        xAuthStyle: arg('xauth-style') === 'basic' ? 'basic' : 'headers'
    });
    await sim.start();
    sim.on('delivery', (d) => { console.log(`callback ${d.topic} -> ${d.url}: ${d.status || d.error}`); });
    const trickle = Number(arg('trickle') ?? 0);
    if (trickle > 0) { sim.startTrickle(trickle); }
    console.log(`Durst Workflow simulator listening on ${sim.url}` + (trickle > 0 ? ` (trickle every ${trickle} ms)` : ''));
    let stopping = false;
    const stop = () => {
        if (stopping) { return; }
        stopping = true;
        sim.stop().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
}

main().catch((err) => {
    console.error('Durst simulator failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
});
