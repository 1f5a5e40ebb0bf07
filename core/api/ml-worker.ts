/**
 * Worker thread that trains or embeds on its own connection to the library, so the API's
 * thread (HTTP server, IPC, the UI's requests) stays responsive while TensorFlow.js computes.
 * Messages in: the task in workerData, then { type: 'cancel' }. Messages out: progress, step,
 * then done (the result) or error (name + message).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openLibrary } from '../store/db.ts';
import { trainLibrary, type TrainLibraryRequest } from '../ml/train.service.ts';
import { embedLibrary } from '../ml/embed.ts';
import type { BackendChoice } from '../ml/backend.ts';

export type MlTask =
  | { kind: 'train'; dbPath: string; request: TrainLibraryRequest }
  | { kind: 'embed'; dbPath: string; options: { runId?: number; backend?: BackendChoice; batchSize?: number; threads?: number } };

const task = (workerData as { task: MlTask }).task;
const controller = new AbortController();
parentPort?.on('message', (message: { type: string }) => {
  if (message.type === 'cancel') controller.abort();
});

// No top-level await: the desktop app bundles this entry as CommonJS.
async function main(): Promise<void> {
  const library = openLibrary(task.dbPath);
  const common = {
    signal: controller.signal,
    onProgress: (progress: unknown) => parentPort?.postMessage({ type: 'progress', progress }),
  };
  try {
    const result =
      task.kind === 'train'
        ? await trainLibrary(library, task.request, { ...common, onStep: (event) => parentPort?.postMessage({ type: 'step', event }) })
        : await embedLibrary(library, { ...task.options, ...common });
    parentPort?.postMessage({ type: 'done', result });
  } catch (error) {
    parentPort?.postMessage({ type: 'error', name: (error as Error).name ?? 'Error', message: (error as Error).message ?? String(error) });
  } finally {
    library.close();
  }
}

void main();
