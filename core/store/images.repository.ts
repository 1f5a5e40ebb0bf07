/**
 * Images (one row per distinct content), their thumbnails and perceptual hashes. An image is
 * "in the library" while at least one files row with status 'present' points to it; rows of
 * images whose every path is gone stay, so embeddings and labels survive a move or a re-add.
 */
import { underFolderRange } from './files.repository.ts';
import { CachedStatementsRepository } from './repository.ts';

/** The EXIF columns of `images`: what core/library/exif.ts reads from a file. */
export interface ImageExif {
  /** ISO 8601 local time as the camera wrote it, with its offset when the file has one. */
  takenAt: string | null;
  cameraMake: string | null;
  cameraModel: string | null;
  /** EXIF orientation 1..8 as stored in the file. */
  orientation: number | null;
  gpsLat: number | null;
  gpsLon: number | null;
  /** A few more tags (lens, exposure…) as JSON, or null when there are none. */
  exifJson: string | null;
}

/** What ingest learns about one content (the columns of `images`, minus id/created_at). */
export interface NewImage extends ImageExif {
  contentHash: string;
  byteSize: number;
  width: number;
  height: number;
  format: string;
}

export interface ImageRow extends NewImage {
  id: number;
  createdAt: string;
}

export interface ThumbnailRow {
  imageId: number;
  sizePx: number;
  /** Relative to the library's data folder, e.g. 'thumbnails/ab/ab12….webp'. */
  relpath: string;
  width: number;
  height: number;
}

export interface PerceptualHashes {
  /** 64-bit difference hash, 16 hex digits. */
  dhash: string;
  /** 64-bit DCT hash, 16 hex digits. */
  phash: string;
}

interface RawImageRow {
  id: number;
  content_hash: string;
  byte_size: number;
  width: number;
  height: number;
  format: string;
  taken_at: string | null;
  camera_make: string | null;
  camera_model: string | null;
  orientation: number | null;
  gps_lat: number | null;
  gps_lon: number | null;
  exif_json: string | null;
  created_at: string;
}

function toImageRow(row: RawImageRow): ImageRow {
  return {
    id: row.id,
    contentHash: row.content_hash,
    byteSize: row.byte_size,
    width: row.width,
    height: row.height,
    format: row.format,
    takenAt: row.taken_at,
    cameraMake: row.camera_make,
    cameraModel: row.camera_model,
    orientation: row.orientation,
    gpsLat: row.gps_lat,
    gpsLon: row.gps_lon,
    exifJson: row.exif_json,
    createdAt: row.created_at,
  };
}

/** Summary numbers of the images that have a present file (for `curate` and the app). */
export interface LibraryStats {
  images: number;
  filesPresent: number;
  filesMissing: number;
  byFormat: Record<string, number>;
  takenAtRange: { first: string; last: string } | null;
  ingestErrors: number;
}

export class ImagesRepository extends CachedStatementsRepository {

  byId(id: number): ImageRow | undefined {
    const row = this.sql('SELECT * FROM images WHERE id = ?').get(id) as RawImageRow | undefined;
    return row && toImageRow(row);
  }

  byContentHash(contentHash: string): ImageRow | undefined {
    const row = this.sql('SELECT * FROM images WHERE content_hash = ?').get(contentHash) as RawImageRow | undefined;
    return row && toImageRow(row);
  }

  /** Inserts an image row and returns its id. */
  insert(image: NewImage): number {
    const result = this
      .sql(
        `INSERT INTO images (content_hash, byte_size, width, height, format, taken_at, camera_make, camera_model,
                             orientation, gps_lat, gps_lon, exif_json)
         VALUES (@contentHash, @byteSize, @width, @height, @format, @takenAt, @cameraMake, @cameraModel,
                 @orientation, @gpsLat, @gpsLon, @exifJson)`,
      )
      .run(image);
    return Number(result.lastInsertRowid);
  }

  /** Whether the image already has a thumbnail of `sizePx` and both perceptual hashes. */
  isComplete(imageId: number, sizePx: number): boolean {
    const row = this
      .sql(
        `SELECT (SELECT count(*) FROM thumbnails WHERE image_id = @imageId AND size_px = @sizePx)
              + (SELECT count(*) FROM perceptual_hashes WHERE image_id = @imageId) AS n`,
      )
      .get({ imageId, sizePx }) as { n: number };
    return row.n === 3;
  }

