// SimCLR training with real tfjs (wasm backend) on tiny models and a generated dataset: it learns
// (loss falls, kNN accuracy of h rises well above the same encoder at random init), memory stays
// flat, and a stopped run resumes exactly where an uninterrupted one would be.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/ml/backend.ts';
import { DEFAULT_AUGMENT } from '../../core/ml/augment.ts';
import { loadCheckpoint } from '../../core/ml/checkpoint.ts';
import { computeEmbeddings } from '../../core/ml/embed.ts';
import { SimclrTrainer, defaultTrainConfig, trainSimclr, type TrainConfig } from '../../core/ml/trainer.ts';
import { knnAccuracy, syntheticShapes } from './synthetic-shapes.ts';

const SIZE_PX = 16;
const tiny = (overrides: Partial<TrainConfig> = {}): TrainConfig =>
  defaultTrainConfig({
    sizePx: SIZE_PX,
    widths: [16, 32, 64],
    blocks: [1, 1, 1],
    batchSize: 32,
    optimizer: 'adam',
    learningRate: 2e-3,
    augment: { ...DEFAULT_AUGMENT, minCropArea: 0.3, colorStrength: 1.0 },
    ...overrides,
  });

let scratch: string;

beforeAll(async () => {
  await initBackend('wasm');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-trainer-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('SimCLR trainer', () => {
  it('learns: loss falls and kNN accuracy of h rises clearly above random init', async () => {
    const train = syntheticShapes(400, SIZE_PX, 1);
    const test = syntheticShapes(200, SIZE_PX, 2);
    const steps = 250;
    const trainer = new SimclrTrainer(tiny({ steps, batchSize: 24 }));
    try {
      const knn = async (): Promise<number> => {
        const reference = await computeEmbeddings(trainer.model.encoder, train, { normalise: false });
        const query = await computeEmbeddings(trainer.model.encoder, test, { normalise: false });
        return knnAccuracy(reference, train.labels, query, test.labels, trainer.model.featureDim, 5);
      };
      const before = await knn();
      const losses: number[] = [];
      for (let i = 0; i < steps; i++) losses.push(await trainer.trainStep(train));
      const after = await knn();
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      const first = mean(losses.slice(0, 20));
      const last = mean(losses.slice(-20));
      console.log(`loss ${first.toFixed(3)} → ${last.toFixed(3)}; kNN accuracy at random init ${before.toFixed(3)} → trained ${after.toFixed(3)}`);
      expect(last).toBeLessThan(first - 0.3);
      expect(after).toBeGreaterThan(before + 0.1);
      expect(after).toBeGreaterThan(0.65);
    } finally {
      trainer.dispose();
    }
    // ~30 s of CPU; the generous limit is for a machine shared with other jobs.
  }, 600_000);

  it('keeps the number of tensors and bytes flat across steps (no leaks)', async () => {
    const data = syntheticShapes(64, SIZE_PX, 3);
    const trainer = new SimclrTrainer(tiny({ steps: 20, batchSize: 16 }));
    try {
      await trainer.trainStep(data);
      const counts: number[] = [];
      const bytes: number[] = [];
      for (let i = 0; i < 6; i++) {
        await trainer.trainStep(data);
        counts.push(tf.memory().numTensors);
        bytes.push(tf.memory().numBytes);
      }
      expect(new Set(counts).size).toBe(1);
      expect(new Set(bytes).size).toBe(1);
    } finally {
      trainer.dispose();
    }
  });

  it('stops on its signal with a checkpoint, and resumes exactly where an uninterrupted run would be', async () => {
    const data = syntheticShapes(48, SIZE_PX, 4);
    const config = tiny({ steps: 6, batchSize: 12, checkpointEverySteps: 100 });

    const straightDir = path.join(scratch, 'straight');
    const straight: number[] = [];
    const full = await trainSimclr(data, config, { checkpointDir: straightDir, onStep: (e) => straight.push(e.loss) });
    expect(full).toMatchObject({ stepsDone: 6, stopped: false });

    const resumedDir = path.join(scratch, 'resumed');
    const controller = new AbortController();
    const firstPart: number[] = [];
    const stopped = await trainSimclr(data, config, {
      checkpointDir: resumedDir,
      signal: controller.signal,
      onStep: (e) => {
        firstPart.push(e.loss);
        if (e.step === 3) controller.abort();
      },
    });
    expect(stopped).toMatchObject({ stepsDone: 3, stopped: true });
    expect(loadCheckpoint(resumedDir).meta.step).toBe(3);

    const secondPart: number[] = [];
    const resumed = await trainSimclr(data, config, { checkpointDir: resumedDir, resume: true, onStep: (e) => secondPart.push(e.loss) });
    expect(resumed).toMatchObject({ stepsDone: 6, stopped: false });
    const combined = [...firstPart, ...secondPart];
    expect(combined).toHaveLength(6);
    combined.forEach((loss, i) => expect(loss).toBeCloseTo(straight[i]!, 5));

    const a = loadCheckpoint(straightDir).tensors;
    const b = loadCheckpoint(resumedDir).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, tensor] of a) {
      const other = b.get(name)!;
      let worst = 0;
      tensor.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - other.values[i]!))));
      expect(worst, name).toBeLessThan(1e-5);
    }
  });

  it('refuses a dataset whose size or channels differ from the run', async () => {
    const data = syntheticShapes(8, 8, 5);
    await expect(trainSimclr(data, tiny({ steps: 1 }))).rejects.toThrow(/8 px/);
  });
});
