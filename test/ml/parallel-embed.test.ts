// Parallel embedding with real worker threads and tfjs-wasm: the same rows as computeEmbeddings in
// this thread, every image written once (onBatch covers 0..count exactly), progress to the end.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/ml/backend.ts';
import { computeEmbeddings } from '../../core/ml/embed.ts';
import { computeEmbeddingsParallel } from '../../core/ml/parallel-embed.ts';
import { SimclrModel } from '../../core/ml/simclr-model.ts';
import { syntheticShapes } from './synthetic-shapes.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('parallel embedding (2 worker threads)', () => {
  it('gives the single-thread embeddings, each batch once', async () => {
    const images = syntheticShapes(70, 8, 4);
    const model = new SimclrModel({ arch: 'resnet-small', sizePx: 8, channels: 3, widths: [8, 16], blocks: [1, 1], seed: 3 });
    try {
      const expected = await computeEmbeddings(model.encoder, images, { batchSize: 16 });
      const seen = new Array<number>(images.count).fill(0);
      let lastDone = 0;
      const actual = await computeEmbeddingsParallel(model, images, {
        threads: 2,
        batchSize: 16,
        onBatch: (first, rows) => {
          for (let i = first; i < first + rows.length / model.featureDim; i++) seen[i]! += 1;
        },
        onProgress: (progress) => (lastDone = progress.done),
      });
      expect(actual.length).toBe(expected.length);
      let worst = 0;
      for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-5);
      expect(seen.every((count) => count === 1)).toBe(true);
      expect(lastDone).toBe(images.count);
    } finally {
      model.dispose();
    }
  });
});
