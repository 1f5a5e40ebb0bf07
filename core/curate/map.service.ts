/**
 * The 2-D map of the library: UMAP (McInnes, Healy & Melville 2018, via umap-js) of the
 * curation vectors with cosine distance. For large libraries UMAP is fitted on a random sample
 * and the remaining images are placed with umap.transform, which keeps the cost bounded.
 * Coordinates are stored (maps, map_points) for the UI.
 */
import { UMAP } from 'umap-js';
import type { Db } from '../store/db.ts';
import { CurateRepository } from '../store/curate.repository.ts';
import { CancelledError, throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { curationVectors } from './vectors.ts';
import { seededRandom } from '../common/random.ts';
import { dotVectors } from '../common/vectors.ts';

export interface MapOptions {
  /** Fit on at most this many images; the rest are transformed (default 4000). */
  fitSample?: number;
  neighbours?: number;
  minDistance?: number;
  seed?: number;
  dataDir?: string;
  embeddingRunId?: number | false;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface MapResult {
  mapId: number;
  source: string;
  points: Array<{ imageId: number; x: number; y: number }>;
}

function cosineDistance(a: number[], b: number[]): number {
  return 1 - dotVectors(a, b); // rows are unit length
}

/** Computes and stores the 2-D map of every present image. */
export async function computeMap(db: Db, options: MapOptions = {}): Promise<MapResult> {
  const data = await curationVectors(db, { dataDir: options.dataDir, embeddingRunId: options.embeddingRunId, signal: options.signal, onProgress: options.onProgress });
  const n = data.imageIds.length;
  const dim = data.dim;
  const rows: number[][] = Array.from({ length: n }, (_, i) => Array.from(data.vectors.subarray(i * dim, (i + 1) * dim)));
  const random = seededRandom(options.seed ?? 42);
  let coordinates: number[][];
  const params = { fitSample: options.fitSample ?? 4000, neighbours: options.neighbours ?? 15, minDistance: options.minDistance ?? 0.1, seed: options.seed ?? 42 };
  if (n < 4) {
    // UMAP needs a neighbourhood; a handful of images get a line.
    coordinates = rows.map((_, i) => [i, 0]);
  } else {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const fitCount = Math.min(n, params.fitSample);
    const fitRows = order.slice(0, fitCount);
    const umap = new UMAP({
      nComponents: 2,
      nNeighbors: Math.min(params.neighbours, fitCount - 1),
      minDist: params.minDistance,
      distanceFn: cosineDistance,
      random,
    });
    const epochs = umap.initializeFit(fitRows.map((i) => rows[i]!));
    await new Promise<void>((resolve, reject) => {
      // Step the optimiser in slices so progress shows and Ctrl-C stops it.
      const step = (): void => {
        try {
          throwIfCancelled(options.signal);
          let epoch = 0;
          for (let s = 0; s < 10; s++) epoch = umap.step();
          options.onProgress?.({ phase: 'map:fit', done: Math.min(epoch, epochs), total: epochs });
          if (epoch >= epochs) resolve();
          else setImmediate(step);
        } catch (error) {
          reject(error instanceof CancelledError ? error : new Error(`UMAP failed: ${(error as Error).message}`));
        }
      };
      step();
    });
    coordinates = new Array<number[]>(n);
    const embedding = umap.getEmbedding();
    fitRows.forEach((row, i) => (coordinates[row] = embedding[i]!));
    const rest = order.slice(fitCount);
    const chunk = 2000;
    for (let start = 0; start < rest.length; start += chunk) {
      throwIfCancelled(options.signal);
      const part = rest.slice(start, start + chunk);
      const placed = umap.transform(part.map((i) => rows[i]!));
      part.forEach((row, i) => (coordinates[row] = placed[i]!));
      options.onProgress?.({ phase: 'map:transform', done: Math.min(rest.length, start + chunk), total: rest.length });
    }
  }
  const points = data.imageIds.map((imageId, i) => ({ imageId, x: coordinates[i]![0] ?? 0, y: coordinates[i]![1] ?? 0 }));
  const mapId = new CurateRepository(db).saveMap(data.source, params, points);
  return { mapId, source: data.source, points };
}
