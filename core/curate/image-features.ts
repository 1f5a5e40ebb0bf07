/**
 * Pixel features of one image, computed from small decodes (sharp): the perceptual hashes of its
 * left-right mirror (so flipped copies match the hashes ingest stored; the image's own hashes
 * are read from the store, never recomputed here), a tiny normalised grey descriptor for the
 * near-duplicate check, and the quality scores behind the flags (sharpness, exposure,
 * information). Cached per image in curate_features; bump FEATURES_VERSION when this changes.
 */
import crypto from 'node:crypto';
import sharp from 'sharp';
import { THUMBNAIL_SIZE_PX } from '../library/analyse-image.ts';
import { hashPixels } from '../library/perceptual-hash.ts';

/**
 * Version of the feature code; rows of another version are recomputed. 3: mirror hashes from
 * library/perceptual-hash.ts (the stored hashes' definition) instead of a second implementation.
 */
export const FEATURES_VERSION = 3;
/** Side of the colour layout grid. */
export const COLOUR_SIDE = 4;
/** Side of the descriptor grid: DESCRIPTOR_SIDE² numbers per image. */
export const DESCRIPTOR_SIDE = 16;
/** Long side (px) at which sharpness and exposure are measured, so scores compare across sizes. */
export const ANALYSIS_SIZE_PX = 256;

export interface PixelFeatures {
  /** dHash and pHash of the left-right mirror; the image's own are the ones ingest stored. */
  dhashMirror: string;
  phashMirror: string;
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

/** Resamples a grey image (fill, aspect ignored) to width × height bytes. */
async function resampleGrey(grey: Buffer, width: number, height: number, toWidth: number, toHeight: number): Promise<Uint8Array> {
  const data = await sharp(grey, { raw: { width, height, channels: 1 } })
    .resize(toWidth, toHeight, { fit: 'fill', kernel: 'cubic' })
    .extractChannel(0) // sharp would otherwise hand back sRGB (3 channels) for 1-channel input
    .raw()
    .toBuffer();
  if (data.length !== toWidth * toHeight) throw new Error(`resampled grey image has ${data.length} bytes, expected ${toWidth * toHeight}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
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
 * every pixel feature. EXIF orientation is applied first. Throws when sharp cannot decode it.
 */
export async function computePixelFeatures(input: string | Buffer): Promise<PixelFeatures> {
  const { data, info } = await sharp(input, { failOn: 'none' })
    .rotate()
    .greyscale()
    .resize(ANALYSIS_SIZE_PX, ANALYSIS_SIZE_PX, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey = info.channels === 1 ? data : extractFirstChannel(data, info.channels);
  const { width, height } = info;
  const grid32 = await resampleGrey(grey, width, height, 32, 32);
  const grid16 = await resampleGrey(grey, width, height, DESCRIPTOR_SIDE, DESCRIPTOR_SIDE);
  const greyBytes = new Uint8Array(grey.buffer, grey.byteOffset, grey.length);
  const colourBytes = await sharp(input, { failOn: 'none' }).rotate().removeAlpha().resize(COLOUR_SIDE, COLOUR_SIDE, { fit: 'fill' }).toColourspace('srgb').raw().toBuffer();
  const colour = new Float32Array(COLOUR_SIDE * COLOUR_SIDE * 3);
  for (let i = 0; i < colour.length; i++) colour[i] = (colourBytes[i] ?? 0) / 255;
  const mirror = await mirroredHashes(input);
  return {
    dhashMirror: mirror.dhash,
    phashMirror: mirror.phash,
    descriptor: normaliseDescriptor(grid16),
    grid: Uint8Array.from(grid32),
    colour,
    ...qualityScores(greyBytes, width, height),
  };
}

/**
 * Hashes of the left-right mirror, from the decode ingest hashes (oriented sRGB(A) at ≤ 256 px),
 * so they compare bit for bit with the hashes ingest stored for the same picture flipped.
 */
async function mirroredHashes(input: string | Buffer): Promise<{ dhash: string; phash: string }> {
  const { data, info } = await sharp(input, { failOn: 'none' })
    .rotate()
    .resize(THUMBNAIL_SIZE_PX, THUMBNAIL_SIZE_PX, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return hashPixels(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels, { mirrored: true });
}

function extractFirstChannel(data: Buffer, channels: number): Buffer {
  const out = Buffer.alloc(data.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = data[i * channels]!;
  return out;
}

/** sha256 of the decoded, oriented RGBA pixels plus size: equal for the same picture in any container. */
export async function pixelHash(filePath: string): Promise<string> {
  const { data, info } = await sharp(filePath, { failOn: 'none' }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return crypto.createHash('sha256').update(`${info.width}x${info.height}:`).update(data).digest('hex');
}
