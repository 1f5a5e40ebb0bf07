/**
 * A label-free gauge of how good an encoder is, from images alone, so training can say whether
 * more of it still helps on a user's own library (which has no labels to probe with).
 *
 * On M held-out images, two augmented views each (the same views at every evaluation: a fixed
 * seed), with features a, b: [M, D] (row m of each is image m), L2-normalised:
 *  - contrastive top-1: for each of the 2M views, is its nearest neighbour (cosine) among the
 *    other 2M − 1 views its partner view? The fraction that is. Chance is 1/(2M − 1); a model that
 *    maps both views of an image together and different images apart gets 1.
 *  - alignment (Wang & Isola, ICML 2020, α = 2): E‖â − b̂‖² over the M positive pairs; 0 when the
 *    views coincide, ≤ 4. Lower is better.
 *  - uniformity (Wang & Isola, t = 2): log E exp(−2‖x̂ − ŷ‖²) over all pairs of the 2M normalised
 *    features; −4·… as they spread over the sphere, 0 when everything collapses to one point.
 *    Lower is better.
 * Plus a rule for "more training stops helping": the best top-1 of the last K evaluations beats
 * the best before them by less than a minimum gain.
 *
 * The measures are plain Float32Array maths (no backend); `measureGauge` makes the views and runs
 * an encoder on the active tfjs backend.
 */
import * as tf from '@tensorflow/tfjs';
import { augmentBatch, type AugmentOptions } from './augment.ts';
import { Random } from '../common/random.ts';
import type { TrainingImages } from './trainer.ts';

/** One reading of the gauge. */
export interface GaugeReading {
  /** Contrastive top-1 accuracy over the 2M views, in [0, 1]; higher is better. */
  top1: number;
  /** Wang & Isola alignment E‖â − b̂‖², in [0, 4]; lower is better. */
  alignment: number;
  /** Wang & Isola uniformity log E exp(−2‖x̂ − ŷ‖²), in [−4, 0]; lower is better. */
  uniformity: number;
  /** Chance level of top-1: 1 / (2M − 1). */
  chanceTop1: number;
  /** M, the number of held-out images. */
  images: number;
}

/** Rows of x: [rows, dim] scaled to unit length (zero rows stay zero). */
export function normaliseRows(x: Float32Array, dim: number): Float32Array {
  if (dim <= 0 || x.length % dim !== 0) throw new Error(`quality gauge: ${x.length} values are not rows of ${dim}`);
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += x[r * dim + d]! ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) out[r * dim + d] = x[r * dim + d]! * scale;
  }
  return out;
}

function checkViews(a: Float32Array, b: Float32Array, dim: number): number {
  if (a.length !== b.length) throw new Error(`quality gauge: the two views differ in size (${a.length} vs ${b.length} values)`);
  const rows = a.length / dim;
  if (!Number.isInteger(rows) || rows < 2) throw new Error(`quality gauge needs at least 2 images of ${dim} features, got ${a.length} values`);
  return rows;
}

function dot(x: Float32Array, i: number, y: Float32Array, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += x[i * dim + d]! * y[j * dim + d]!;
  return s;
}

/**
 * Contrastive top-1 of two views a, b: [M, D] (unnormalised is fine). Ties count as a miss unless
 * the partner is strictly the nearest, so a collapsed model (all features equal) scores 0.
 */
export function contrastiveTop1(a: Float32Array, b: Float32Array, dim: number): number {
  const m = checkViews(a, b, dim);
  const all = new Float32Array(2 * m * dim); // [2M, D]: a then b
  all.set(normaliseRows(a, dim), 0);
  all.set(normaliseRows(b, dim), m * dim);
  let correct = 0;
  for (let i = 0; i < 2 * m; i++) {
    const partner = i < m ? i + m : i - m;
    const positive = dot(all, i, all, partner, dim);
    let beaten = false;
    for (let k = 0; k < 2 * m && !beaten; k++) if (k !== i && k !== partner && dot(all, i, all, k, dim) >= positive) beaten = true;
    if (!beaten) correct += 1;
  }
  return correct / (2 * m);
}

/** Alignment E‖â − b̂‖² over the M pairs of rows (Wang & Isola 2020, α = 2). */
export function alignment(a: Float32Array, b: Float32Array, dim: number): number {
  const m = checkViews(a, b, dim);
  const na = normaliseRows(a, dim);
  const nb = normaliseRows(b, dim);
  let total = 0;
  for (let r = 0; r < m; r++) for (let d = 0; d < dim; d++) total += (na[r * dim + d]! - nb[r * dim + d]!) ** 2;
  return total / m;
}

