/**
 * Runs the real `looktwice` CLI (`node bin/looktwice.mjs …`) in a child process, as a user
 * would. Import from test/helpers/index.ts.
 *
 *   const { code, stdout, stderr } = await runCli(['ingest', dir, '--db', dbPath, '--json']);
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where package.json and bin/ are). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_ENTRY = path.join(REPO_ROOT, 'bin', 'looktwice.mjs');

/**
 * Root reads any file whatever its mode (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH). Under this
 * prefix (util-linux setpriv) a root process lacks those capabilities and is refused a file
 * with mode 000 like anyone else, while still owning — and reading — everything else it owns.
 */
export const ROOT_WITHOUT_PERMISSION_BYPASS: readonly string[] = ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'];

export interface CliResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this uid/gid (needs root). */
  uid?: number;
  gid?: number;
  /**
   * A command to run node under, e.g. ROOT_WITHOUT_PERMISSION_BYPASS, so that root obeys file
   * permissions (tests of unreadable files run as root in CI).
   */
  prefix?: readonly string[];
  /** Called once the child is spawned (e.g. to kill it mid-run). */
  onSpawn?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

/** Spawns the CLI and resolves when it exits (never rejects on a non-zero exit). */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const spawnOptions: SpawnOptions = {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  };
  if (options.uid !== undefined) spawnOptions.uid = options.uid;
  if (options.gid !== undefined) spawnOptions.gid = options.gid;
  return new Promise((resolve, reject) => {
    const command = [...(options.prefix ?? []), process.execPath, CLI_ENTRY, ...args];
    const child = spawn(command[0]!, command.slice(1), spawnOptions);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}
