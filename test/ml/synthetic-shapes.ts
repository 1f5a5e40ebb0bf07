/**
 * A small generated dataset with known classes for the "it learns" test: a shape (the class:
 * disc, square, triangle, cross) of a random colour on a random background colour, at a random
 * position and scale. Colour is a nuisance here, so an encoder at random init (which mostly sees
 * colour) does poorly at kNN on shape, and SimCLR's colour distortion teaches it to look past it.
 */
import { Random } from '../../core/common/random.ts';
import type { TrainingImages } from '../../core/ml/trainer.ts';

export const SHAPE_CLASSES = ['disc', 'square', 'triangle', 'cross'] as const;

function inside(shape: number, dx: number, dy: number, radius: number): boolean {
  switch (shape) {
    case 0:
      return dx * dx + dy * dy <= radius * radius;
    case 1:
      return Math.abs(dx) <= radius * 0.85 && Math.abs(dy) <= radius * 0.85;
    case 2:
      return dy <= radius * 0.8 && dy >= -radius && Math.abs(dx) <= (dy + radius) * 0.6;
    default:
      return (Math.abs(dx) <= radius * 0.3 && Math.abs(dy) <= radius) || (Math.abs(dy) <= radius * 0.3 && Math.abs(dx) <= radius);
  }
}

/** `count` images of `sizePx`² RGB and their class labels (balanced, shuffled by seed). */
export function syntheticShapes(count: number, sizePx: number, seed: number): TrainingImages & { labels: Int32Array } {
  const random = new Random(seed);
  const pixels = new Uint8Array(count * sizePx * sizePx * 3);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const shape = n % SHAPE_CLASSES.length;
    labels[n] = shape;
    // Random hues, but a bright shape on a dark background: hue is the nuisance a random
    // encoder latches onto and colour distortion removes; shape is what is left to tell apart.
    const hue = (): number[] => [random.next(), random.next(), random.next()];
    const background = hue().map((v) => 20 + v * 90);
    const foreground = hue().map((v) => 150 + v * 105);
    const radius = sizePx * random.uniform(0.25, 0.4);
    const cx = sizePx / 2 + random.uniform(-0.15, 0.15) * sizePx;
    const cy = sizePx / 2 + random.uniform(-0.15, 0.15) * sizePx;
    for (let y = 0; y < sizePx; y++) {
      for (let x = 0; x < sizePx; x++) {
        const colour = inside(shape, x + 0.5 - cx, y + 0.5 - cy, radius) ? foreground : background;
        const at = ((n * sizePx + y) * sizePx + x) * 3;
        for (let c = 0; c < 3; c++) pixels[at + c] = Math.max(0, Math.min(255, Math.round(colour[c]! + random.normal() * 8)));
      }
    }
  }
  return { count, sizePx, channels: 3, pixels, labels };
}

/** Leave-one-out-free kNN accuracy: each query labelled by majority of its k most cosine-similar references. */
export function knnAccuracy(reference: Float32Array, referenceLabels: Int32Array, query: Float32Array, queryLabels: Int32Array, dim: number, k = 5): number {
  const normalise = (m: Float32Array): Float32Array => {
    const out = new Float32Array(m.length);
    for (let i = 0; i < m.length / dim; i++) {
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += m[i * dim + d]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let d = 0; d < dim; d++) out[i * dim + d] = m[i * dim + d]! / norm;
    }
    return out;
  };
  const r = normalise(reference);
  const q = normalise(query);
  const nRef = referenceLabels.length;
  let correct = 0;
  for (let i = 0; i < queryLabels.length; i++) {
    const sims: Array<[number, number]> = [];
    for (let j = 0; j < nRef; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[i * dim + d]! * r[j * dim + d]!;
      sims.push([s, referenceLabels[j]!]);
    }
    sims.sort((a, b) => b[0] - a[0]);
    const votes = new Map<number, number>();
    for (const [, label] of sims.slice(0, k)) votes.set(label, (votes.get(label) ?? 0) + 1);
    const predicted = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    if (predicted === queryLabels[i]) correct += 1;
  }
  return correct / queryLabels.length;
}
