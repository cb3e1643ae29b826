// The bench side of sim-worker.ts: a PrintFactory simulator in a child process.
import path from 'path';
import { fork, type ChildProcess } from 'child_process';
import { EventEmitter } from 'events';

export class RemotePrintFactorySimulator extends EventEmitter {
    url = '';
    /** The simulator's REST API (same port). */
    apiUrl = '';
    private child: ChildProcess | null = null;
    private nextId = 1;
    private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

    constructor(private readonly misKeys: string[]) { super(); }

    async start(): Promise<void> {
        this.child = fork(path.join(__dirname, 'sim-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        this.child.on('message', (m: any) => {
            if (m.event) { this.emit(m.event, m.misKey ?? m.reason); return; }
            const p = this.pending.get(m.id);
            if (!p) { return; }
            this.pending.delete(m.id);
            if (m.error) { p.reject(new Error(m.error)); } else { p.resolve(m.result); }
        });
        this.child.on('exit', (code) => {
            for (const p of this.pending.values()) { p.reject(new Error(`simulator process exited (${code})`)); }
            this.pending.clear();
        });
        const { url, apiUrl } = await this.call('start', { misKeys: this.misKeys });
        this.url = url;
        this.apiUrl = apiUrl;
    }

    call(cmd: string, args?: unknown): Promise<any> {
        return new Promise((resolve, reject) => {
            if (!this.child || !this.child.connected) { reject(new Error('simulator process is not running')); return; }
            const id = this.nextId++;
            this.pending.set(id, { resolve, reject });
            this.child.send({ id, cmd, args });
        });
    }

    blast(count: number): Promise<{ writeMs: number }> { return this.call('blast', { count }); }
    /** Pre-encoded frames written in batches straight to the socket: a sender faster than any receiver here. */
    blastRaw(count: number): Promise<{ writeMs: number; cpuUs: number; events: Record<string, number> }> { return this.call('blastRaw', { count }); }
    /** `rate` job.created frames per second for `seconds`, each stamped with its send time (hrtime ns in the JobGUID). */
    pace(rate: number, seconds: number): Promise<{ sent: number }> { return this.call('pace', { rate, seconds }); }
    dropAll(): Promise<void> { return this.call('dropAll'); }
    /** `jobs` fresh jobs on the simulated floor, the REST API answering after `latencyMs`, its request log cleared. */
    apiPrepare(jobs: number, latencyMs: number): Promise<{ jobs: number }> { return this.call('apiPrepare', { jobs, latencyMs }); }
    /** `count` job.updated frames ({ JobGUID }) for the prepared jobs, round robin, as fast as the socket takes them. */
    apiBurst(count: number): Promise<{ writeMs: number }> { return this.call('apiBurst', { count }); }
    /** Job status calls the REST API answered since apiPrepare, and the most at once. */
    apiStats(): Promise<{ calls: number; peakInFlight: number }> { return this.call('apiStats'); }
    connectionCount(): Promise<number> { return this.call('connectionCount'); }
    /** Most connections open at the same time since start (null if the simulator does not track it). */
    peakConnections(): Promise<number | null> { return this.call('peakConnections'); }

    /** Resolves on the next accepted connection (any MisKey). */
    nextConnection(timeoutMs: number): Promise<void> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.removeListener('connection', onConnection);
                reject(new Error(`no connection to the simulator within ${timeoutMs} ms`));
            }, timeoutMs);
            const onConnection = (): void => { clearTimeout(timer); resolve(); };
            this.once('connection', onConnection);
        });
    }

    async stop(): Promise<void> {
        if (!this.child) { return; }
        const child = this.child;
        try { await this.call('stop'); } catch { /* already gone */ }
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.disconnect();
        await exited;
        this.child = null;
    }
}
