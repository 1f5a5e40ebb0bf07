/**
 * The ML engine as the API uses it. TensorFlow.js loads only when training or embedding is first
 * asked for (browsing, duplicates, labels and export never need it, so `looktwice serve` starts
 * in a moment and a broken backend leaves every other screen working). Training and embedding
 * run in a worker thread on their own connection to the library (ml-worker.ts), so the thread
 * that answers the UI never waits behind a training step; where the worker cannot start (a
 * bundled build without the TypeScript sources) they run in-process.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CancelledError, type Progress, type ProgressListener } from '../common/progress.ts';
import type { Library } from '../store/db.ts';
import type * as Backend from '../ml/backend.ts';
import type * as Train from '../ml/train.service.ts';
import type * as Embed from '../ml/embed.ts';
import type { TrainStepEvent } from '../ml/trainer.ts';
import type { MlTask } from './ml-worker.ts';

export interface MlEngine {
  initBackend: typeof Backend.initBackend;
  activeBackend: typeof Backend.activeBackend;
  trainLibrary: typeof Train.trainLibrary;
  embedLibrary: typeof Embed.embedLibrary;
}

// Node 20 loads a worker's entry before `--import` hooks apply, so a small CommonJS bootstrap
// registers tsx (its ESM API: the CommonJS build cannot register hooks inside a worker) and then
// imports the TypeScript entry — the same approach as core/curate/neighbours.ts.
const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
import(pathToFileURL(workerData.tsxApi).href)
  .then(({ register }) => { register(); return import(pathToFileURL(workerData.entry).href); });
`;

function workerEntry(): string | null {
  try {
    const entry = fileURLToPath(new URL('./ml-worker.ts', import.meta.url));
    return fs.existsSync(entry) && process.env.LOOKTWICE_ML_IN_PROCESS !== '1' ? entry : null;
  } catch {
    return null;
  }
}

function tsxApi(): string | null {
  try {
    return createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  } catch {
    return null;
  }
}

interface RunOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  onStep?: (event: TrainStepEvent) => void;
}

/** Runs one task in a worker thread; rejects with CancelledError when the signal stops it. */
function runInWorker<T>(task: MlTask, entry: string, api: string, options: RunOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { entry, tsxApi: api, task } });
    let settled = false;
    const onAbort = (): void => worker.postMessage({ type: 'cancel' });
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (work: () => void): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      // A GPU device (Dawn) keeps a worker's event loop alive after its task: end it explicitly.
      void worker.terminate();
      work();
    };
    worker.on('message', (message: { type: 'progress'; progress: Progress } | { type: 'step'; event: TrainStepEvent } | { type: 'done'; result: T } | { type: 'error'; name: string; message: string }) => {
      if (message.type === 'progress') options.onProgress?.(message.progress);
      else if (message.type === 'step') options.onStep?.(message.event);
      else if (message.type === 'done') finish(() => resolve(message.result));
      else {
        finish(() => {
          const error = message.name === 'CancelledError' ? new CancelledError() : new Error(message.message);
          if (message.name !== 'CancelledError') error.name = message.name;
          reject(error);
        });
      }
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the training worker stopped unexpectedly (exit code ${code})`))));
  });
}

let loading: Promise<MlEngine> | null = null;

/** The ML engine, imported once. */
export function loadMl(): Promise<MlEngine> {
  loading ??= (async () => {
    const [backend, train, embed] = await Promise.all([import('../ml/backend.ts'), import('../ml/train.service.ts'), import('../ml/embed.ts')]);
    const entry = workerEntry();
    const api = tsxApi();
    if (!entry || !api) {
      return { initBackend: backend.initBackend, activeBackend: backend.activeBackend, trainLibrary: train.trainLibrary, embedLibrary: embed.embedLibrary };
    }
    return {
      initBackend: backend.initBackend,
      activeBackend: backend.activeBackend,
      trainLibrary: (library: Library, request: Train.TrainLibraryRequest, options = {}) =>
        runInWorker<Train.TrainLibraryResult>({ kind: 'train', dbPath: library.dbPath, request }, entry, api, options),
      embedLibrary: (library: Library, options: Parameters<typeof Embed.embedLibrary>[1] = {}) => {
        const { signal, onProgress, ...rest } = options;
        return runInWorker<Embed.EmbedLibraryResult>({ kind: 'embed', dbPath: library.dbPath, options: rest }, entry, api, { signal, onProgress });
      },
    };
  })().catch((error: unknown) => {
    loading = null;
    throw new Error(`the machine-learning engine could not be loaded: ${(error as Error).message}`);
  });
  return loading;
}
