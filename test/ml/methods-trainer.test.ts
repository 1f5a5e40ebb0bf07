// The trainer with --method simsiam (real tfjs, wasm, a tiny model): the predictor is trained and
// checkpointed beside the encoder and head, a stopped run resumes exactly where an uninterrupted
// one would be, SimCLR checkpoints keep their format (no predictor tensors), and the method's
// loss falls on the synthetic shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_AUGMENT } from '../../core/ml/augment.ts';
import { initBackend } from '../../core/ml/backend.ts';
import { loadCheckpoint } from '../../core/ml/checkpoint.ts';
import { SimclrTrainer, defaultTrainConfig, trainSimclr, type TrainConfig } from '../../core/ml/trainer.ts';
import { syntheticShapes } from './synthetic-shapes.ts';

const SIZE_PX = 16;
const tiny = (overrides: Partial<TrainConfig> = {}): TrainConfig =>
  defaultTrainConfig({
    sizePx: SIZE_PX,
    widths: [8, 16],
    blocks: [1, 1],
    batchSize: 12,
    optimizer: 'adam',
    learningRate: 2e-3,
    method: 'simsiam',
    augment: { ...DEFAULT_AUGMENT, minCropArea: 0.3, colorStrength: 1.0 },
    ...overrides,
  });

let scratch: string;

beforeAll(async () => {
  await initBackend('wasm');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-methods-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('trainer with SimSiam', () => {
  it('checkpoints the predictor and resumes exactly where an uninterrupted run would be', async () => {
    const data = syntheticShapes(40, SIZE_PX, 31);
    const config = tiny({ steps: 6, checkpointEverySteps: 100 });
    const straightDir = path.join(scratch, 'straight');
    const straight: number[] = [];
    await trainSimclr(data, config, { checkpointDir: straightDir, threads: 1, onStep: (e) => straight.push(e.loss) });

    const resumedDir = path.join(scratch, 'resumed');
    const controller = new AbortController();
    const losses: number[] = [];
    const stopped = await trainSimclr(data, config, {
      checkpointDir: resumedDir,
      threads: 1,
      signal: controller.signal,
      onStep: (e) => {
        losses.push(e.loss);
        if (e.step === 3) controller.abort();
      },
    });
    expect(stopped).toMatchObject({ stepsDone: 3, stopped: true });
    const resumed = await trainSimclr(data, config, { checkpointDir: resumedDir, resume: true, threads: 1, onStep: (e) => losses.push(e.loss) });
    expect(resumed).toMatchObject({ stepsDone: 6, stopped: false });
    expect(losses).toHaveLength(6);
    losses.forEach((loss, i) => expect(loss).toBeCloseTo(straight[i]!, 5));
    // SimSiam's loss is −mean cosine: within [−1, 1].
    for (const loss of losses) expect(Math.abs(loss)).toBeLessThanOrEqual(1);

    const a = loadCheckpoint<TrainConfig>(straightDir);
    const b = loadCheckpoint<TrainConfig>(resumedDir);
    expect(a.meta.config.method).toBe('simsiam');
    const predictorTensors = [...a.tensors.keys()].filter((name) => name.startsWith('predictor/'));
    expect(predictorTensors).toContain('predictor/dense1/kernel');
    expect(predictorTensors.some((name) => name.startsWith('optimizer/predictor/'))).toBe(false);
    expect([...a.tensors.keys()].some((name) => name.startsWith('optimizer/predictor/'))).toBe(true);
    for (const [name, tensor] of a.tensors) {
      const other = b.tensors.get(name)!;
      let worst = 0;
      tensor.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - other.values[i]!))));
      expect(worst, name).toBeLessThan(1e-5);
    }
  }, 300_000);

  it('keeps SimCLR checkpoints free of predictor tensors, and refuses a SimSiam resume from one', async () => {
    const data = syntheticShapes(24, SIZE_PX, 32);
    const dir = path.join(scratch, 'simclr');
    await trainSimclr(data, tiny({ method: 'simclr', steps: 2 }), { checkpointDir: dir, threads: 1 });
    const saved = loadCheckpoint<TrainConfig>(dir);
    expect([...saved.tensors.keys()].some((name) => name.includes('predictor'))).toBe(false);
    const trainer = new SimclrTrainer(tiny({ steps: 2 }));
    try {
      expect(() => trainer.loadState(saved.tensors, saved.meta.optimizerIterations)).toThrow(/no simsiam tensor predictor\//);
    } finally {
      trainer.dispose();
    }
  }, 300_000);

  it('learns: the SimSiam loss falls on the synthetic shapes', async () => {
    const data = syntheticShapes(200, SIZE_PX, 33);
    const trainer = new SimclrTrainer(tiny({ steps: 80, batchSize: 24 }));
    try {
      const losses: number[] = [];
      for (let i = 0; i < 80; i++) losses.push(await trainer.trainStep(data));
      const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
      const first = mean(losses.slice(0, 10));
      const last = mean(losses.slice(-10));
      console.log(`SimSiam loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
      expect(last).toBeLessThan(first - 0.2);
    } finally {
      trainer.dispose();
    }
  }, 300_000);
});
