// What Durst returned at registration: its subscriber answers echo the JWT key and the X-Auth password
// CHANGED ("string" sent, "3IgPH7Gok2F+z9ZJ9zItbw==" returned), and it may sign callbacks with what it returned.
// The webhook verifies against those too, so they are kept, at least as safe as Node-RED keeps credentials:
// encrypted (AES-256-GCM) with a key derived from the runtime's credentialSecret (or Node-RED's generated
// `_credentialSecret`, or, with neither, a random key file of our own beside it, mode 0600), in a file of the
// user dir, never in a flow file, a msg or a log. Beside the returned secrets each entry holds a fingerprint
// (HMAC with the same key) of the secret last registered, so a secret changed while Node-RED was stopped
// (a `${VAR}`, a credentials file edited by hand) is noticed at the next start.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** Event a durst-subscriber node emits when its callbackSecretState() changes. */
export const CALLBACK_SECRET_EVENT = 'print-events:callback-secret';
/** registered: Durst has the secret the runtime resolves; notRegistered: it changed and the update failed. */
export type CallbackSecretState = 'registered' | 'unknown' | 'notRegistered';

/** What a durst-subscriber node offers about it (it also emits CALLBACK_SECRET_EVENT on a change). */
export interface CallbackSecretReporter {
    callbackSecretState?(): CallbackSecretState;
}

export const RETURNED_SECRETS_FILE = '.print-events-durst-secrets.json';
const KEY_FILE = '.print-events-durst-key';
const MAX_RETURNED = 4;

export interface ReturnedEntry {
    /** Fingerprint of the secret (auth type + value) last registered with Durst. */
    sent: string;
    /** What Durst answered for that secret, newest first (a GET may echo it differently from the create). */
    returned: string[];
}

interface StoredEntry { iv: string; tag: string; data: string }

export interface SecretStoreSettings {
    userDir?: unknown;
    credentialSecret?: unknown;
    get?: (name: string) => unknown;
}

/** The secret the store's key is derived from: credentialSecret, Node-RED's generated one, or a key file of ours. */
function baseSecret(settings: SecretStoreSettings, dir: string | undefined): string {
    if (typeof settings.credentialSecret === 'string' && settings.credentialSecret !== '') { return settings.credentialSecret; }
    try {
        const generated = typeof settings.get === 'function' ? settings.get('_credentialSecret') : undefined;
        if (typeof generated === 'string' && generated !== '') { return generated; }
    } catch { /* runtime settings not loaded (a test harness): fall through */ }
    if (!dir) { return crypto.randomBytes(32).toString('hex'); } // no user dir: memory only, like the store itself
    const file = path.join(dir, KEY_FILE);
    try { return fs.readFileSync(file, 'utf8').trim(); } catch { /* first use */ }
    const created = crypto.randomBytes(32).toString('hex');
    fs.writeFileSync(file, created, { mode: 0o600 });
    return created;
}

export class ReturnedSecretStore {
    private readonly key: Buffer;
    private memory: Record<string, StoredEntry> = {};

    constructor(private readonly file: string | undefined, secret: string, private readonly warn: (text: string) => void = () => undefined) {
        this.key = crypto.createHash('sha256').update('node-red-contrib-print-events durst returned secrets\0' + secret).digest();
    }

    /** HMAC of the auth type and secret: compares what was registered with what is configured, without keeping it. */
    fingerprint(type: string, secret: string | undefined): string {
        return crypto.createHmac('sha256', this.key).update(type + '\0' + (secret ?? '')).digest('hex');
    }

