/**
 * Worker thread of a data-parallel training pool (./parallel-trainer.ts): one replica on its own
 * tfjs backend. Started with TrainWorkerData; answers each request (step, state, load) with one
 * reply, or with { type: 'error' } and stays answerable.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './backend.ts';
import { Replica, type TrainWorkerData, type WorkerReply, type WorkerRequest } from './parallel-trainer.ts';
import type { TrainingImages } from './trainer.ts';

const data = workerData as TrainWorkerData;
const port = parentPort!;
const reply = (message: WorkerReply): void => port.postMessage(message);

// No top-level await: the desktop app bundles this entry as CommonJS.
async function main(): Promise<void> {
  try {
    await initBackend(data.backend);
    const replica = new Replica(data.config, data.memory, data.rank);
    const images: TrainingImages = { count: data.images.count, sizePx: data.images.sizePx, channels: data.images.channels, pixels: new Uint8Array(data.images.pixels) };
    port.on('message', (request: WorkerRequest) => {
      void (async () => {
        try {
          if (request.type === 'step') {
            const started = performance.now();
            const loss = replica.step(images, request.plan);
            reply({ type: 'stepped', loss, ms: performance.now() - started });
          } else if (request.type === 'state') {
            const tensors = await replica.trainer.state();
            reply({ type: 'state', tensors, optimizerIterations: replica.trainer.optimizer.iterations });
          } else {
            replica.trainer.loadState(new Map(request.tensors.map((t) => [t.name, t])), request.optimizerIterations);
            reply({ type: 'loaded' });
          }
        } catch (error) {
          reply({ type: 'error', message: (error as Error).message ?? String(error) });
        }
      })();
    });
    reply({ type: 'ready' });
  } catch (error) {
    reply({ type: 'error', message: `could not start: ${(error as Error).message ?? String(error)}` });
  }
}

void main();
