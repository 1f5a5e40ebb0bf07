/**
 * Argument parsing shared by the commands: node:util parseArgs, the common options, and
 * `optionsOnto`, which maps command-line options onto the parameter schemas of core/app/schemas.ts
 * so ranges, enums and defaults are the API's own and a bad value reads the same everywhere.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { InvalidParamsError } from '../common/errors.ts';
import { parseWith } from '../app/schemas.ts';
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
 * The one positional argument a command takes (the file or folder it reads), or a usage error:
 * `missing` when none is given, the first extra one named when there are more.
 */
export function onePositional(positionals: readonly string[], missing: string): string {
  if (positionals.length === 0) throw new UsageError(missing);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  return positionals[0]!;
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

/** The parts of a zod schema's definition that tell whether it takes a number. */
interface SchemaDef {
  type: string;
  innerType?: { def: SchemaDef };
  in?: { def: SchemaDef };
  options?: Array<{ def: SchemaDef }>;
}

/** Whether the field's schema accepts a number (so the option's text is read as one). */
function acceptsNumber(def: SchemaDef): boolean {
  if (def.type === 'number') return true;
  if (def.innerType) return acceptsNumber(def.innerType.def);
  if (def.in) return acceptsNumber(def.in.def);
  if (def.options) return def.options.some((option) => acceptsNumber(option.def));
  return false;
}

/**
 * Parses command-line values onto an object schema. `flags` maps each option name to the
 * schema's field; numeric text becomes a number for numeric fields (anything else is left for
 * the schema to refuse). A refused value is a UsageError naming the option: `--size must be …`.
 */
export function optionsOnto<S extends z.ZodObject>(schema: S, values: Record<string, unknown>, flags: Record<string, string>, extra: Record<string, unknown> = {}): z.output<S> {
  const shape = schema.shape as Record<string, { def: SchemaDef }>;
  const input: Record<string, unknown> = { ...extra };
  const flagOf = new Map<string, string>();
  for (const [flag, field] of Object.entries(flags)) {
    flagOf.set(field, flag);
    const value = values[flag];
    if (value === undefined) continue;
    const fieldSchema = shape[field];
    input[field] = typeof value === 'string' && fieldSchema && acceptsNumber(fieldSchema.def) && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  try {
    return parseWith(schema, input, (field) => {
      const [head, ...rest] = field.split(/(?=[[.])/);
      const flag = flagOf.get(head ?? field);
      return flag ? `--${flag}${rest.join('')}` : field;
    });
  } catch (error) {
    if (error instanceof InvalidParamsError) throw new UsageError(error.message);
    throw error;
  }
}
