// The quality gauge during training (real tfjs, wasm, a tiny model): readings before the first
// step, every K steps and after the last, on images held out of training; the raw-pixel baseline;
// the plateau verdict; off on a library too small to spare the held-out images.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENT } from '../../core/ml/augment.ts';
import { initBackend } from '../../core/ml/backend.ts';
import { TrainingGauge } from '../../core/ml/training-gauge.ts';
import { defaultTrainConfig, trainSimclr, type TrainingImages } from '../../core/ml/trainer.ts';
import type { TrainingGaugeEvent } from '../../core/ml/training-gauge.ts';
import { syntheticShapes } from './synthetic-shapes.ts';

const SIZE_PX = 16;
const config = (steps: number) =>
  defaultTrainConfig({ sizePx: SIZE_PX, widths: [8, 16], blocks: [1, 1], batchSize: 16, steps, optimizer: 'adam', learningRate: 2e-3, augment: { ...DEFAULT_AUGMENT, minCropArea: 0.3 } });

beforeAll(async () => {
  await initBackend('wasm');
});

describe('quality gauge during training', () => {
  it('holds out 10 % of the library (the same images for the same library size), or is off below 16 of them', () => {
    const data = syntheticShapes(200, SIZE_PX, 41);
    const split = TrainingGauge.split(data, DEFAULT_AUGMENT, { everySteps: 5 })!;
    expect(split.train.count).toBe(180);
    expect(split.gauge.heldOut.count).toBe(20);
    const again = TrainingGauge.split(data, DEFAULT_AUGMENT, { everySteps: 5 })!;
    expect(again.gauge.heldOut.pixels).toEqual(split.gauge.heldOut.pixels);
    // No held-out image is in the training set (each image's pixels are unique: random noise).
    const per = SIZE_PX * SIZE_PX * 3;
    const key = (images: TrainingImages, i: number) => Buffer.from(images.pixels.subarray(i * per, (i + 1) * per)).toString('base64');
    const training = new Set(Array.from({ length: split.train.count }, (_, i) => key(split.train, i)));
    for (let i = 0; i < split.gauge.heldOut.count; i++) expect(training.has(key(split.gauge.heldOut, i))).toBe(false);
    expect(TrainingGauge.split(syntheticShapes(150, SIZE_PX, 42), DEFAULT_AUGMENT, { everySteps: 5 })).toBeNull();
    expect(() => TrainingGauge.split(data, DEFAULT_AUGMENT, { everySteps: 0 })).toThrow(/everySteps/);
  });

  it('reads before the first step, every K steps and after the last, into onGauge and the result', async () => {
    const data = syntheticShapes(200, SIZE_PX, 43);
    const events: TrainingGaugeEvent[] = [];
    const withSteps: Array<[number, number]> = [];
    const result = await trainSimclr(data, config(12), {
      threads: 1,
      gauge: { everySteps: 5 },
      onGauge: (event) => events.push(event),
      onStep: (event) => event.gauge && withSteps.push([event.step, event.gauge.step]),
    });
    expect(events.map((e) => e.step)).toEqual([0, 5, 10, 12]);
    // Each reading also rides on the next step event (the one before training on step 1's).
    expect(withSteps).toEqual([[1, 0], [5, 5], [10, 10], [12, 12]]);
    expect(result.gauge).toEqual(events);
    for (const event of events) {
      expect(event.images).toBe(20);
      expect(event.top1).toBeGreaterThanOrEqual(0);
      expect(event.top1).toBeLessThanOrEqual(1);
      expect(event.pixelsTop1).toBe(events[0]!.pixelsTop1);
      expect(typeof event.stoppedHelping).toBe('boolean');
    }
    // Three readings are too few for the default rule (K = 3 needs 4): no verdict before the last.
    expect(events.slice(0, 3).every((e) => !e.stoppedHelping)).toBe(true);
  }, 300_000);

  it('reads the live weights of a data-parallel run (2 worker threads), the same as one thread', async () => {
    const data = syntheticShapes(200, SIZE_PX, 44);
    const one = await trainSimclr(data, config(4), { threads: 1, gauge: { everySteps: 2 } });
    const two = await trainSimclr(data, config(4), { threads: 2, gauge: { everySteps: 2 } });
    expect(two.threads).toBe(2);
    expect(two.gauge.map((g) => g.step)).toEqual([0, 2, 4]);
    // The parallel step computes the single-thread step (synchronised BN), so the gauge agrees.
    two.gauge.forEach((g, i) => expect(g.alignment).toBeCloseTo(one.gauge[i]!.alignment, 3));
  }, 300_000);
});
