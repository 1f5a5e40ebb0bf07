/**
 * Pixel features of one image, computed from its small grey decode: the perceptual hashes of its
 * left-right mirror (so flipped copies match; the image's own hashes are the ones ingest stored),
 * a tiny normalised grey descriptor for the near-duplicate check, and the quality scores behind
 * the flags (sharpness, exposure, information). Cached per image in curate_features; bump
 * FEATURES_VERSION when this changes.
 */
import crypto from 'node:crypto';
import sharp from 'sharp';
import { HASH_DECODE_SIZE_PX, decodeGrey, hashesOfGrey, resampleGrey, type ImageHashes } from '../library/perceptual-hash.ts';

/**
 * Version of the feature code; rows of another version are recomputed. 3: hashes from
 * library/perceptual-hash.ts, the one implementation ingest also uses (rebuilding the cache
 * replaces stored hashes of the older definition, see features.service.ts).
 */
export const FEATURES_VERSION = 3;
/** Side of the colour layout grid. */
export const COLOUR_SIDE = 4;
/** Side of the descriptor grid: DESCRIPTOR_SIDE² numbers per image. */
export const DESCRIPTOR_SIDE = 16;
/** Long side (px) at which sharpness and exposure are measured, so scores compare across sizes. */
export const ANALYSIS_SIZE_PX = HASH_DECODE_SIZE_PX;

export interface PixelFeatures {
  /** Hashes of the image and its mirror, from the thumbnail when one was given (as ingest's). */
  hashes: ImageHashes;
  /** [DESCRIPTOR_SIDE²] zero-mean, L2-normalised grey; all zeros for a uniform image. */
  descriptor: Float32Array;
  /** [GRID_SIDE²] grey bytes of the whole frame, for the crop-tolerant check. */
  grid: Uint8Array;
  /** [4, 4, 3] mean RGB (0..1) per cell of a 4×4 grid. */
  colour: Float32Array;
  laplacianVariance: number;
  brightness: number;
  contrast: number;
  entropyBits: number;
  darkFraction: number;
  brightFraction: number;
}

/** Reverses each row of a row-major grid: the grid of the left-right mirrored image. */
export function mirrorGrid<T extends ArrayLike<number> & { slice(): T; [i: number]: number }>(grid: T, width: number): T {
  const out = grid.slice();
  const height = grid.length / width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out[y * width + x] = grid[y * width + width - 1 - x]!;
  }
  return out;
}

/** Zero-mean, unit-L2 copy of a grid (all zeros when the grid is constant). */
export function normaliseDescriptor(grid: ArrayLike<number>): Float32Array {
  const out = new Float32Array(grid.length);
  let mean = 0;
  for (let i = 0; i < grid.length; i++) mean += grid[i]!;
  mean /= grid.length;
  let norm = 0;
  for (let i = 0; i < grid.length; i++) {
    const v = grid[i]! - mean;
    out[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm);
  // Below ~0.5 grey level of spread per pixel the "pattern" is quantisation noise.
  if (norm < 0.5 * Math.sqrt(grid.length)) return out.fill(0);
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

/** Sharpness and exposure statistics of a grey image (bytes, row-major). */
export function qualityScores(grey: Uint8Array, width: number, height: number) {
  const histogram = new Float64Array(256);
  let sum = 0;
  let sumSquares = 0;
  let dark = 0;
  let bright = 0;
  for (let i = 0; i < grey.length; i++) {
    const v = grey[i]!;
    histogram[v]! += 1;
    sum += v;
    sumSquares += v * v;
    if (v < 16) dark++;
    if (v > 239) bright++;
  }
  const count = Math.max(1, grey.length);
  const brightness = sum / count;
  const contrast = Math.sqrt(Math.max(0, sumSquares / count - brightness * brightness));
  let entropyBits = 0;
  for (const h of histogram) {
    if (h > 0) {
      const p = h / count;
      entropyBits -= p * Math.log2(p);
    }
  }
  // Variance of the 4-neighbour Laplacian over the interior (Pech-Pacheco et al. 2000).
  let lapSum = 0;
  let lapSquares = 0;
  let lapCount = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const l = 4 * grey[i]! - grey[i - 1]! - grey[i + 1]! - grey[i - width]! - grey[i + width]!;
      lapSum += l;
      lapSquares += l * l;
      lapCount++;
    }
  }
  const lapMean = lapCount ? lapSum / lapCount : 0;
  const laplacianVariance = lapCount ? lapSquares / lapCount - lapMean * lapMean : 0;
  return { laplacianVariance, brightness, contrast, entropyBits, darkFraction: dark / count, brightFraction: bright / count };
}

/**
 * Decodes `input` (a file path or encoded bytes) to grey at ≤ ANALYSIS_SIZE_PX and computes
 * every pixel feature; the hashes come from `hashInput` (the thumbnail ingest hashed) when given,
 * else from `input`. EXIF orientation is applied first. Throws when sharp cannot decode it.
 */
export async function computePixelFeatures(input: string | Buffer, hashInput?: string | Buffer): Promise<PixelFeatures> {
  const image = await decodeGrey(input);
  const { grey, width, height } = image;
  const grid32 = await resampleGrey(image, 32, 32);
  const grid16 = await resampleGrey(image, DESCRIPTOR_SIDE, DESCRIPTOR_SIDE);
  const colourBytes = await sharp(input, { failOn: 'none' }).rotate().removeAlpha().resize(COLOUR_SIDE, COLOUR_SIDE, { fit: 'fill' }).toColourspace('srgb').raw().toBuffer();
  const colour = new Float32Array(COLOUR_SIDE * COLOUR_SIDE * 3);
  for (let i = 0; i < colour.length; i++) colour[i] = (colourBytes[i] ?? 0) / 255;
  const hashes = await hashesOfGrey(hashInput !== undefined && hashInput !== input ? await decodeGrey(hashInput) : image);
  return {
    hashes,
    descriptor: normaliseDescriptor(grid16),
    grid: Uint8Array.from(grid32),
    colour,
    ...qualityScores(grey, width, height),
  };
}

/** sha256 of the decoded, oriented RGBA pixels plus size: equal for the same picture in any container. */
export async function pixelHash(input: string | Buffer): Promise<string> {
  const { data, info } = await sharp(input, { failOn: 'none' }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return crypto.createHash('sha256').update(`${info.width}x${info.height}:`).update(data).digest('hex');
}
