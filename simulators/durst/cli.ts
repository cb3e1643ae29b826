// Command line: node dist/simulators/durst/cli.js [--port 8090] [--host 127.0.0.1] [--trickle <ms>]
//   [--api-user u --api-password p | --api-token t] [--xauth-style headers|basic]
import { DurstSimulator, SimApiAuth } from './index';

function arg(name: string): string | undefined {
    const index = process.argv.indexOf('--' + name);
    return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
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
