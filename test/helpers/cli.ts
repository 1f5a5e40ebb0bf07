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

export interface CliResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this uid/gid (needs root), e.g. 65534 (nobody) to test permission errors as root. */
  uid?: number;
  gid?: number;
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
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], spawnOptions);
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
