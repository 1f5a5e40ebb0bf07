import { describe, expect, it } from 'vitest';
import { suggestForLabeling } from '../../core/label/active-learning.ts';
import { seededRandom } from '../../core/common/random.ts';

describe('active learning', () => {
  it('does not spend a batch on near-copies: 40 copies of one unsure image give at most one pick', () => {
    const random = seededRandom(3);
    const dim = 8;
    const rows: number[][] = [];
    const probabilities: number[] = [];
    // 40 near-copies, all maximally unsure between the two classes.
    const base = Array.from({ length: dim }, () => random() - 0.5);
    for (let i = 0; i < 40; i++) {
      rows.push(base.map((v) => v + 1e-3 * (random() - 0.5)));
      probabilities.push(0.5, 0.5);
    }
    // 60 varied images, somewhat unsure.
    for (let i = 0; i < 60; i++) {
      rows.push(Array.from({ length: dim }, () => random() - 0.5));
      const p = 0.55 + 0.3 * random();
      probabilities.push(p, 1 - p);
    }
    const picks = suggestForLabeling({
      features: Float32Array.from(rows.flat()), dim, probabilities: Float32Array.from(probabilities),
      classNames: ['cat', 'dog'], labeledFeatures: Float32Array.from(Array.from({ length: 2 * dim }, () => random() - 0.5)), count: 6, seed: 1,
    });
    expect(picks).toHaveLength(6);
    expect(new Set(picks.map((p) => p.index)).size).toBe(6);
    expect(picks.filter((p) => p.index < 40).length).toBeLessThanOrEqual(1);
    for (const pick of picks) expect(pick.reason).toMatch(/^the probe is unsure: (cat|dog) \d+ % vs (cat|dog) \d+ %/);
    // The copies are the most uncertain group, so one of them does get picked.
    expect(picks.filter((p) => p.index < 40).length).toBe(1);
  });

  it('is deterministic for a seed and handles tiny pools', () => {
    const features = Float32Array.from({ length: 30 * 4 }, (_, i) => Math.sin(i * 1.7));
    const a = suggestForLabeling({ features, dim: 4, count: 3, seed: 5 });
    const b = suggestForLabeling({ features, dim: 4, count: 3, seed: 5 });
    expect(a).toEqual(b);
    expect(suggestForLabeling({ features: features.subarray(0, 8), dim: 4, count: 5 })).toHaveLength(2);
    expect(suggestForLabeling({ features: new Float32Array(0), dim: 4, count: 5 })).toEqual([]);
  });
});
