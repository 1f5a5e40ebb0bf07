/**
 * Library read use cases: the overview (counts, the active run, where each derived result
 * stands — read only: opening the app never starts an analysis), one image's detail with its
 * EXIF flattened for display, and the media files behind thumbnails and full images. A missing
 * thumbnail file (a library copied without its `-files` folder) is regenerated from the original.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Library } from '../store/db.ts';
import { LibraryViewRepository, type ViewImage } from '../store/library-view.repository.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { FlagsRepository } from '../store/flags.repository.ts';
import { DuplicateGroupsRepository } from '../store/duplicate-groups.repository.ts';
import { analyseImage, THUMBNAIL_SIZE_PX } from '../library/analyse-image.ts';
import { ThumbnailCache } from '../library/thumbnail-cache.ts';
import { notFound } from '../common/errors.ts';
import { derivedStates } from './derived.ts';

/** How far the pipeline has come, without computing anything. */
export function libraryOverview(library: Library) {
  const view = new LibraryViewRepository(library.db);
  const counts = view.counts();
  const activeRunId = new EmbeddingsRepository(library.db).latestRunWithEmbeddings();
  const derived = derivedStates(library);
  return {
    counts,
    activeRunId,
    embedded: view.embeddedCount(activeRunId),
    duplicateGroupsOpen: derived.duplicates.computedAt === null ? null : new DuplicateGroupsRepository(library.db).count(),
    clusters: view.clusterCount(),
    mapPoints: view.mapPointCount(),
    flagged: new FlagsRepository(library.db).flaggedImages(),
    derived,
  };
}

/** EXIF as the detail panel shows it: the catalogued tags, then the extra JSON tags as scalars. */
export function flattenExif(summary: Pick<ViewImage, 'takenAt'>, facts: { cameraMake: string | null; cameraModel: string | null; orientation: number | null; gpsLat: number | null; gpsLon: number | null; exifJson: string | null }): Record<string, string | number | boolean | null> {
  const exif: Record<string, string | number | boolean | null> = {};
  const main: Array<[string, string | number | null]> = [
    ['Make', facts.cameraMake],
    ['Model', facts.cameraModel],
    ['DateTimeOriginal', summary.takenAt],
    ['Orientation', facts.orientation],
    ['GPSLatitude', facts.gpsLat],
    ['GPSLongitude', facts.gpsLon],
  ];
  for (const [key, value] of main) if (value !== null) exif[key] = value;
  if (facts.exifJson) {
    try {
      const parsed = JSON.parse(facts.exifJson) as Record<string, unknown>;
      for (const [key, value] of Object.entries(parsed)) {
        if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) exif[key] = value as string | number | boolean | null;
        else exif[key] = JSON.stringify(value);
      }
    } catch {
      // A damaged EXIF blob hides the extra tags, not the image.
    }
  }
  return exif;
}

/** One image with everything the detail panel shows. */
export function imageDetail(library: Library, imageId: number) {
  const view = new LibraryViewRepository(library.db);
  const [summary] = view.imagesByIds([imageId]);
  const facts = view.imageFacts(imageId);
  if (!summary || !facts) throw notFound('That image is no longer in the library.');
  return {
    ...summary,
    byteSize: facts.byteSize,
    format: facts.format,
    camera: [facts.cameraMake, facts.cameraModel].filter(Boolean).join(' ') || null,
    gps: facts.gpsLat !== null && facts.gpsLon !== null ? { lat: facts.gpsLat, lon: facts.gpsLon } : null,
    paths: facts.paths,
    exif: flattenExif(summary, facts),
    flagScores: new FlagsRepository(library.db).scores(imageId),
    hasEmbedding: view.hasEmbedding(imageId),
  };
}

const CONTENT_HASH = /^[0-9a-f]+$/;
const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif',
};

/** The thumbnail file's absolute path, if it resolves inside `<dataDir>/thumbnails/`. */
function insideThumbnails(library: Library, relpath: string): string | null {
  const root = path.resolve(library.dataDir, 'thumbnails');
  const file = path.resolve(library.dataDir, relpath);
  return file.startsWith(root + path.sep) ? file : null;
}

/**
 * The thumbnail file of the image with this content hash. When the file is gone (the cache was
 * deleted, or the database copied without its `-files` folder) it is made again from the
 * image's primary file; null when the image is unknown or has no readable file left.
 */
export async function thumbnailFile(library: Library, hash: string): Promise<string | null> {
  if (!CONTENT_HASH.test(hash)) return null;
  const view = new LibraryViewRepository(library.db);
  const relpath = view.thumbnailRelpath(hash);
  const existing = relpath ? insideThumbnails(library, relpath) : null;
  // A row pointing outside the thumbnail folder is a tampered database: refuse, never repair it.
  if (relpath && !existing) return null;
  if (existing && fs.existsSync(existing)) return existing;
  const image = view.primaryFileByHash(hash);
  if (!image?.path) return null;
  try {
    const analysed = await analyseImage(image.path);
    const written = await new ThumbnailCache(library.dataDir).write(hash, analysed.thumbnail.bytes);
    view.recordThumbnail(image.imageId, THUMBNAIL_SIZE_PX, written, analysed.thumbnail.width, analysed.thumbnail.height);
    return insideThumbnails(library, written);
  } catch {
    // The original is unreadable or changed: the grid shows its placeholder.
    return null;
  }
}

/** The primary file of the image with this hash when browsers can show its format; else its thumbnail. */
export async function imageFile(library: Library, hash: string): Promise<{ path: string; contentType: string } | null> {
  if (!CONTENT_HASH.test(hash)) return null;
  const file = new LibraryViewRepository(library.db).primaryFileByHash(hash);
  if (!file?.path) return null;
  const contentType = MIME_BY_FORMAT[file.format.toLowerCase()];
  if (contentType) return { path: file.path, contentType };
  // TIFF/HEIF: browsers cannot show them; the thumbnail stands in.
  const thumbnail = await thumbnailFile(library, hash);
  return thumbnail ? { path: thumbnail, contentType: 'image/webp' } : null;
}
