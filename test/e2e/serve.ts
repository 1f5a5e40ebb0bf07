/**
 * Starting a real `looktwice serve --db … --json` for the browser tests: resolves with the child
 * and the address it prints on its first JSON line (the access token in its query), rejects with
 * the server's stderr when it exits or stays silent too long.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/index.ts';

/** A running `looktwice serve`: its process and the address with `?token=…`. */
export interface Served {
  child: ChildProcess;
  url: string;
  token: string;
}

/** Starts `looktwice serve` on `dbPath` (in `env`, the tests' own by default) and waits for its address. */
export function startServe(dbPath: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Served> {
  const { env = process.env, timeoutMs = 90_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'looktwice.mjs'), 'serve', '--db', dbPath, '--json'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`looktwice serve did not start: ${err}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        const url = (JSON.parse(line) as { url: string }).url;
        resolve({ child, url, token: new URL(url).searchParams.get('token')! });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`looktwice serve exited with ${code}: ${err}`));
    });
  });
}
