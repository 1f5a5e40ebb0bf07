/**
 * The ML engine as the API uses it. TensorFlow.js loads only when training or embedding is first
 * asked for (browsing, duplicates, labels and export never need it, so `looktwice serve` starts
 * in a moment and a broken backend leaves every other screen working). Training and embedding
 * run in a worker thread on their own connection to the library (ml-worker.ts), so the thread
 * that answers the UI never waits behind a training step — from source and in the desktop app's
 * bundled engine alike (core/common/worker-thread.ts); where the worker script is missing (or
 * LOOKTWICE_ML_IN_PROCESS=1) they run in-process.
 */
import { CancelledError, type Progress, type ProgressListener } from '../common/progress.ts';
import { resolveWorkerScript, startWorker } from '../common/worker-thread.ts';
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

const WORKER_ENTRY = new URL('./ml-worker.ts', import.meta.url);

function canUseWorker(): boolean {
  return process.env.LOOKTWICE_ML_IN_PROCESS !== '1' && resolveWorkerScript(WORKER_ENTRY).kind !== 'missing';
}

interface RunOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  onStep?: (event: TrainStepEvent) => void;
}

/** Runs one task in a worker thread; rejects with CancelledError when the signal stops it. */
function runInWorker<T>(task: MlTask, options: RunOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = startWorker(WORKER_ENTRY, { task });
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
    if (!canUseWorker()) {
      return { initBackend: backend.initBackend, activeBackend: backend.activeBackend, trainLibrary: train.trainLibrary, embedLibrary: embed.embedLibrary };
    }
    return {
      initBackend: backend.initBackend,
      activeBackend: backend.activeBackend,
      trainLibrary: (library: Library, request: Train.TrainLibraryRequest, options = {}) =>
        runInWorker<Train.TrainLibraryResult>({ kind: 'train', dbPath: library.dbPath, request }, options),
      embedLibrary: (library: Library, options: Parameters<typeof Embed.embedLibrary>[1] = {}) => {
        const { signal, onProgress, ...rest } = options;
        return runInWorker<Embed.EmbedLibraryResult>({ kind: 'embed', dbPath: library.dbPath, options: rest }, { signal, onProgress });
      },
    };
  })().catch((error: unknown) => {
    loading = null;
    throw new Error(`the machine-learning engine could not be loaded: ${(error as Error).message}`);
  });
  return loading;
}
