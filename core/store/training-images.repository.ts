/**
 * What training and embedding read from the catalogue: every image with a present file, with one
 * of its paths and its largest thumbnail (decoding a thumbnail is much cheaper than the original,
 * and works for formats sharp cannot decode, such as HEIC).
 */
import type { Db } from './db.ts';

export interface TrainingImageSource {
  imageId: number;
  contentHash: string;
  width: number;
  height: number;
  /** One present path (the lowest file id). */
  path: string;
  /** The largest thumbnail, relative to the data folder, if any. */
  thumbnailRelpath: string | null;
  thumbnailWidth: number | null;
  thumbnailHeight: number | null;
}

export class TrainingImagesRepository {
  constructor(private readonly db: Db) {}

  /** Images with a present file, by id; `imageIds` limits the list. */
  list(imageIds?: readonly number[]): TrainingImageSource[] {
    const rows = this.db
      .prepare(
        `SELECT i.id AS imageId, i.content_hash AS contentHash, i.width, i.height,
                (SELECT f.path FROM files f WHERE f.image_id = i.id AND f.status = 'present' ORDER BY f.id LIMIT 1) AS path,
                t.relpath AS thumbnailRelpath, t.width AS thumbnailWidth, t.height AS thumbnailHeight
         FROM images i
         LEFT JOIN thumbnails t ON t.image_id = i.id
              AND t.size_px = (SELECT max(size_px) FROM thumbnails t2 WHERE t2.image_id = i.id)
         WHERE EXISTS (SELECT 1 FROM files f WHERE f.image_id = i.id AND f.status = 'present')
         ORDER BY i.id`,
      )
      .all() as TrainingImageSource[];
    if (!imageIds) return rows;
    const wanted = new Set(imageIds);
    return rows.filter((r) => wanted.has(r.imageId));
  }
}
