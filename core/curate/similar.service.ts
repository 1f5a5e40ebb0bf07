/**
 * Similarity search: the images most like a given one, by cosine similarity of the curation
 * vectors (embeddings when present, pixel layout otherwise).
 */
import path from 'node:path';
import type { Db } from '../store/db.ts';
import { CurateRepository } from '../store/curate.repository.ts';
import type { ProgressListener } from '../common/progress.ts';
import { curationVectors } from './vectors.ts';
import { knnSearch } from './knn.ts';

export interface SimilarResult {
  source: string;
  /** Why pixels were used although a model has embeddings (it is not better by the quality gauge). */
  note?: string;
  results: Array<{ path: string; imageId: number; score: number }>;
}

/** The k images most similar to the library image at `filePath` (itself excluded). */
export async function findSimilar(db: Db, filePath: string, k: number, options: { dataDir?: string; embeddingRunId?: number | false; signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<SimilarResult> {
  const repository = new CurateRepository(db);
  const absolute = path.resolve(filePath);
  const file = repository.fileByPath(absolute);
  if (!file) throw new Error(`${absolute} is not in the library (ingest its folder first)`);
  const data = await curationVectors(db, options);
  const row = data.imageIds.indexOf(file.imageId);
  if (row < 0) throw new Error(`${absolute} has no ${data.source === 'pixels' ? 'pixel features (it could not be decoded)' : 'embedding yet (run embed)'}`);
  const query = data.vectors.slice(row * data.dim, (row + 1) * data.dim);
  const wanted = Math.min(k + 1, data.imageIds.length);
  const found = knnSearch(query, data.vectors, data.dim, wanted);
  const pathOf = new Map<number, string>();
  for (const f of repository.presentFiles()) if (!pathOf.has(f.imageId)) pathOf.set(f.imageId, f.path);
  const results: SimilarResult['results'] = [];
  for (let j = 0; j < wanted && results.length < k; j++) {
    const index = found.indices[j]!;
    if (index < 0 || index === row) continue;
    const imageId = data.imageIds[index]!;
    const p = pathOf.get(imageId);
    if (p) results.push({ path: p, imageId, score: Math.round(found.scores[j]! * 1e4) / 1e4 });
  }
  return { source: data.source, ...(data.note ? { note: data.note } : {}), results };
}