/** Uniformity log E_{i<j} exp(−t‖x̂_i − x̂_j‖²) over the rows of x: [N, D] (Wang & Isola 2020). */
export function uniformity(x: Float32Array, dim: number, t = 2): number {
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < 2) throw new Error(`quality gauge: uniformity needs at least 2 rows of ${dim}, got ${x.length} values`);
  const unit = normaliseRows(x, dim);
  // log-mean-exp with the largest exponent factored out (exponents lie in [−4t, 0]).
  const exponents: number[] = [];
  let largest = -Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const distance2 = Math.max(0, 2 - 2 * dot(unit, i, unit, j, dim));
      const e = -t * distance2;
      exponents.push(e);
      if (e > largest) largest = e;
    }
  }
  let sum = 0;
  for (const e of exponents) sum += Math.exp(e - largest);
  return largest + Math.log(sum / exponents.length);
}

/** All three measures from the features of two views a, b: [M, D]. */
export function gaugeFromViews(a: Float32Array, b: Float32Array, dim: number): GaugeReading {
  const m = checkViews(a, b, dim);
  const both = new Float32Array(a.length + b.length);
  both.set(a, 0);
  both.set(b, a.length);
  return { top1: contrastiveTop1(a, b, dim), alignment: alignment(a, b, dim), uniformity: uniformity(both, dim), chanceTop1: 1 / (2 * m - 1), images: m };
}

/** When to say "more training stops helping". */
export interface PlateauRule {
  /** K: how many of the latest evaluations to compare with the ones before. */
  window: number;
  /** Minimum gain in top-1 (absolute, e.g. 0.005 = half a point) the last K must add. */
  minGain: number;
}

export const DEFAULT_PLATEAU_RULE: PlateauRule = { window: 3, minGain: 0.005 };

/**
 * True when the best of the last `window` readings (higher is better) improves on the best of
 * all earlier ones by less than `minGain`; false while there are not yet `window` + 1 readings.
 */
export function trainingStoppedHelping(history: readonly number[], rule: PlateauRule = DEFAULT_PLATEAU_RULE): boolean {
  if (!(rule.window >= 1)) throw new Error(`plateau rule: window must be at least 1, got ${rule.window}`);
  if (history.length < rule.window + 1) return false;
  const before = Math.max(...history.slice(0, history.length - rule.window));
  const recent = Math.max(...history.slice(history.length - rule.window));
  return recent - before < rule.minGain;
}

/** How the gauge draws its held-out views. */
export interface GaugeViewOptions {
  /** Which images (indices into `images`) are held out; M = its length (≥ 2). */
  indices: ArrayLike<number>;
  augment: AugmentOptions;
  /** Seed of the views: the same seed gives the same views at every evaluation. */
  seed: number;
  /** Images per encoder call (memory). */
  batchSize?: number;
}

/**
 * The gauge of `forward` (e.g. the encoder in inference mode: [B, S, S, C] in [−0.5, 0.5] →
 * h [B, D]) on two augmented views of the held-out images.
 */
export async function measureGauge(forward: (views: tf.Tensor4D) => tf.Tensor2D, images: TrainingImages, options: GaugeViewOptions): Promise<GaugeReading> {
  const m = options.indices.length;
  if (m < 2) throw new Error(`quality gauge needs at least 2 held-out images, got ${m}`);
  const random = new Random(options.seed);
  const pixelsPerImage = images.sizePx * images.sizePx * images.channels;
  const batchSize = options.batchSize ?? 256;
  const views: Float32Array[][] = [[], []];
  let dim = 0;
  for (let first = 0; first < m; first += batchSize) {
    const count = Math.min(batchSize, m - first);
    const values = new Float32Array(count * pixelsPerImage);
    for (let b = 0; b < count; b++) {
      const index = options.indices[first + b]!;
      if (!(index >= 0 && index < images.count)) throw new Error(`quality gauge: held-out index ${index} is outside the ${images.count} images`);
      for (let i = 0; i < pixelsPerImage; i++) values[b * pixelsPerImage + i] = images.pixels[index * pixelsPerImage + i]! / 255;
    }
    for (let v = 0; v < 2; v++) {
      const features = tf.tidy(() => {
        const batch = tf.tensor4d(values, [count, images.sizePx, images.sizePx, images.channels]); // [B, S, S, C] in [0, 1]
        return forward(augmentBatch(batch, random, options.augment)); // [B, D]
      });
      dim = features.shape[1];
      views[v]!.push((await features.data()) as Float32Array);
      features.dispose();
    }
  }
  const join = (parts: Float32Array[]): Float32Array => {
    const out = new Float32Array(m * dim);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };
  return gaugeFromViews(join(views[0]!), join(views[1]!), dim);
}

/** `count` distinct indices of [0, n), spread by a fixed seed (the held-out sample). */
export function heldOutIndices(n: number, count: number, seed = 0x9a09e): Int32Array {
  const take = Math.min(n, count);
  return new Random(seed).permutation(n).slice(0, take).sort();
}
