/**
 * Crop-tolerant comparison of two images for the near-duplicate check. A crop (or a slight
 * rotate-and-fill, or an aspect change) shifts and rescales the content, which hashes of the whole
 * frame do not survive. Here one image's 32×32 grey grid is resampled over a set of candidate
 * windows (scales 100 %…60 % of the frame, positions on a 5×5 grid, the window's aspect matching
 * the other image) to the 16×16 descriptor size, and correlated (zero-mean, unit-norm: so
 * brightness/contrast changes do not matter) with the other image's descriptor, in both directions
 * and against the mirror. The best correlation is the evidence.
 */
import { dotVectors } from '../common/vectors.ts';
import { normaliseDescriptor } from './image-features.ts';

export const GRID_SIDE = 32;
const OUT_SIDE = 16;
const SCALES = [1, 0.92, 0.85, 0.78, 0.7, 0.6];
const POSITIONS = [0, 0.25, 0.5, 0.75, 1];

/** Bilinear sample of a GRID_SIDE² grid over window [x0, x0+w] × [y0, y0+h] (fractions) → OUT_SIDE². */
function sampleWindow(grid: Uint8Array, x0: number, y0: number, w: number, h: number, out: Float32Array): void {
  for (let oy = 0; oy < OUT_SIDE; oy++) {
    const fy = (y0 + ((oy + 0.5) / OUT_SIDE) * h) * GRID_SIDE - 0.5;
    const iy = Math.max(0, Math.min(GRID_SIDE - 2, Math.floor(fy)));
    const ty = Math.max(0, Math.min(1, fy - iy));
    for (let ox = 0; ox < OUT_SIDE; ox++) {
      const fx = (x0 + ((ox + 0.5) / OUT_SIDE) * w) * GRID_SIDE - 0.5;
      const ix = Math.max(0, Math.min(GRID_SIDE - 2, Math.floor(fx)));
      const tx = Math.max(0, Math.min(1, fx - ix));
      const p = iy * GRID_SIDE + ix;
      const top = grid[p]! * (1 - tx) + grid[p + 1]! * tx;
      const bottom = grid[p + GRID_SIDE]! * (1 - tx) + grid[p + GRID_SIDE + 1]! * tx;
      out[oy * OUT_SIDE + ox] = top * (1 - ty) + bottom * ty;
    }
  }
}

/**
 * Frame fractions [x0, y0, w, h] of the windows indexed for crop candidates: two centre crops
 * and the four corners at 80 %. A crop of an image lands near one of these windows' descriptors.
 */
export const CANDIDATE_WINDOWS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0.1, 0.1, 0.8, 0.8],
  [0.175, 0.175, 0.65, 0.65],
  [0, 0, 0.8, 0.8],
  [0.2, 0, 0.8, 0.8],
  [0, 0.2, 0.8, 0.8],
  [0.2, 0.2, 0.8, 0.8],
];

/** The normalised descriptor of a window of a 32×32 grid (same form as the image descriptors). */
export function windowDescriptor(grid: Uint8Array, x0: number, y0: number, w: number, h: number): Float32Array {
  const window = new Float32Array(OUT_SIDE * OUT_SIDE);
  sampleWindow(grid, x0, y0, w, h, window);
  return normaliseDescriptor(window);
}

/**
 * Best correlation between a window of `outer` (its 32×32 grid, aspect width/height) and the
 * whole of `inner` (its 16×16 descriptor and that descriptor's mirror, aspect width/height).
 */
export function bestWindowCorrelation(outerGrid: Uint8Array, outerAspect: number, innerDescriptor: Float32Array, innerMirror: Float32Array, innerAspect: number): number {
  const window = new Float32Array(OUT_SIDE * OUT_SIDE);
  let best = -1;
  for (const scale of SCALES) {
    // The window covers `scale` of the outer frame along its tighter side, with the inner aspect.
    let w = scale;
    let h = scale;
    const relative = innerAspect / outerAspect; // > 1: inner is wider than outer (in frame fractions)
    if (relative > 1) h = scale / relative;
    else w = scale * relative;
    if (w > 1 || h > 1) continue;
    for (const py of POSITIONS) {
      for (const px of POSITIONS) {
        if ((w === 1 && px !== 0) || (h === 1 && py !== 0)) continue;
        sampleWindow(outerGrid, px * (1 - w), py * (1 - h), w, h, window);
        const normalised = normaliseDescriptor(window);
        best = Math.max(best, dotVectors(normalised, innerDescriptor), dotVectors(normalised, innerMirror));
      }
    }
  }
  return best;
}

/** Crop-tolerant similarity of two images, trying each as the crop of the other. */
export function cropTolerantSimilarity(
  a: { grid: Uint8Array; descriptor: Float32Array; mirror: Float32Array; aspect: number },
  b: { grid: Uint8Array; descriptor: Float32Array; mirror: Float32Array; aspect: number },
): number {
  return Math.max(
    bestWindowCorrelation(a.grid, a.aspect, b.descriptor, b.mirror, b.aspect),
    bestWindowCorrelation(b.grid, b.aspect, a.descriptor, a.mirror, a.aspect),
  );
}
