/**
 * The training cache: each image decoded once (sharp) to the training resolution — short side
 * scaled to `sizePx`, centre square kept — and stored as uint8 RGB in
 * `<dataDir>/cache/train-<size>px/<first two hex digits>/<content hash>.rgb`. Keyed by content
 * hash and size, so it is incremental (a re-run decodes only new images) and shared by every run
 * at that size. Training and embedding then never decode an image in their loop.
 * Thumbnails from ingest are used as the source when they are large enough (cheaper, and they
 * exist for formats sharp cannot decode); otherwise the original file (by its bytes when its
 * name is not UTF-8, core/common/file-name-bytes.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { RateMeter, throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { decoderInput } from '../common/file-name-bytes.ts';
import type { TrainingImageSource } from '../store/training-images.repository.ts';
import type { TrainingImages } from './trainer.ts';

export const CACHE_CHANNELS = 3;

/** Training images loaded from the cache, in the order of `imageIds`. */
export interface CachedImages extends TrainingImages {
  imageIds: number[];
  /** Images that could not be decoded: skipped, with the reason. */
  failed: Array<{ imageId: number; path: string; reason: string }>;
  /** How many were decoded now (the rest came from the cache). */
  decoded: number;
}

export function cacheDir(dataDir: string, sizePx: number): string {
  return path.join(dataDir, 'cache', `train-${sizePx}px`);
}

export function cacheFile(dataDir: string, sizePx: number, contentHash: string): string {
  return path.join(cacheDir(dataDir, sizePx), contentHash.slice(0, 2), `${contentHash}.rgb`);
}

/** Decodes one image to sizePx × sizePx × 3 uint8 (centre crop of the short-side resize). */
export async function decodeForTraining(file: string, sizePx: number, autoOrient: boolean): Promise<Buffer> {
  let pipeline = sharp(await decoderInput(file), { failOn: 'none', limitInputPixels: 268_402_689 });
  if (autoOrient) pipeline = pipeline.rotate();
  const { data, info } = await pipeline
    .resize(sizePx, sizePx, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== CACHE_CHANNELS || data.length !== sizePx * sizePx * CACHE_CHANNELS) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${sizePx}×${sizePx}×${CACHE_CHANNELS}`);
  }
  return data;
}

function sourceFor(source: TrainingImageSource, dataDir: string, sizePx: number): { file: string; autoOrient: boolean } {
  if (source.thumbnailRelpath && Math.min(source.thumbnailWidth ?? 0, source.thumbnailHeight ?? 0) >= sizePx) {
    const thumbnail = path.join(dataDir, ...source.thumbnailRelpath.split('/'));
    if (fs.existsSync(thumbnail)) return { file: thumbnail, autoOrient: false };
  }
  return { file: source.path, autoOrient: true };
}

/**
 * Loads (decoding what is missing) every source into one uint8 array [N, sizePx, sizePx, 3].
 * Undecodable images are reported in `failed` and skipped; the rest carry on.
 */
export async function loadTrainingImages(
  dataDir: string,
  sources: readonly TrainingImageSource[],
  sizePx: number,
  options: { signal?: AbortSignal; onProgress?: ProgressListener; concurrency?: number } = {},
): Promise<CachedImages> {
  const bytesPerImage = sizePx * sizePx * CACHE_CHANNELS;
  const slots: Array<Buffer | null> = new Array<Buffer | null>(sources.length).fill(null);
  const failed: CachedImages['failed'] = [];
  const meter = new RateMeter();
  let done = 0;
  let decoded = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      throwIfCancelled(options.signal);
      const index = next++;
      const source = sources[index]!;
      const file = cacheFile(dataDir, sizePx, source.contentHash);
      try {
        let pixels: Buffer | null = null;
        try {
          const cached = await fs.promises.readFile(file);
          if (cached.length === bytesPerImage) pixels = cached;
        } catch {
          // not cached yet
        }
        if (!pixels) {
          const { file: input, autoOrient } = sourceFor(source, dataDir, sizePx);
          try {
            pixels = await decodeForTraining(input, sizePx, autoOrient);
          } catch (error) {
            if (input === source.path) throw error;
            pixels = await decodeForTraining(source.path, sizePx, true); // a broken thumbnail: fall back to the original
          }
          await fs.promises.mkdir(path.dirname(file), { recursive: true });
          const temporary = `${file}.partial-${process.pid}`;
          await fs.promises.writeFile(temporary, pixels);
          await fs.promises.rename(temporary, file);
          decoded += 1;
        }
        slots[index] = pixels;
      } catch (error) {
        failed.push({ imageId: source.imageId, path: source.path, reason: (error as Error).message.split('\n')[0]! });
      }
      done += 1;
      const { ratePerS, etaS } = meter.update(done, sources.length);
      options.onProgress?.({ phase: 'train:cache', done, total: sources.length, ratePerS, etaS });
    }
  };
  // sharp decodes on libuv's thread pool: keep every core busy (and a few more for file I/O).
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? Math.max(4, os.availableParallelism() + 2)) }, worker));
  throwIfCancelled(options.signal);
  const imageIds: number[] = [];
  const kept = slots.filter((s, i) => {
    if (s) imageIds.push(sources[i]!.imageId);
    return s !== null;
  }) as Buffer[];
  // In shared memory, so training and embedding threads read it without a copy.
  const pixels = new Uint8Array(new SharedArrayBuffer(kept.length * bytesPerImage));
  kept.forEach((buffer, i) => pixels.set(buffer, i * bytesPerImage));
  failed.sort((a, b) => a.imageId - b.imageId);
  return { count: kept.length, sizePx, channels: CACHE_CHANNELS, pixels, imageIds, failed, decoded };
}
