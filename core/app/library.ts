/**
 * Library read use cases: the overview (counts, the active run, where each derived result
 * stands — read only: opening the app never starts an analysis), one image's detail with its
 * EXIF flattened for display, and the media files behind thumbnails and full images. A missing
 * thumbnail file (a library copied without its `-files` folder) is regenerated from the original.
 *
 * An original is served (or made into a thumbnail) only while it is still what was catalogued:
 * the same size (checked before reading) and the same content hash (checked on the bytes that
 * are then served, read through one open file, so nothing can swap the file in between). A
 * file replaced since — by other bytes, or by a link to a text file — is refused with the
 * reason, never sent under the image's type. A touched file with the same bytes is still fine.
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
import { contentHashOf } from '../library/read-file.ts';
import { fsPath } from '../common/file-name-bytes.ts';
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

/** An original's bytes, checked against the catalogue, or why it cannot be served. */
export type CheckedOriginal = { path: string; bytes: Buffer } | { refused: string };

/** Reads the file at a stored path if it still holds the catalogued content (`size` bytes hashing to `hash`). */
async function readIfUnchanged(stored: string, size: number, hash: string): Promise<CheckedOriginal> {
  let handle: fs.promises.FileHandle;
  try {
    // O_NONBLOCK: a FIFO put in the file's place must not hang the request.
    handle = await fs.promises.open(fsPath(stored), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { refused: `${stored} ${code === 'ENOENT' ? 'is gone' : `cannot be opened (${code ?? (error as Error).message})`}; rescan its folder` };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { refused: `${stored} is no longer a regular file; rescan its folder` };
    if (stats.size !== size) return { refused: `${stored} changed since it was catalogued (${size} → ${stats.size} bytes); rescan its folder` };
    const bytes = await handle.readFile();
    if (bytes.length !== size || contentHashOf(bytes) !== hash) return { refused: `${stored} changed since it was catalogued (different content); rescan its folder` };
    return { path: stored, bytes };
  } catch (error) {
    return { refused: `${stored} cannot be read (${(error as Error).message})` };
  } finally {
    await handle.close();
  }
}

/**
 * The bytes of the image with this content hash from the first of its present files (primary
 * path first) that still holds them; null when the image is unknown or has no present file.
 */
export async function checkedOriginal(library: Library, hash: string): Promise<CheckedOriginal | null> {
  if (!CONTENT_HASH.test(hash)) return null;
  const view = new LibraryViewRepository(library.db);
  const primary = view.primaryFileByHash(hash);
  if (!primary?.path) return null;
  const facts = view.imageFacts(primary.imageId);
  if (!facts) return null;
  const others = facts.paths.filter((file) => file.status === 'present' && file.path !== primary.path).map((file) => file.path);
  let first: CheckedOriginal | undefined;
  for (const stored of [primary.path, ...others]) {
    const checked = await readIfUnchanged(stored, facts.byteSize, hash);
    if ('bytes' in checked) return checked;
    first ??= checked;
  }
  return first ?? null;
}

/**
 * The thumbnail file of the image with this content hash. When the file is gone (the cache was
 * deleted, or the database copied without its `-files` folder) it is made again from the
 * image's original, if that is still unchanged; null when the image is unknown or has no
 * unchanged file left.
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
  const original = await checkedOriginal(library, hash);
  if (!original || !('bytes' in original)) return null;
  try {
    const analysed = await analyseImage(original.bytes);
    const written = await new ThumbnailCache(library.dataDir).write(hash, analysed.thumbnail.bytes);
    view.recordThumbnail(image.imageId, THUMBNAIL_SIZE_PX, written, analysed.thumbnail.width, analysed.thumbnail.height);
    return insideThumbnails(library, written);
  } catch {
    // The original is unreadable or changed: the grid shows its placeholder.
    return null;
  }
}

/** What the full-image routes send: checked bytes and their type, or why the original is refused. */
export type ServedImage = { path: string; contentType: string; bytes: Buffer } | { refused: string };

/**
 * The image with this hash as browsers can show it: its original when the format allows and
 * the file is unchanged (else refused with the reason), the thumbnail for TIFF/HEIF; null when
 * the image is unknown or has no file.
 */
export async function imageFile(library: Library, hash: string): Promise<ServedImage | null> {
  if (!CONTENT_HASH.test(hash)) return null;
  const file = new LibraryViewRepository(library.db).primaryFileByHash(hash);
  if (!file?.path) return null;
  const contentType = MIME_BY_FORMAT[file.format.toLowerCase()];
  if (contentType) {
    const original = await checkedOriginal(library, hash);
    if (!original) return null;
    return 'bytes' in original ? { path: original.path, contentType, bytes: original.bytes } : original;
  }
  // TIFF/HEIF: browsers cannot show them; the thumbnail stands in.
  const thumbnail = await thumbnailFile(library, hash);
  if (!thumbnail) return null;
  try {
    return { path: thumbnail, contentType: 'image/webp', bytes: await fs.promises.readFile(thumbnail) };
  } catch {
    return null;
  }
}
