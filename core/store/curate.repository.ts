/**
 * Curation's SQL: the catalogue rows curation reads (present files with their image facts,
 * perceptual hashes, thumbnails), the per-image feature/quality cache, duplicate decisions, the
 * undo log of removals, clusterings and 2-D maps. Logic lives in core/curate/.
 */
import type { Db } from './db.ts';
import type { NewImage } from './images.repository.ts';

/** A present file with the facts about its image that curation needs. */
export interface CatalogFile extends Pick<NewImage, 'contentHash' | 'byteSize' | 'width' | 'height' | 'format' | 'takenAt' | 'cameraMake' | 'cameraModel' | 'exifJson'> {
  fileId: number;
  path: string;
  imageId: number;
  mtimeMs: number;
}

/** The cached pixel features and quality scores of one image. */
export interface ImageFeatures {
  imageId: number;
  version: number;
  source: 'thumbnail' | 'file';
  dhash: string | null;
  dhashMirror: string | null;
  phash: string | null;
  phashMirror: string | null;
  descriptor: Float32Array | null;
  grid: Uint8Array | null;
  colour: Float32Array | null;
  laplacianVariance: number | null;
  brightness: number | null;
  contrast: number | null;
  entropyBits: number | null;
  darkFraction: number | null;
  brightFraction: number | null;
  pixelHash: string | null;
  error: string | null;
}

/** One file moved away by a removal batch. */
export interface RemovalItem {
  batchId: number;
  fileId: number | null;
  originalPath: string;
  movedTo: string;
  trashInfoPath: string | null;
  byteSize: number;
  restoredTo: string | null;
  error: string | null;
}

export interface RemovalBatch {
  id: number;
  method: 'trash' | 'quarantine';
  destination: string;
  appliedAt: string;
  undoneAt: string | null;
}

export interface StoredClustering {
  id: number;
  method: string;
  source: string;
  k: number;
  params: Record<string, unknown>;
  createdAt: string;
  assignments: Array<{ imageId: number; clusterId: number; distance: number; representativeRank: number | null }>;
}

function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
}

function fromBlob(blob: Buffer | null): Float32Array | null {
  if (!blob) return null;
  const copy = new Uint8Array(blob.length);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}

interface FeatureRow {
  image_id: number; version: number; source: 'thumbnail' | 'file';
  dhash: string | null; dhash_mirror: string | null; phash: string | null; phash_mirror: string | null;
  descriptor: Buffer | null; grid: Buffer | null; colour: Buffer | null; laplacian_variance: number | null; brightness: number | null; contrast: number | null;
  entropy_bits: number | null; dark_fraction: number | null; bright_fraction: number | null;
  pixel_hash: string | null; error: string | null;
}

function featureFromRow(row: FeatureRow): ImageFeatures {
  return {
    imageId: row.image_id, version: row.version, source: row.source,
    dhash: row.dhash, dhashMirror: row.dhash_mirror, phash: row.phash, phashMirror: row.phash_mirror,
    descriptor: fromBlob(row.descriptor), grid: row.grid ? new Uint8Array(row.grid) : null, colour: fromBlob(row.colour), laplacianVariance: row.laplacian_variance, brightness: row.brightness,
    contrast: row.contrast, entropyBits: row.entropy_bits, darkFraction: row.dark_fraction,
    brightFraction: row.bright_fraction, pixelHash: row.pixel_hash, error: row.error,
  };
}

export class CurateRepository {
  constructor(private readonly db: Db) {}

  /** Every present file, ordered by path, with its image facts. */
  presentFiles(): CatalogFile[] {
    return this.db.prepare(
      `SELECT f.id AS fileId, f.path, f.image_id AS imageId, f.mtime_ms AS mtimeMs, i.content_hash AS contentHash,
              i.byte_size AS byteSize, i.width, i.height, i.format, i.taken_at AS takenAt,
              i.camera_make AS cameraMake, i.camera_model AS cameraModel, i.exif_json AS exifJson
       FROM files f JOIN images i ON i.id = f.image_id
       WHERE f.status = 'present' ORDER BY f.path`,
    ).all() as CatalogFile[];
  }

  /** The file row at `path` (any status), or undefined. */
  fileByPath(filePath: string): (CatalogFile & { status: string }) | undefined {
    return this.db.prepare(
      `SELECT f.id AS fileId, f.path, f.image_id AS imageId, f.mtime_ms AS mtimeMs, f.status, i.content_hash AS contentHash,
              i.byte_size AS byteSize, i.width, i.height, i.format, i.taken_at AS takenAt,
              i.camera_make AS cameraMake, i.camera_model AS cameraModel, i.exif_json AS exifJson
       FROM files f JOIN images i ON i.id = f.image_id WHERE f.path = ?`,
    ).get(filePath) as (CatalogFile & { status: string }) | undefined;
  }