  upsertThumbnail(thumbnail: ThumbnailRow): void {
    this
      .sql(
        `INSERT INTO thumbnails (image_id, size_px, relpath, width, height) VALUES (@imageId, @sizePx, @relpath, @width, @height)
         ON CONFLICT (image_id, size_px) DO UPDATE SET relpath = excluded.relpath, width = excluded.width, height = excluded.height`,
      )
      .run(thumbnail);
  }

  thumbnail(imageId: number, sizePx: number): ThumbnailRow | undefined {
    const row = this
      .sql('SELECT image_id, size_px, relpath, width, height FROM thumbnails WHERE image_id = ? AND size_px = ?')
      .get(imageId, sizePx) as { image_id: number; size_px: number; relpath: string; width: number; height: number } | undefined;
    return row && { imageId: row.image_id, sizePx: row.size_px, relpath: row.relpath, width: row.width, height: row.height };
  }

  upsertPerceptualHashes(imageId: number, hashes: PerceptualHashes): void {
    const statement = this.sql(
      `INSERT INTO perceptual_hashes (image_id, kind, hash) VALUES (?, ?, ?)
       ON CONFLICT (image_id, kind) DO UPDATE SET hash = excluded.hash`,
    );
    statement.run(imageId, 'dhash', hashes.dhash);
    statement.run(imageId, 'phash', hashes.phash);
  }

  perceptualHashes(imageId: number): PerceptualHashes | undefined {
    const rows = this.sql('SELECT kind, hash FROM perceptual_hashes WHERE image_id = ?').all(imageId) as Array<{ kind: string; hash: string }>;
    const dhash = rows.find((r) => r.kind === 'dhash')?.hash;
    const phash = rows.find((r) => r.kind === 'phash')?.hash;
    return dhash && phash ? { dhash, phash } : undefined;
  }

  /** Ids of images with at least one present file, ascending. */
  presentImageIds(): number[] {
    return this
      .sql("SELECT i.id FROM images i WHERE EXISTS (SELECT 1 FROM files f WHERE f.image_id = i.id AND f.status = 'present') ORDER BY i.id")
      .pluck()
      .all() as number[];
  }

  /** Counts for a summary; `folderPaths` limits them to files under those folders. */
  stats(folderPaths?: readonly string[]): LibraryStats {
    const where: string[] = [];
    const params: string[] = [];
    if (folderPaths && folderPaths.length > 0) {
      where.push(`(${folderPaths.map(() => '(f.path > ? AND f.path < ?)').join(' OR ')})`);
      for (const folder of folderPaths) params.push(...underFolderRange(folder));
    }
    const fileFilter = where.length > 0 ? `AND ${where.join(' AND ')}` : '';
    const fileCounts = this
      .sql(`SELECT f.status AS status, count(*) AS n FROM files f WHERE 1 = 1 ${fileFilter} GROUP BY f.status`)
      .all(...params) as Array<{ status: string; n: number }>;
    const presentImages = `SELECT DISTINCT f.image_id FROM files f WHERE f.status = 'present' ${fileFilter}`;
    const formats = this
      .sql(`SELECT format, count(*) AS n FROM images WHERE id IN (${presentImages}) GROUP BY format ORDER BY n DESC, format`)
      .all(...params) as Array<{ format: string; n: number }>;
    const range = this
      .sql(`SELECT min(taken_at) AS first, max(taken_at) AS last FROM images WHERE id IN (${presentImages}) AND taken_at IS NOT NULL`)
      .get(...params) as { first: string | null; last: string | null };
    const errorFilter = folderPaths && folderPaths.length > 0 ? `WHERE ${folderPaths.map(() => '(path > ? AND path < ?)').join(' OR ')}` : '';
    const ingestErrors = this.sql(`SELECT count(*) FROM ingest_errors ${errorFilter}`).pluck().get(...params) as number;
    const byFormat: Record<string, number> = {};
    for (const row of formats) byFormat[row.format] = row.n;
    return {
      images: formats.reduce((sum, row) => sum + row.n, 0),
      filesPresent: fileCounts.find((r) => r.status === 'present')?.n ?? 0,
      filesMissing: fileCounts.find((r) => r.status === 'missing')?.n ?? 0,
      byFormat,
      takenAtRange: range.first && range.last ? { first: range.first, last: range.last } : null,
      ingestErrors,
    };
  }
}
