// The README's first command (`npm start` builds, then runs this): both vendor simulators with a steady trickle
// of realistic events, an MQTT broker (Aedes) for the fan-out examples, and Node-RED wired like red.js with this
// package and FlowFuse Dashboard 2.0 installed in a local user dir, running every example flow against them.
// No cloud account, no printer, no external broker.
//
//   node dist/harness/demo.js           run until Ctrl+C
//   node dist/harness/demo.js --check   exit 0 once debug messages from both simulators and over MQTT arrived
//                                       and the dashboard page answers (1 on timeout): used by tests and CI
//
// Environment: HOST, PORT, PF_SIM_PORT, DURST_SIM_PORT, MQTT_PORT, DEMO_USER_DIR, DEMO_EXIT_AFTER (seconds; implies
// --check with that timeout), DEMO_KEEP_FLOWS, PF_TRICKLE_MS, DURST_TRICKLE_MS, PF_DROP_EVERY_MS, NODE_RED_LOG_LEVEL.
import fs from 'fs';
import path from 'path';
import { startNodeRed, type EmbeddedNodeRed } from './node-red';
import { installInUserDir, PACKAGE_NAME } from './user-dir';
import { readOptions, type DemoOptions } from './demo/options';
import { mergeExamples, pointAtSimulators, debugNodesBySource, dashboardUrlOf, exampleFiles, DASHBOARD_MODULE, DEMO_MIS_KEY, DEMO_DURST_LOGIN, OUR_SOURCE_TYPES, type Source } from './demo/flows';
import { startMqttBroker, watchDebug, checkDashboard, dashboardDir, explainStartError } from './demo/services';
import { PrintFactorySimulator } from '../simulators/printfactory';
import { DurstSimulator } from '../simulators/durst';

const cleanups: (() => unknown)[] = [];
async function stopAll(): Promise<void> {
    for (const fn of cleanups.reverse()) {
        try { await fn(); } catch (err) { console.error('demo: while stopping:', (err as Error).message); }
    }
}