  /** Perceptual hashes stored by ingest: imageId → {dhash, phash}. */
  perceptualHashes(): Map<number, { dhash?: string; phash?: string }> {
    const out = new Map<number, { dhash?: string; phash?: string }>();
    const rows = this.db.prepare('SELECT image_id, kind, hash FROM perceptual_hashes').all() as Array<{ image_id: number; kind: 'dhash' | 'phash'; hash: string }>;
    for (const row of rows) {
      const entry = out.get(row.image_id) ?? {};
      entry[row.kind] = row.hash;
      out.set(row.image_id, entry);
    }
    return out;
  }

  /** The largest thumbnail of an image (relative to the data folder), or undefined. */
  largestThumbnail(imageId: number): { relpath: string; width: number; height: number } | undefined {
    return this.db.prepare('SELECT relpath, width, height FROM thumbnails WHERE image_id = ? ORDER BY size_px DESC LIMIT 1')
      .get(imageId) as { relpath: string; width: number; height: number } | undefined;
  }

  // ---- features ----

  /** Cached features of every image that has them, at `version`. */
  features(version: number): Map<number, ImageFeatures> {
    const rows = this.db.prepare('SELECT * FROM curate_features WHERE version = ?').all(version) as FeatureRow[];
    return new Map(rows.map((row) => [row.image_id, featureFromRow(row)]));
  }

  /** Images with a present file whose features are missing or from another version. */
  imagesMissingFeatures(version: number): number[] {
    return this.db.prepare(
      `SELECT i.id FROM images i
       WHERE EXISTS (SELECT 1 FROM files f WHERE f.image_id = i.id AND f.status = 'present')
         AND NOT EXISTS (SELECT 1 FROM curate_features c WHERE c.image_id = i.id AND c.version = ?)
       ORDER BY i.id`,
    ).pluck().all(version) as number[];
  }

  /** Writes (or replaces) feature rows in one transaction. */
  upsertFeatures(rows: readonly ImageFeatures[]): void {
    const statement = this.db.prepare(
      `INSERT OR REPLACE INTO curate_features (image_id, version, source, dhash, dhash_mirror, phash, phash_mirror, descriptor, grid, colour,
         laplacian_variance, brightness, contrast, entropy_bits, dark_fraction, bright_fraction, pixel_hash, error)
       VALUES (@imageId, @version, @source, @dhash, @dhashMirror, @phash, @phashMirror, @descriptor, @grid, @colour,
         @laplacianVariance, @brightness, @contrast, @entropyBits, @darkFraction, @brightFraction, @pixelHash, @error)`,
    );
    this.db.transaction(() => {
      for (const row of rows) {
        statement.run({
          ...row,
          descriptor: row.descriptor ? toBlob(row.descriptor) : null,
          grid: row.grid ? Buffer.from(row.grid) : null,
          colour: row.colour ? toBlob(row.colour) : null,
        });
      }
    })();
  }

  setPixelHash(imageId: number, pixelHash: string): void {
    this.db.prepare('UPDATE curate_features SET pixel_hash = ? WHERE image_id = ?').run(pixelHash, imageId);
  }

  // ---- decisions ----

  /** Records a decision about a group of files. Returns its id. */
  addDecision(decision: 'keep_all' | 'remove', keepPath: string | null, members: ReadonlyArray<{ imageId: number; path: string }>): number {
    return this.db.transaction(() => {
      const id = Number(this.db.prepare('INSERT INTO duplicate_decisions (decision, keep_path) VALUES (?, ?)').run(decision, keepPath).lastInsertRowid);
      const member = this.db.prepare('INSERT OR IGNORE INTO duplicate_decision_members (decision_id, image_id, path) VALUES (?, ?, ?)');
      for (const m of members) member.run(id, m.imageId, m.path);
      return id;
    })();
  }

  // ---- removals ----

  createRemovalBatch(method: 'trash' | 'quarantine', destination: string): number {
    return Number(this.db.prepare('INSERT INTO removal_batches (method, destination) VALUES (?, ?)').run(method, destination).lastInsertRowid);
  }

