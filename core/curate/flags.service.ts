/**
 * Quality flags per image, from the cached pixel features (no model needed) and, for outliers,
 * the curation vectors:
 * - blurry: variance of the Laplacian at 256 px (Pech-Pacheco et al. 2000) below an absolute
 *   floor, or below a fraction of the library's median while also under a soft ceiling — so a
 *   library of soft photos only flags its softest, and a sharp library is not all flagged;
 * - too_dark / too_bright: mean luma, or most pixels crushed to black / clipped to white;
 * - low_information: Shannon entropy of the luma histogram under 3 bits;
 * - uniform: luma standard deviation under 6 (a blank frame, lens cap, solid fill);
 * - odd_aspect: longer side over 3× the shorter; tiny: shorter side under 128 px;
 * - outlier: mean cosine similarity to the 5 nearest neighbours below the library's Tukey fence
 *   (Q1 − 1.5·IQR), with at least 20 images.
 */
import type { Db } from '../store/db.ts';
import { CurateRepository } from '../store/curate.repository.ts';
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { ensureFeatures } from './features.service.ts';
import { curationVectors } from './vectors.ts';
import { findNeighbours } from './neighbours.ts';

export type QualityFlag = 'blurry' | 'too_dark' | 'too_bright' | 'low_information' | 'uniform' | 'odd_aspect' | 'tiny' | 'outlier' | 'unreadable';

export interface ImageFlags {
  path: string;
  imageId: number;
  flags: QualityFlag[];
  scores: Record<string, number>;
}

export const FLAG_THRESHOLDS = {
  blurAbsolute: 25,
  blurRelative: 0.15,
  blurCeiling: 150,
  darkBrightness: 40,
  brightBrightness: 220,
  clippedFraction: 0.6,
  lowEntropyBits: 3,
  uniformContrast: 6,
  oddAspect: 3,
  tinySidePx: 128,
  outlierMinImages: 20,
};

export interface FlagOptions {
  dataDir?: string;
  embeddingRunId?: number | false;
  /** Include images without any flag (default false). */
  all?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
}

/** Flags every present image (first present path per image), flagged ones first by path. */
export async function computeFlags(db: Db, options: FlagOptions = {}): Promise<ImageFlags[]> {
  const t = FLAG_THRESHOLDS;
  const repository = new CurateRepository(db);
  const { features } = await ensureFeatures(db, { dataDir: options.dataDir, signal: options.signal, onProgress: options.onProgress });
  throwIfCancelled(options.signal);
  const files = new Map<number, ReturnType<CurateRepository['presentFiles']>[number]>();
  for (const file of repository.presentFiles()) if (!files.has(file.imageId)) files.set(file.imageId, file);

  const sharpness = [...files.keys()].map((id) => features.get(id)?.laplacianVariance).filter((v): v is number => typeof v === 'number');
  const sharpnessMedian = median(sharpness);

  // Outliers: far from every neighbour in curation space.
  const neighbourSimilarity = new Map<number, number>();
  let outlierFence = -Infinity;
  if (files.size >= t.outlierMinImages) {
    const data = await curationVectors(db, { dataDir: options.dataDir, embeddingRunId: options.embeddingRunId, signal: options.signal });
    const k = Math.min(5, data.imageIds.length - 1);
    const result = await findNeighbours(data.vectors, data.vectors, data.dim, k, { excludeSelf: true, signal: options.signal, onProgress: options.onProgress, phase: 'flags:neighbours' });
    data.imageIds.forEach((imageId, i) => {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += result.scores[i * k + j]!;
      neighbourSimilarity.set(imageId, sum / k);
    });
    const sorted = [...neighbourSimilarity.values()].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.floor(p * (sorted.length - 1))]!;
    outlierFence = q(0.25) - 1.5 * (q(0.75) - q(0.25));
  }

  const out: ImageFlags[] = [];
  for (const [imageId, file] of files) {
    const f = features.get(imageId);
    const flags: QualityFlag[] = [];
    const scores: Record<string, number> = {
      width: file.width,
      height: file.height,
      aspectRatio: Math.round((Math.max(file.width, file.height) / Math.max(1, Math.min(file.width, file.height))) * 1000) / 1000,
    };
    if (!f || f.error) {
      flags.push('unreadable');
    } else {
      const lap = f.laplacianVariance ?? 0;
      Object.assign(scores, {
        laplacianVariance: round(lap), brightness: round(f.brightness ?? 0), contrast: round(f.contrast ?? 0),
        entropyBits: round(f.entropyBits ?? 0), darkFraction: round(f.darkFraction ?? 0), brightFraction: round(f.brightFraction ?? 0),
      });
      const isUniform = (f.contrast ?? 0) < t.uniformContrast;
      if (!isUniform && (lap < t.blurAbsolute || (lap < t.blurRelative * sharpnessMedian && lap < t.blurCeiling))) flags.push('blurry');
      if ((f.brightness ?? 128) < t.darkBrightness || (f.darkFraction ?? 0) > t.clippedFraction) flags.push('too_dark');
      if ((f.brightness ?? 128) > t.brightBrightness || (f.brightFraction ?? 0) > t.clippedFraction) flags.push('too_bright');
      if ((f.entropyBits ?? 8) < t.lowEntropyBits) flags.push('low_information');
      if (isUniform) flags.push('uniform');
    }
    if (scores.aspectRatio! > t.oddAspect) flags.push('odd_aspect');
    if (Math.min(file.width, file.height) < t.tinySidePx) flags.push('tiny');
    const similarity = neighbourSimilarity.get(imageId);
    if (similarity !== undefined) {
      scores.neighbourSimilarity = round(similarity);
      if (similarity < outlierFence) flags.push('outlier');
    }
    if (flags.length || options.all) out.push({ path: file.path, imageId, flags, scores });
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
