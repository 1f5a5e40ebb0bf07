/**
 * Embeddings: one L2-normalised float32 vector per (image, run), stored as a little-endian BLOB.
 * Curation, labeling and export read them as one contiguous Float32Array [N, dim].
 */
import type { Db } from './db.ts';

/** Every embedding of one run, row-major: vectors[i*dim .. (i+1)*dim) belongs to imageIds[i]. */
export interface EmbeddingMatrix {
  runId: number;
  dim: number;
  imageIds: number[];
  vectors: Float32Array; // [N, dim]
}

function toBlob(vector: Float32Array): Buffer {
  const out = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) out.writeFloatLE(vector[i]!, i * 4);
  return out;
}

function fromBlob(blob: Buffer, target: Float32Array, offset: number, dim: number): void {
  if (blob.length !== dim * 4) throw new Error(`embedding blob has ${blob.length} bytes, expected ${dim * 4}`);
  for (let i = 0; i < dim; i++) target[offset + i] = blob.readFloatLE(i * 4);
}

export class EmbeddingsRepository {
  constructor(private readonly db: Db) {}

  /** Writes (or replaces) embeddings of one run in a single transaction. */
  upsertMany(runId: number, rows: ReadonlyArray<{ imageId: number; vector: Float32Array }>): void {
    const statement = this.db.prepare(
      'INSERT OR REPLACE INTO embeddings (image_id, run_id, dim, vector) VALUES (?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const row of rows) statement.run(row.imageId, runId, row.vector.length, toBlob(row.vector));
    })();
  }

  /** The newest run that has at least one embedding, or null when nothing is embedded yet. */
  latestRunWithEmbeddings(): number | null {
    const row = this.db
      .prepare('SELECT run_id FROM embeddings GROUP BY run_id ORDER BY max(created_at) DESC, run_id DESC LIMIT 1')
      .pluck()
      .get() as number | undefined;
    return row ?? null;
  }

  /** Image ids that have no embedding for `runId` yet (only images with a present file). */
  imagesMissing(runId: number): number[] {
    return this.db
      .prepare(
        `SELECT i.id FROM images i
         WHERE EXISTS (SELECT 1 FROM files f WHERE f.image_id = i.id AND f.status = 'present')
           AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.image_id = i.id AND e.run_id = ?)
         ORDER BY i.id`,
      )
      .pluck()
      .all(runId) as number[];
  }

  /** Loads every embedding of `runId` (images ordered by id) into one matrix. */
  load(runId: number): EmbeddingMatrix {
    const rows = this.db
      .prepare('SELECT image_id, dim, vector FROM embeddings WHERE run_id = ? ORDER BY image_id')
      .all(runId) as Array<{ image_id: number; dim: number; vector: Buffer }>;
    const dim = rows[0]?.dim ?? 0;
    const vectors = new Float32Array(rows.length * dim);
    const imageIds: number[] = [];
    rows.forEach((row, i) => {
      if (row.dim !== dim) throw new Error(`run ${runId} mixes embedding sizes ${dim} and ${row.dim}`);
      fromBlob(row.vector, vectors, i * dim, dim);
      imageIds.push(row.image_id);
    });
    return { runId, dim, imageIds, vectors };
  }
}