  /** Logs one moved file and marks its files row removed, atomically. */
  recordRemoval(item: Omit<RemovalItem, 'restoredTo' | 'error'>): void {
    this.db.transaction(() => {
      this.db.prepare(
        `INSERT INTO removal_items (batch_id, file_id, original_path, moved_to, trash_info_path, byte_size) VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(item.batchId, item.fileId, item.originalPath, item.movedTo, item.trashInfoPath, item.byteSize);
      if (item.fileId !== null) this.db.prepare("UPDATE files SET status = 'removed' WHERE id = ?").run(item.fileId);
    })();
  }

  /** The newest batch that has not been undone, or undefined. */
  lastUndoableBatch(): RemovalBatch | undefined {
    return this.db.prepare(
      `SELECT id, method, destination, applied_at AS appliedAt, undone_at AS undoneAt FROM removal_batches
       WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1`,
    ).get() as RemovalBatch | undefined;
  }

  /** The batch with this id when it has not been undone yet, or undefined. */
  undoableBatch(id: number): RemovalBatch | undefined {
    return this.db.prepare(
      `SELECT id, method, destination, applied_at AS appliedAt, undone_at AS undoneAt FROM removal_batches
       WHERE id = ? AND undone_at IS NULL`,
    ).get(id) as RemovalBatch | undefined;
  }

  removalItems(batchId: number): RemovalItem[] {
    return this.db.prepare(
      `SELECT batch_id AS batchId, file_id AS fileId, original_path AS originalPath, moved_to AS movedTo,
              trash_info_path AS trashInfoPath, byte_size AS byteSize, restored_to AS restoredTo, error
       FROM removal_items WHERE batch_id = ? ORDER BY original_path`,
    ).all(batchId) as RemovalItem[];
  }

  /** Marks one item restored (at `restoredTo`) and its file present again (at that path). */
  recordRestore(item: RemovalItem, restoredTo: string): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE removal_items SET restored_to = ?, error = NULL WHERE batch_id = ? AND original_path = ?')
        .run(restoredTo, item.batchId, item.originalPath);
      if (item.fileId !== null) {
        this.db.prepare("UPDATE files SET status = 'present', path = ? WHERE id = ?").run(restoredTo, item.fileId);
      }
    })();
  }

  recordRestoreError(item: RemovalItem, error: string): void {
    this.db.prepare('UPDATE removal_items SET error = ? WHERE batch_id = ? AND original_path = ?').run(error, item.batchId, item.originalPath);
  }

  markBatchUndone(batchId: number): void {
    this.db.prepare("UPDATE removal_batches SET undone_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(batchId);
  }

  // ---- clusters ----

  saveClustering(clustering: Omit<StoredClustering, 'id' | 'createdAt'>): number {
    return this.db.transaction(() => {
      const id = Number(this.db.prepare('INSERT INTO clusterings (method, source, k, params_json) VALUES (?, ?, ?, ?)')
        .run(clustering.method, clustering.source, clustering.k, JSON.stringify(clustering.params)).lastInsertRowid);
      const insert = this.db.prepare(
        'INSERT INTO cluster_assignments (clustering_id, image_id, cluster_id, distance, representative_rank) VALUES (?, ?, ?, ?, ?)',
      );
      for (const a of clustering.assignments) insert.run(id, a.imageId, a.clusterId, a.distance, a.representativeRank);
      return id;
    })();
  }

  latestClustering(): StoredClustering | undefined {
    const head = this.db.prepare('SELECT id, method, source, k, params_json, created_at FROM clusterings ORDER BY id DESC LIMIT 1')
      .get() as { id: number; method: string; source: string; k: number; params_json: string; created_at: string } | undefined;
    if (!head) return undefined;
    const assignments = this.db.prepare(
      `SELECT image_id AS imageId, cluster_id AS clusterId, distance, representative_rank AS representativeRank
       FROM cluster_assignments WHERE clustering_id = ? ORDER BY cluster_id, distance`,
    ).all(head.id) as StoredClustering['assignments'];
    return {
      id: head.id, method: head.method, source: head.source, k: head.k,
      params: JSON.parse(head.params_json) as Record<string, unknown>, createdAt: head.created_at, assignments,
    };
  }

  // ---- maps ----

  saveMap(source: string, params: Record<string, unknown>, points: ReadonlyArray<{ imageId: number; x: number; y: number }>): number {
    return this.db.transaction(() => {
      const id = Number(this.db.prepare('INSERT INTO maps (source, params_json) VALUES (?, ?)').run(source, JSON.stringify(params)).lastInsertRowid);
      const insert = this.db.prepare('INSERT INTO map_points (map_id, image_id, x, y) VALUES (?, ?, ?, ?)');
      for (const p of points) insert.run(id, p.imageId, p.x, p.y);
      return id;
    })();
  }

  latestMap(): { id: number; source: string; createdAt: string; points: Array<{ imageId: number; x: number; y: number }> } | undefined {
    const head = this.db.prepare('SELECT id, source, created_at AS createdAt FROM maps ORDER BY id DESC LIMIT 1')
      .get() as { id: number; source: string; createdAt: string } | undefined;
    if (!head) return undefined;
    const points = this.db.prepare('SELECT image_id AS imageId, x, y FROM map_points WHERE map_id = ? ORDER BY image_id').all(head.id) as Array<{ imageId: number; x: number; y: number }>;
    return { ...head, points };
  }
}
