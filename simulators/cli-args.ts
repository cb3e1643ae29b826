// The simulators' command lines, all on node:util parseArgs (strict: an unknown option or a missing value is an
// error that names the option), with the checks every CLI needs.
import { parseArgs, type ParseArgsConfig } from 'util';

export type CliOptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What parseArgs gives for such options: strings, booleans, or string lists for `multiple`. */
export type CliValues<T extends CliOptionSpec> = {
    [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : T[K] extends { multiple: true } ? string[] : string;
};

/**
 * Parses argv with `--help`/`-h` added; prints `usage` and exits 0 on help, prints the error and `usage` and
 * exits 2 on a bad option.
 */
export function readArgs<T extends CliOptionSpec>(argv: string[], options: T, usage: string, name: string): CliValues<T> {
    try {
        const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
        if ((values as { help?: boolean }).help) { process.stdout.write(usage); process.exit(0); }
        return values as CliValues<T>;
    } catch (err) {
        process.stderr.write(`${name}: ${(err as Error).message}\n${usage}`);
        process.exit(2);
    }
}

/** A port number (0 = any free port); throws naming the option. */
export function portOption(value: unknown, fallback: number, option: string): number {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) { throw new Error(`--${option} must be 0..65535`); }
    return n;
}

/** A number of milliseconds >= 0; throws naming the option. */
export function msOption(value: unknown, fallback: number, option: string): number {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n < 0) { throw new Error(`--${option} must be a number of milliseconds >= 0`); }
    return n;
}

/** Like readArgs's failure: the message and the usage on stderr, exit 2. */
export function failUsage(name: string, err: unknown, usage: string): never {
    process.stderr.write(`${name}: ${(err as Error).message}\n${usage}`);
    process.exit(2);
}
