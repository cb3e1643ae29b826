// Node-RED user directories with this package installed the way a user installs it: a module in the user dir's
// node_modules (linked to this checkout), so Node-RED loads it as an installed package and lists its examples.
import fs from 'fs';
import os from 'os';
import path from 'path';

/** This checkout (dist/harness/ is two levels below it). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const PACKAGE_NAME: string = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;

/** Links `target` in as node_modules/<name> of the user dir (kept when it already points there). */
export function linkModule(userDir: string, name: string, target: string): void {
    const link = path.join(userDir, 'node_modules', ...name.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    let current: string | null = null;
    try { current = fs.readlinkSync(link); } catch { /* missing, or not a link */ }
    if (current === null || path.resolve(path.dirname(link), current) !== target) {
        fs.rmSync(link, { recursive: true, force: true });
        fs.symlinkSync(target, link, process.platform === 'win32' ? 'junction' : 'dir');
    }
}

/**
 * Writes the user dir's package.json (this package, plus `extra` modules by directory) and links each module
 * in. Creates the directory when needed.
 */
export function installInUserDir(userDir: string, extra: Record<string, string> = {}, description = 'generated'): void {
    fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
    const modules: Record<string, string> = { [PACKAGE_NAME]: ROOT, ...extra };
    const dependencies: Record<string, string> = {};
    for (const [name, dir] of Object.entries(modules)) {
        dependencies[name] = name === PACKAGE_NAME
            ? 'file:' + path.relative(userDir, ROOT).split(path.sep).join('/')
            : (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
        linkModule(userDir, name, dir);
    }
    const pkg = { name: 'node-red-user-dir', description, version: '0.0.0', private: true, dependencies };
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
}

/** A throw-away user dir (under the OS temp dir) with this package installed. */
export function makeUserDir(prefix = 'print-events-'): string {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    installInUserDir(userDir);
    return userDir;
}
