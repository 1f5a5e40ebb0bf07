// The data-parallel step against the single-thread step on the same batch, with real worker
// threads and real tfjs-wasm: loss, gradients (read from one SGD step, whose update is exactly
// −lr·g), batch-norm running statistics and the next step all agree within float tolerance —
// batch norm is synchronised, so the shards together compute the whole batch's statistics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../core/ml/backend.ts';
import { DEFAULT_AUGMENT } from '../../core/ml/augment.ts';
import type { CheckpointTensor } from '../../core/ml/checkpoint.ts';
import { ParallelSimclrTrainer, shardOf } from '../../core/ml/parallel-trainer.ts';
import { SimclrTrainer, defaultTrainConfig, trainSimclr, type TrainConfig } from '../../core/ml/trainer.ts';
import { syntheticShapes } from './synthetic-shapes.ts';

const SIZE_PX = 8;
const LEARNING_RATE = 0.01;
const config = (overrides: Partial<TrainConfig> = {}): TrainConfig =>
  defaultTrainConfig({
    sizePx: SIZE_PX,
    widths: [8, 16],
    blocks: [1, 1],
    projectionDim: 16,
    batchSize: 10,
    steps: 4,
    warmupSteps: 0,
    optimizer: 'sgd',
    weightDecay: 0,
    learningRate: LEARNING_RATE,
    augment: { ...DEFAULT_AUGMENT, minCropArea: 0.3 },
    ...overrides,
  });

const images = syntheticShapes(40, SIZE_PX, 3);
let scratch: string;

beforeAll(async () => {
  await initBackend('wasm');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-parallel-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const byName = (tensors: CheckpointTensor[]): Map<string, Float32Array> => new Map(tensors.map((t) => [t.name, t.values]));

function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!), Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst / scale;
}

describe('data-parallel SimCLR step (2 worker threads)', () => {
  it('splits a batch into contiguous shards covering every image once', () => {
    const shards = [0, 1, 2].map((rank) => shardOf(10, 3, rank));
    expect(shards).toEqual([{ first: 0, count: 3 }, { first: 3, count: 3 }, { first: 6, count: 4 }]);
  });

  it('gives the loss, gradients and batch-norm statistics of the single-thread step on the same batch', async () => {
    const single = new SimclrTrainer(config());
    const coordinator = new SimclrTrainer(config());
    const pool = await ParallelSimclrTrainer.start(coordinator, images, 2, 'wasm');
    try {
      expect(pool.threads).toBe(2);
      const before = byName(await single.state());
      for (let step = 0; step < 2; step++) {
        const singleLoss = await single.trainStep(images);
        const parallelLoss = await pool.trainStep(images);
        expect(Math.abs(parallelLoss - singleLoss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(singleLoss)));
      }
      // After two SGD steps with momentum, compare every weight, BN statistic and velocity.
      await pool.pullState();
      const singleState = byName(await single.state());
      const parallelState = byName(await coordinator.state());
      expect([...parallelState.keys()].sort()).toEqual([...singleState.keys()].sort());
      let compared = 0;
      for (const [name, values] of singleState) {
        const difference = maxRelativeDifference(values, parallelState.get(name)!);
        expect(difference, name).toBeLessThan(2e-4);
        compared += 1;
      }
      expect(compared).toBeGreaterThan(20);
      // The steps really moved the weights (so the comparison above compares gradients).
      const filter = 'encoder/stem/conv/filter';
      expect(maxRelativeDifference(before.get(filter)!, singleState.get(filter)!)).toBeGreaterThan(1e-3);
      expect(pool.replicaSteps).toEqual([2, 2]);
    } finally {
      await pool.dispose();
      single.dispose();
      coordinator.dispose();
    }
  });

  it('the first step recovers the single-thread gradient exactly enough: w₁ − w₀ = −lr·g for every layer', async () => {
    const single = new SimclrTrainer(config({ steps: 1 }));
    const coordinator = new SimclrTrainer(config({ steps: 1 }));
    const before = byName(await single.state());
    const pool = await ParallelSimclrTrainer.start(coordinator, images, 2, 'wasm');
    try {
      await single.trainStep(images);
      await pool.trainStep(images);
      await pool.pullState();
      const singleAfter = byName(await single.state());
      const parallelAfter = byName(await coordinator.state());
      for (const parameter of single.model.parameters(true).filter((p) => p.variable.trainable)) {
        const w0 = before.get(parameter.name)!;
        const gradient = (after: Float32Array): Float32Array => after.map((w, i) => (w0[i]! - w) / LEARNING_RATE);
        expect(maxRelativeDifference(gradient(singleAfter.get(parameter.name)!), gradient(parallelAfter.get(parameter.name)!)), parameter.name).toBeLessThan(1e-3);
      }
    } finally {
      await pool.dispose();
      single.dispose();
      coordinator.dispose();
    }
  });

  it('trainSimclr runs on 2 threads, checkpoints, and resumes on 1 thread where a 2-thread run would be', async () => {
    const dir = path.join(scratch, 'resume');
    const controller = new AbortController();
    const first = await trainSimclr(images, config({ steps: 4 }), {
      threads: 2,
      checkpointDir: dir,
      signal: controller.signal,
      onStep: (event) => {
        if (event.step === 2) controller.abort();
      },
    });
    expect(first).toMatchObject({ threads: 2, threadsNote: null, stopped: true, stepsDone: 2 });
    const resumed = await trainSimclr(images, config({ steps: 4 }), { threads: 1, checkpointDir: dir, resume: true });
    const straight = await trainSimclr(images, config({ steps: 4 }), { threads: 2 });
    expect(resumed.threads).toBe(1);
    expect(resumed.stepsDone).toBe(4);
    expect(Math.abs(resumed.finalLoss! - straight.finalLoss!)).toBeLessThan(1e-4);
  });
});
