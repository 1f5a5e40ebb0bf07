/**
 * Worker thread of parallel embedding (./parallel-embed.ts): loads the encoder, then takes batch
 * numbers from the shared counter until none are left (or the stop flag is set), writes each
 * batch's features into the shared output and says which rows it wrote.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.ts';
import { embedBatch } from './embed.ts';
import type { EmbedWorkerData, EmbedWorkerReply } from './parallel-embed.ts';
import { SimclrModel } from './simclr-model.ts';

const data = workerData as EmbedWorkerData;
const reply = (message: EmbedWorkerReply): void => parentPort!.postMessage(message);

// No top-level await: the desktop app bundles this entry as CommonJS.
async function main(): Promise<void> {
  try {
    await initBackend(data.backend);
    const model = new SimclrModel(data.config, { withHead: false });
    model.restore(new Map(data.encoder.map((t) => [t.name, t])), false);
    const control = new Int32Array(data.control);
    const output = new Float32Array(data.output);
    const pixels = new Uint8Array(data.images.pixels);
    const images = { ...data.images, pixels };
    const dim = model.featureDim;
    for (;;) {
      if (Atomics.load(control, 1) !== 0) break;
      const first = Atomics.add(control, 0, 1) * data.batchSize;
      if (first >= images.count) break;
      const count = Math.min(data.batchSize, images.count - first);
      const features = embedBatch(model.encoder, images, first, count, data.normalise);
      output.set(features.dataSync() as Float32Array, first * dim);
      features.dispose();
      reply({ type: 'batch', first, count });
    }
    model.dispose();
    tf.disposeVariables();
    reply({ type: 'done' });
  } catch (error) {
    reply({ type: 'error', message: (error as Error).message ?? String(error) });
  }
}

void main();