async function main(opts: DemoOptions): Promise<boolean> {
    // 1. The simulators and the broker.
    const pfSim = new PrintFactorySimulator({ port: opts.pfSimPort, host: '127.0.0.1', misKeys: [DEMO_MIS_KEY] });
    await pfSim.start().catch((err) => { throw explainStartError('PrintFactory simulator', 'PF_SIM_PORT', opts.pfSimPort, err); });
    cleanups.push(() => pfSim.stop());
    // Durst's API login, as the product requires it: the demo's durst-subscriber logs in with DEMO_DURST_LOGIN.
    const durstSim = new DurstSimulator({ port: opts.durstSimPort, host: '127.0.0.1', apiAuth: { type: 'login', ...DEMO_DURST_LOGIN } });
    await durstSim.start().catch((err) => { throw explainStartError('Durst simulator', 'DURST_SIM_PORT', opts.durstSimPort, err); });
    cleanups.push(() => durstSim.stop());
    const broker = await startMqttBroker({ port: opts.mqttPort }).catch((err) => { throw explainStartError('MQTT broker', 'MQTT_PORT', opts.mqttPort, err); });
    cleanups.push(() => broker.stop());

    // 2. Node-RED in a user dir where this package and the dashboard are installed; stale flows removed, so they
    //    never open a second PrintFactory connection before the examples are deployed.
    const dashboard = dashboardDir();
    installInUserDir(opts.userDir, dashboard ? { [DASHBOARD_MODULE]: dashboard } : {}, 'user dir of the print-events demo (generated)');
    if (!opts.keepFlows) {
        for (const f of ['flows.json', 'flows_cred.json', '.flows.json.backup', '.flows_cred.json.backup']) { fs.rmSync(path.join(opts.userDir, f), { force: true }); }
    }
    const nr: EmbeddedNodeRed = await startNodeRed({
        userDir: opts.userDir, port: opts.port, host: opts.host, flowsStartTimeoutMs: 15000,
        // No credentialSecret: Node-RED generates one and keeps flows_cred.json encrypted.
        settings: { editorTheme: { tours: false, projects: { enabled: false }, page: { title: 'Node-RED: print events demo' } },
            logging: { console: { level: opts.logLevel, metrics: false, audit: false } } }
    }).catch((err) => { throw explainStartError('Node-RED', 'PORT', opts.port, err); });
    cleanups.push(() => nr.stop());

    // 3. Our package must have loaded: everything else depends on it.
    const nodeSets = await (nr.RED as unknown as { runtime: { nodes: { getNodeList(o: object): Promise<{ module: string; name: string; err?: string; enabled: boolean }[]> } } }).runtime.nodes.getNodeList({});
    const broken = nodeSets.filter((s) => s.module === PACKAGE_NAME && (s.err || !s.enabled));
    if (!nodeSets.some((s) => s.module === PACKAGE_NAME) || broken.length > 0) {
        throw new Error(`Node-RED did not load ${PACKAGE_NAME} (${broken.map((s) => `${s.name}: ${s.err || 'disabled'}`).join('; ') || 'module not found'}). Run "npm run build" and try again.`);
    }
    const hasDashboard = nodeSets.some((s) => s.module === DASHBOARD_MODULE && s.enabled && !s.err);
    if (!hasDashboard) { console.warn(`demo: ${DASHBOARD_MODULE} is not installed (run "npm ci"): the dashboard example stays disabled`); }

    // 4. The examples, pointed at the simulators, and a watch on the Debug channel.
    const { flows, tabs } = mergeExamples(exampleFiles(), { hasDashboard });
    const dashboardUrl = dashboardUrlOf(flows, tabs, nr.baseUrl);
    pointAtSimulators(flows, { pfUrl: pfSim.url, durstUrl: durstSim.url, callbackBase: nr.baseUrl.replace(/\/$/, ''), mqttPort: broker.port });
    const watched = debugNodesBySource(flows);
    const firstSeen: Partial<Record<Source, string>> = {};
    let onAllSeen: (() => void) | null = null;
    const allSeen = (): boolean => (Object.keys(OUR_SOURCE_TYPES) as Source[]).every((s) => firstSeen[s] !== undefined);
    const comms = watchDebug(nr.baseUrl, (data) => {
        for (const source of Object.keys(OUR_SOURCE_TYPES) as Source[]) {
            if (watched[source].has(data.id) && firstSeen[source] === undefined) { firstSeen[source] = data.topic || '(no topic)'; }
        }
        if (onAllSeen && allSeen()) { onAllSeen(); }
    });
    cleanups.push(() => comms.terminate());
    if (opts.keepFlows && fs.existsSync(path.join(opts.userDir, 'flows.json'))) {
        console.log('demo: DEMO_KEEP_FLOWS set: keeping the flows already in ' + opts.userDir);
    } else {
        await nr.deploy(flows);
    }

    // 5. Events.
    pfSim.startTrickle(opts.pfTrickleMs);
    durstSim.startTrickle(opts.durstTrickleMs);
    cleanups.push(() => { pfSim.stopTrickle(); durstSim.stopTrickle(); });
    if (opts.pfDropEveryMs > 0) {
        const dropTimer = setInterval(() => pfSim.dropAll(), opts.pfDropEveryMs);
        cleanups.push(() => clearInterval(dropTimer));
    }
    const line = '-'.repeat(72);
    console.log(['', line,
        `  Node-RED editor:          ${nr.baseUrl}`,
        `  Runtime:                  Node-RED ${nr.nodeRedVersion} on Node.js ${process.version}`,
        ...(dashboardUrl ? [`  Print floor dashboard:    ${dashboardUrl}`] : []),
        `  PrintFactory simulator:   ${pfSim.url}  (new event every ${opts.pfTrickleMs / 1000} s` +
            (opts.pfDropEveryMs > 0 ? `, connection dropped every ${opts.pfDropEveryMs / 1000} s)` : ')'),
        `  PrintFactory REST API:    ${pfSim.apiUrl}/api/v2/  (same port; printfactory-api nodes ask it)`,
        `  Durst Workflow simulator: ${durstSim.url}  (new event every ${opts.durstTrickleMs / 1000} s; API login: user ${DEMO_DURST_LOGIN.user})`,
        `  MQTT broker (Aedes):      ${broker.url}  (fan-out tabs publish and subscribe here)`,
        `  User directory:           ${opts.userDir}`,
        '  Example tabs:', ...tabs.map((t) => `    - ${t.label}  [${t.file}]`), '',
        '  Open the editor and the Debug sidebar (bug icon, top right) to watch events' + (dashboardUrl ? ', or the dashboard.' : '.'),
        opts.check ? '  Check mode: exits once both simulators and the MQTT fan-out reach a debug node' +
            (dashboardUrl ? ' and the dashboard answers.' : '.') : '  Press Ctrl+C to stop.',
        line, ''].join('\n'));
    if (!opts.check) { return true; }

    // 6. Check mode: every source reached a debug node, and the dashboard answers.
    const seenAll = allSeen() || await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), opts.checkTimeoutMs);
        onAllSeen = () => { clearTimeout(timer); resolve(true); };
    });
    const problem = !seenAll
        ? (Object.keys(OUR_SOURCE_TYPES) as Source[]).filter((s) => firstSeen[s] === undefined).map((s) => watched[s].size === 0
            ? `${s}: no enabled debug node is wired from a ${OUR_SOURCE_TYPES[s]} node`
            : `${s}: no debug message within ${opts.checkTimeoutMs / 1000} s`).join('; ')
        : dashboardUrl ? await checkDashboard(dashboardUrl) : null;
    if (problem) {
        console.error('demo check: FAILED: ' + problem);
        return false;
    }
    console.log(`demo check: OK: debug messages from PrintFactory (first topic ${firstSeen.printfactory}), ` +
        `Durst (first topic ${firstSeen.durst}) and over MQTT (first topic ${firstSeen.mqtt})` +
        (dashboardUrl ? `; dashboard answers at ${dashboardUrl}` : ''));
    return true;
}

if (require.main === module) {
    let stopping = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
            if (stopping) { console.error('demo: forced exit'); process.exit(130); }
            stopping = true;
            console.log(`\ndemo: ${signal} received, stopping...`);
            // A close handler that hangs must not keep the terminal hostage.
            setTimeout(() => { console.error('demo: stop timed out, exiting'); process.exit(1); }, 20000).unref();
            stopAll().then(() => process.exit(0));
        });
    }
    let opts: DemoOptions;
    try { opts = readOptions(process.argv.slice(2), process.env); } catch (err) { console.error('demo: ' + (err as Error).message); process.exit(1); }
    main(opts).then(async (ok) => {
        if (opts.check) { await stopAll(); process.exit(ok ? 0 : 1); }
    }, async (err: Error) => {
        console.error('demo: ' + (err?.message ?? err));
        await stopAll();
        process.exit(1);
    });
}
