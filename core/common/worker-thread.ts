/**
 * The one way the engine starts a worker thread on one of its own TypeScript modules, in both
 * forms the engine runs in:
 *  - from source (CLI, tests, `looktwice serve` through tsx): Node 20 loads a worker's entry
 *    before `--import` hooks apply, so a small CommonJS bootstrap registers tsx's ESM API (its
 *    CommonJS build cannot register hooks inside a worker) and then imports the `.ts` entry;
 *  - bundled (the desktop app's engine, build/build-electron.mjs): every worker entry is bundled
 *    to `<name>.cjs` beside the bundle that starts it (esbuild points `import.meta.url` at that
 *    bundle), and starts as a plain CommonJS worker.
 * Callers name the entry relative to their own module, e.g.
 * `startWorker(new URL('./knn-worker.ts', import.meta.url), data)`.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
import(pathToFileURL(workerData.__tsxApi).href)
  .then(({ register }) => { register(); return import(pathToFileURL(workerData.__entry).href); });
`;

/** How an entry would start: a bundled script, the TypeScript source through tsx, or not at all (with the reason). */
export type WorkerScript = { kind: 'bundled'; file: string } | { kind: 'source'; file: string; tsxApi: string } | { kind: 'missing'; reason: string };

let tsxApi: string | null | undefined;

function tsxApiPath(): string | null {
  if (tsxApi === undefined) {
    try {
      tsxApi = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
    } catch {
      tsxApi = null;
    }
  }
  return tsxApi;
}

/** Finds the script for a worker entry given as the URL of its `.ts` source. */
export function resolveWorkerScript(entry: URL): WorkerScript {
  const source = fileURLToPath(entry);
  const bundled = source.replace(/\.ts$/, '.cjs');
  if (bundled !== source && fs.existsSync(bundled)) return { kind: 'bundled', file: bundled };
  if (fs.existsSync(source)) {
    const api = tsxApiPath();
    if (api) return { kind: 'source', file: source, tsxApi: api };
    return { kind: 'missing', reason: `tsx is not installed, so ${source} cannot run in a worker` };
  }
  return { kind: 'missing', reason: `the worker script ${bundled} is missing (the installation is incomplete)` };
}

/**
 * Starts a worker thread on `entry` with `workerData`. Throws (before starting anything) when the
 * script cannot be found; errors inside the worker arrive as its 'error' event.
 */
export function startWorker(entry: URL, workerData: object, options: Omit<WorkerOptions, 'workerData' | 'eval'> = {}): Worker {
  const script = resolveWorkerScript(entry);
  if (script.kind === 'missing') throw new Error(script.reason);
  if (script.kind === 'bundled') return new Worker(script.file, { ...options, workerData });
  return new Worker(TSX_BOOTSTRAP, { ...options, eval: true, workerData: { ...workerData, __entry: script.file, __tsxApi: script.tsxApi } });
}
