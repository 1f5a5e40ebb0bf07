/** Argument parsing shared by the commands: node:util parseArgs plus the common options. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './command.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command that touches a library accepts. */
export const COMMON_OPTIONS = {
  db: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

/** parseArgs that turns its errors into UsageError. */
export function parse<T extends Options>(argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * The per-user app data folder, the same one Electron's `app.getPath('userData')` gives for
 * an app named Looktwice, so the CLI and the desktop app share one library by default.
 */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.LOOKTWICE_HOME) return path.resolve(env.LOOKTWICE_HOME);
  const home = env.HOME ?? os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Looktwice');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Looktwice');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Looktwice');
}

/** The library database: `--db PATH` if given, else `library.db` in the user data folder. */
export function resolveDbPath(dbOption: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(dbOption ?? path.join(userDataDir(env), 'library.db'));
}

/** Parses a positive integer option, or throws a UsageError naming it. */
export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number, got "${value}"`);
  return n;
}

/** Parses a finite number option, or throws a UsageError naming it. */
export function finiteNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return n;
}
