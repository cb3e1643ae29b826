// Command line: node dist/simulators/durst/cli.js [--port 8090] [--host 127.0.0.1] [--trickle <ms>]
//   [--login-user u --login-password p --token-ttl ms | --no-login | --api-user u --api-password p | --api-token t]
//   [--behaviour hal,paged,...] [--xauth-style headers|basic]
import { DURST_SIM_LOGIN, DurstSimulator, SIM_BEHAVIOURS, SimApiAuth, SimBehaviour } from './index';
import { failUsage, msOption, portOption, readArgs } from '../cli-args';

const USAGE = `Durst Workflow simulator: the subscriber/subscription REST API plus callbacks, on a real HTTP server.

Usage: npm run sim:durst -- [options]
       node dist/simulators/durst/cli.js [options]

Options:
  --port <n>            port to listen on (default 8090; 0 = any free port)
  --host <addr>         address to listen on (default 127.0.0.1)
  --trickle <ms>        fire a realistic status or workflow event every <ms> milliseconds (default off)
  --login-user <u>      the user of the Durst login (default ${DURST_SIM_LOGIN.user}) ...
  --login-password <p>  ... and its password (default ${DURST_SIM_LOGIN.password}); every API call needs the
                        x-auth-token of a login (GET /api/v1/login or POST /api/v2/login)
  --token-ttl <ms>      how long a token is valid (default 24 h)
  --no-login            no login: the API answers everyone
  --api-user <u>        require HTTP Basic auth on the API (a gateway in front) with this user ...
  --api-password <p>    ... and this password
  --api-token <t>       require a Bearer token on the API instead
  --behaviour <list>    comma-separated server behaviours to switch on: ${SIM_BEHAVIOURS.join(', ')}
  --xauth-style <s>     how XAUTH callbacks carry credentials: headers (default) or basic
  -h, --help            show this help and exit

Each event is POSTed once per ACTIVE subscription whose topic matches, for every subscriber,
to the subscriber's hostUri joined with the subscription's path (as Durst does).
State is kept in memory only and is gone when the simulator stops.
`;

const OPTIONS = {
    port: { type: 'string' }, host: { type: 'string' }, trickle: { type: 'string' },
    'login-user': { type: 'string' }, 'login-password': { type: 'string' }, 'token-ttl': { type: 'string' }, 'no-login': { type: 'boolean' },
    'api-user': { type: 'string' }, 'api-password': { type: 'string' }, 'api-token': { type: 'string' },
    behaviour: { type: 'string' }, 'xauth-style': { type: 'string' }
} as const;

async function main(): Promise<void> {
    const args = readArgs(process.argv.slice(2), OPTIONS, USAGE, 'Durst simulator');
    let port: number;
    let trickle: number;
    let tokenTtlMs: number | undefined;
    try {
        port = portOption(args.port, 8090, 'port');
        trickle = msOption(args.trickle, 0, 'trickle');
        tokenTtlMs = args['token-ttl'] === undefined ? undefined : msOption(args['token-ttl'], 0, 'token-ttl');
        for (const name of (args.behaviour ?? '').split(',').map((b) => b.trim()).filter(Boolean)) {
            if (!SIM_BEHAVIOURS.includes(name as SimBehaviour)) { throw new Error(`--behaviour: unknown behaviour ${name}`); }
        }
        if (args['xauth-style'] !== undefined && !['headers', 'basic'].includes(args['xauth-style'])) { throw new Error('--xauth-style must be headers or basic'); }
    } catch (err) {
        failUsage('Durst simulator', err, USAGE);
    }
    let apiAuth: SimApiAuth = { type: 'login', user: args['login-user'] ?? DURST_SIM_LOGIN.user,
        password: args['login-password'] ?? DURST_SIM_LOGIN.password, tokenTtlMs };
    if (args['no-login']) { apiAuth = { type: 'none' }; }
    if (args['api-token']) { apiAuth = { type: 'bearer', token: args['api-token'] }; }
    if (args['api-user']) { apiAuth = { type: 'basic', user: args['api-user'], password: args['api-password'] ?? '' }; }
    const sim = new DurstSimulator({
        port,
        host: args.host ?? '127.0.0.1',
        apiAuth,
        xAuthStyle: args['xauth-style'] === 'basic' ? 'basic' : 'headers'
    });
    for (const name of (args.behaviour ?? '').split(',').map((b) => b.trim()).filter(Boolean)) {
        sim.setBehaviour(name as SimBehaviour);
    }
    await sim.start();
    sim.on('delivery', (d) => { console.log(`callback ${d.topic} -> ${d.url}: ${d.status || d.error}`); });
    if (trickle > 0) { sim.startTrickle(trickle); }
    console.log(`Durst Workflow simulator listening on ${sim.url}` + (trickle > 0 ? ` (trickle every ${trickle} ms)` : '') +
        (apiAuth.type === 'login' ? `; API login: user ${apiAuth.user}` : '') +
        (sim.activeBehaviours().length > 0 ? `; behaviours: ${sim.activeBehaviours().join(', ')}` : ''));
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