    get(id: string): ReturnedEntry | undefined {
        const stored = this.read()[id];
        if (!stored) { return undefined; }
        try {
            const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(stored.iv, 'base64'));
            decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
            const text = Buffer.concat([decipher.update(Buffer.from(stored.data, 'base64')), decipher.final()]).toString('utf8');
            const value = JSON.parse(text) as ReturnedEntry;
            return typeof value.sent === 'string' && Array.isArray(value.returned) ? value : undefined;
        } catch {
            // The credential secret changed (or the file was edited): unreadable, so treated as unknown.
            this.warn('the secrets Durst returned at registration could not be decrypted (credentialSecret changed?): they are registered again at the next change');
            return undefined;
        }
    }

    /** Records a registration: the secret's fingerprint and what Durst returned for it (kept while the secret stays). */
    record(id: string, sent: string, returned: string | undefined): void {
        const previous = this.get(id);
        const kept = previous && previous.sent === sent ? previous.returned : [];
        const list = returned ? [returned, ...kept.filter((r) => r !== returned)].slice(0, MAX_RETURNED) : kept;
        const iv = crypto.randomBytes(12);
        const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
        const data = Buffer.concat([cipher.update(JSON.stringify({ sent, returned: list }), 'utf8'), cipher.final()]);
        const all = this.read();
        all[id] = { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
        this.write(all);
    }

    private read(): Record<string, StoredEntry> {
        if (!this.file) { return this.memory; }
        try {
            const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8'));
            return parsed && typeof parsed.entries === 'object' && parsed.entries !== null ? parsed.entries : {};
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') { this.warn(`could not read ${this.file}: ${(err as Error).message}`); }
            return {};
        }
    }

    private write(entries: Record<string, StoredEntry>): void {
        if (!this.file) { this.memory = entries; return; }
        const temp = `${this.file}.${process.pid}.tmp`;
        try {
            fs.writeFileSync(temp, JSON.stringify({ version: 1, entries }, null, 1), { mode: 0o600 });
            fs.renameSync(temp, this.file);
        } catch (err) {
            this.warn(`could not write ${this.file}: ${(err as Error).message}`);
        }
    }
}

const stores = new Map<string, ReturnedSecretStore>();
const memoryStores = new WeakMap<object, ReturnedSecretStore>();

/** One store per user dir; without one, one in memory per runtime (settings object), like the state store. */
export function returnedSecretStoreFor(settings: SecretStoreSettings, warn: (text: string) => void): ReturnedSecretStore {
    const dir = typeof settings.userDir === 'string' && settings.userDir !== '' ? settings.userDir : undefined;
    let store = dir ? stores.get(dir) : memoryStores.get(settings);
    if (!store) {
        store = new ReturnedSecretStore(dir ? path.join(dir, RETURNED_SECRETS_FILE) : undefined, baseSecret(settings, dir), warn);
        if (dir) { stores.set(dir, store); } else { memoryStores.set(settings, store); }
    }
    return store;
}

interface RegisteredSubscriber {
    externalAuthType: string;
    xAuthPassword?: string;
    jwtKey?: string;
}

/** The secret Durst answered with for this auth type (its create, PUT or GET answer), if any. */
export function returnedSecretOf(remote: unknown, externalAuthType: string): string | undefined {
    const record = (typeof remote === 'object' && remote !== null ? remote : {}) as Record<string, any>;
    const value = externalAuthType === 'JWT_SIGNING' ? record.jwtSigningInfo?.key : externalAuthType === 'XAUTH' ? record.xAuthInfo?.password : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The callback secret of one durst-subscriber (node id + API URL): whether it changed since it was last
 * registered, what the webhook may verify with, and the bookkeeping after each registration.
 */
export class CallbackSecrets {
    readonly current: string;
    private entry: ReturnedEntry | undefined;
    /** Called after a registration was recorded (Durst has the current secret). */
    onRecorded?: () => void;

    constructor(private readonly store: ReturnedSecretStore, private readonly id: string, private readonly settings: RegisteredSubscriber) {
        this.current = store.fingerprint(settings.externalAuthType, this.secret());
        this.entry = id ? store.get(id) : undefined;
    }

    private secret(): string | undefined {
        return this.settings.externalAuthType === 'JWT_SIGNING' ? this.settings.jwtKey
            : this.settings.externalAuthType === 'XAUTH' ? this.settings.xAuthPassword : undefined;
    }

    /** True when a secret was registered before and the one configured now differs (a `${VAR}` or key changed). */
    changed(): boolean { return this.entry !== undefined && this.entry.sent !== this.current; }

    /** The configured secret, then what Durst returned for it (only while it is the secret registered). */
    candidates(): Array<{ source: 'configured' | 'returned'; value: string }> {
        const configured = this.secret();
        const list: Array<{ source: 'configured' | 'returned'; value: string }> = configured ? [{ source: 'configured', value: configured }] : [];
        if (this.entry && this.entry.sent === this.current) {
            for (const value of this.entry.returned) { list.push({ source: 'returned', value }); }
        }
        return list;
    }

    /** After a registration: Durst now has the configured secret; keep what it answered with. */
    recordRegistration(result: { action: string; remote?: unknown }): void {
        // 'unchanged' with a changed secret cannot happen (the secret counts as a difference), except where Durst
        // cannot show a subscriber (405): then nothing proves Durst has it, so nothing is recorded.
        if (result.action === 'unchanged' && this.changed()) { return; }
        if (this.id) {
            this.store.record(this.id, this.current, returnedSecretOf(result.remote, this.settings.externalAuthType));
            this.entry = this.store.get(this.id);
        }
        this.onRecorded?.();
    }
}
