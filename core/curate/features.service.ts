/**
 * Keeps the per-image feature cache (curate_features) complete: computes pixel features for
 * images that have none yet (or an old version), from the thumbnail when one exists (fast) or
 * else the first present file (by its bytes when its name is not UTF-8). Incremental: a rerun only touches new images. A file that cannot
 * be decoded gets a row with its error, so it is reported once and not retried every run.
 * The image's own perceptual hashes are the ones ingest stored (perceptual_hashes), joined in
 * here; the cache holds only the hashes of the mirror, computed from the same thumbnail ingest
 * hashed. Hash-version check: when an image's cache row is (re)built, the stored hashes are
 * compared with the thumbnail's; they differ only where an older Looktwice stored them with an
 * older definition (perceptual-hash.ts HASH_VERSION 1), and are then replaced. The
 * FEATURES_VERSION bump that came with HASH_VERSION 2 makes every library go through this once.
 */
import path from 'node:path';
import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import { CurateRepository, type ImageFeatures } from '../store/curate.repository.ts';
import { ImagesRepository } from '../store/images.repository.ts';
import { RateMeter, throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { decoderInput } from '../common/file-name-bytes.ts';
import { FEATURES_VERSION, computePixelFeatures } from './image-features.ts';

export interface FeatureJobOptions {
  /** The library's data folder (thumbnails live there); without it files are decoded. */
  dataDir?: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Decodes running at once (sharp uses its own threads; 2–4 keeps the CPU busy). */
  concurrency?: number;
}

/** Smallest thumbnail side worth using: below this, sharpness scores would mostly measure the thumbnail. */
const MIN_THUMBNAIL_PX = 192;

/** Computes missing features; returns every image's features (current version) and any errors. */
export async function ensureFeatures(db: Db, options: FeatureJobOptions = {}): Promise<{ features: Map<number, ImageFeatures>; errors: Array<{ path: string; reason: string }> }> {
  const repository = new CurateRepository(db);
  const images = new ImagesRepository(db);
  const missing = repository.imagesMissingFeatures(FEATURES_VERSION);
  const errors: Array<{ path: string; reason: string }> = [];
  if (missing.length > 0) {
    const pathsByImage = new Map<number, string>();
    for (const file of repository.presentFiles()) if (!pathsByImage.has(file.imageId)) pathsByImage.set(file.imageId, file.path);
    const meter = new RateMeter();
    const concurrency = Math.max(1, options.concurrency ?? 3);
    let done = 0;
    let pending: ImageFeatures[] = [];
    const flush = (): void => {
      if (pending.length) repository.upsertFeatures(pending);
      pending = [];
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < missing.length) {
        throwIfCancelled(options.signal);
        const imageId = missing[next++]!;
        const filePath = pathsByImage.get(imageId);
        if (!filePath) continue;
        const row = await featuresFor(repository, images, imageId, filePath, options.dataDir);
        if (row.error) errors.push({ path: filePath, reason: row.error });
        pending.push(row);
        done++;
        if (pending.length >= 200) flush();
        options.onProgress?.({ phase: 'curate:analyse', done, total: missing.length, ...meter.update(done, missing.length) });
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      flush(); // keep what was computed, so a cancelled run resumes where it stopped
    }
  }
  return { features: withStoredHashes(repository, repository.features(FEATURES_VERSION)), errors };
}

/** Sets each image's dhash/phash to the hashes ingest stored for it (null where it stored none). */
function withStoredHashes(repository: CurateRepository, features: Map<number, ImageFeatures>): Map<number, ImageFeatures> {
  const stored = repository.perceptualHashes();
  for (const [imageId, row] of features) {
    const hashes = stored.get(imageId);
    row.dhash = hashes?.dhash ?? null;
    row.phash = hashes?.phash ?? null;
  }
  return features;
}

async function featuresFor(repository: CurateRepository, images: ImagesRepository, imageId: number, filePath: string, dataDir: string | undefined): Promise<ImageFeatures> {
  const empty: ImageFeatures = {
    imageId, version: FEATURES_VERSION, source: 'file', dhash: null, dhashMirror: null, phash: null, phashMirror: null,
    descriptor: null, grid: null, colour: null, laplacianVariance: null, brightness: null, contrast: null, entropyBits: null, darkFraction: null,
    brightFraction: null, pixelHash: null, error: null,
  };
  const thumbnail = dataDir ? repository.largestThumbnail(imageId) : undefined;
  const thumbnailPath = thumbnail && dataDir ? path.join(dataDir, thumbnail.relpath) : undefined;
  const hasThumbnail = thumbnailPath !== undefined && fs.existsSync(thumbnailPath);
  // Features from the thumbnail unless it is too small to measure sharpness on; hashes always
  // from the thumbnail when there is one, since that is what ingest hashed.
  const useThumbnail = hasThumbnail && Math.max(thumbnail!.width, thumbnail!.height) >= MIN_THUMBNAIL_PX;
  const source = useThumbnail ? thumbnailPath! : filePath;
  const sourceKind: 'thumbnail' | 'file' = useThumbnail ? 'thumbnail' : 'file';
  try {
    const { hashes, ...features } = await computePixelFeatures(useThumbnail ? source : await decoderInput(source), hasThumbnail ? thumbnailPath : undefined);
    const stored = images.perceptualHashes(imageId);
    if (hasThumbnail && (stored?.dhash !== hashes.dhash || stored?.phash !== hashes.phash)) {
      images.upsertPerceptualHashes(imageId, { dhash: hashes.dhash, phash: hashes.phash });
    }
    return { ...empty, ...features, dhashMirror: hashes.dhashMirror, phashMirror: hashes.phashMirror, source: sourceKind };
  } catch (error) {
    return { ...empty, source: sourceKind, error: `cannot decode ${source}: ${(error as Error).message}` };
  }
}
