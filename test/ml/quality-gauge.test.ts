// The label-free quality gauge: closed forms (identical views, a collapsed model, points spread
// evenly on a circle and uniformly on a sphere), the plateau rule, and that it rises on a real
// tiny model that learns (SimCLR on the synthetic shapes, wasm backend).
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENT } from '../../core/ml/augment.ts';
import { initBackend } from '../../core/ml/backend.ts';
import {
  alignment,
  contrastiveTop1,
  gaugeFromViews,
  heldOutIndices,
  measureGauge,
  trainingStoppedHelping,
  uniformity,
} from '../../core/ml/quality-gauge.ts';
import { Random } from '../../core/common/random.ts';
import { SimclrTrainer, defaultTrainConfig } from '../../core/ml/trainer.ts';
import { syntheticShapes } from './synthetic-shapes.ts';

function gaussianRows(random: Random, rows: number, dim: number): Float32Array {
  return Float32Array.from({ length: rows * dim }, () => random.normal());
}

/** Modified Bessel function I0(x) by its series Σ (x/2)^{2k} / (k!)². */
function besselI0(x: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 60; k++) {
    term *= (x / 2) ** 2 / (k * k);
    sum += term;
  }
  return sum;
}

describe('quality gauge measures', () => {
  it('identical views: top-1 = 1 and alignment = 0', () => {
    const a = gaussianRows(new Random(1), 50, 16);
    expect(contrastiveTop1(a, a, 16)).toBe(1);
    expect(alignment(a, a, 16)).toBeCloseTo(0, 10);
    // Scaling a view does not matter: features are compared after L2 normalisation.
    expect(alignment(a, a.map((v) => v * 3), 16)).toBeCloseTo(0, 6);
  });

  it('a collapsed model (every feature the same): top-1 = 0, uniformity = 0', () => {
    const same = Float32Array.from({ length: 20 * 4 }, (_, i) => [0.3, -1, 2, 0.5][i % 4]!);
    const reading = gaugeFromViews(same, same, 4);
    expect(reading.top1).toBe(0);
    expect(reading.uniformity).toBeCloseTo(0, 6);
    expect(reading.chanceTop1).toBeCloseTo(1 / 39, 10);
  });

  it('unrelated views: top-1 near chance, alignment near 2 (orthogonal on average)', () => {
    const random = new Random(2);
    const a = gaussianRows(random, 200, 64);
    const b = gaussianRows(random, 200, 64);
    expect(contrastiveTop1(a, b, 64)).toBeLessThan(0.03);
    expect(alignment(a, b, 64)).toBeCloseTo(2, 0);
  });

  it('points evenly spread on a circle: uniformity = log of e^{−4}·I0(4) (pairs, self-pairs excluded)', () => {
    const n = 720;
    const x = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = Math.cos((2 * Math.PI * i) / n);
      x[2 * i + 1] = Math.sin((2 * Math.PI * i) / n);
    }
    // Mean over all ordered pairs incl. i = j is exactly e^{−4} I0(4) (periodic trapezoid rule);
    // the i = j terms contribute exp(0) = 1 each and are excluded.
    const all = Math.exp(-4) * besselI0(4);
    expect(uniformity(x, 2)).toBeCloseTo(Math.log((n * all - 1) / (n - 1)), 4);
  });

  it('points uniform on the 2-sphere: uniformity = log((1 − e^{−8}) / 8)', () => {
    const x = gaussianRows(new Random(3), 1500, 3);
    expect(uniformity(x, 3)).toBeCloseTo(Math.log((1 - Math.exp(-8)) / 8), 1);
  });

  it('names the problem with mismatched or too few views', () => {
    expect(() => contrastiveTop1(new Float32Array(8), new Float32Array(4), 4)).toThrow(/differ in size/);
    expect(() => alignment(new Float32Array(4), new Float32Array(4), 4)).toThrow(/at least 2 images/);
  });
});

describe('plateau rule', () => {
  it('says stop only when the last K readings add less than the minimum gain', () => {
    const rule = { window: 3, minGain: 0.01 };
    expect(trainingStoppedHelping([0.1, 0.2, 0.3], rule)).toBe(false); // too few readings
    expect(trainingStoppedHelping([0.1, 0.2, 0.3, 0.4], rule)).toBe(false);
    expect(trainingStoppedHelping([0.1, 0.5, 0.505, 0.5, 0.49], rule)).toBe(true);
    expect(trainingStoppedHelping([0.1, 0.5, 0.505, 0.5, 0.52], rule)).toBe(false);
    expect(() => trainingStoppedHelping([1, 2], { window: 0, minGain: 0 })).toThrow(/window/);
  });
});

describe('quality gauge on a model that learns', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('rises from random init after SimCLR steps on the synthetic shapes', async () => {
    const sizePx = 16;
    const data = syntheticShapes(300, sizePx, 11);
    const augment = { ...DEFAULT_AUGMENT, minCropArea: 0.3, colorStrength: 1.0 };
    const config = defaultTrainConfig({ sizePx, widths: [16, 32, 64], blocks: [1, 1, 1], batchSize: 24, steps: 250, optimizer: 'adam', learningRate: 2e-3, augment });
    const trainer = new SimclrTrainer(config);
    try {
      const indices = heldOutIndices(data.count, 64);
      // Milder views than training's: once colour and a tight crop are randomised, these shapes
      // keep little instance identity, and the gauge should measure the model, not that.
      const gaugeAugment = { ...augment, minCropArea: 0.6, colorStrength: 0.5 };
      const gauge = () => measureGauge((views) => trainer.model.encoder.forward(views, false), data, { indices, augment: gaugeAugment, seed: 5 });
      const before = await gauge();
      // The same seed draws the same views: a second reading of an unchanged model is identical.
      expect((await gauge()).top1).toBe(before.top1);
      for (let i = 0; i < config.steps; i++) await trainer.trainStep(data);
      const after = await gauge();
      console.log(`gauge top-1 ${before.top1.toFixed(3)} → ${after.top1.toFixed(3)}, alignment ${before.alignment.toFixed(3)} → ${after.alignment.toFixed(3)}, uniformity ${before.uniformity.toFixed(3)} → ${after.uniformity.toFixed(3)}`);
      // Measured 0.125 → 0.297 of 128 views (chance 0.008); the features also spread out from
      // the near-collapse of random init (uniformity −0.2 → about −0.9).
      expect(after.top1).toBeGreaterThan(before.top1 + 0.08);
      expect(after.uniformity).toBeLessThan(before.uniformity - 0.3);
      expect(after.images).toBe(64);
    } finally {
      trainer.dispose();
    }
    // ~25 s of CPU; the limit is for a machine shared with other jobs.
  }, 600_000);
});
