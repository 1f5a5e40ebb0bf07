/**
 * The vectors curation works on: the newest run's embeddings when a model has been trained and
 * run (better), otherwise a pixel descriptor per image (works without any model): the 16×16
 * normalised grey layout plus the 4×4 colour layout, L2-normalised. One row per image with a
 * present file, ordered by image id.
 *
 * A fair baseline: when the model was not chosen explicitly and the newest run's label-free
 * quality gauge (core/ml/quality-gauge.ts) says its embedding is not better than raw pixels
 * (held-out match ≤ the pixels' match), the pixel descriptor is used instead, and `note` says why.
 */
import type { Db } from '../store/db.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { CurateRepository } from '../store/curate.repository.ts';
import { RunsRepository } from '../store/runs.repository.ts';
import { ensureFeatures, type FeatureJobOptions } from './features.service.ts';
import { normaliseRows } from '../common/vectors.ts';

export interface CurationVectors {
  /** 'embeddings:<runId>' or 'pixels'. */
  source: string;
  dim: number;
  imageIds: number[];
  vectors: Float32Array; // [N, dim], rows L2-normalised
  /** Why pixels were used although a model has embeddings (the gauge), else absent. */
  note?: string;
}

/** Weight of the colour part against the grey layout in pixel vectors. */
const COLOUR_WEIGHT = 0.5;

export async function curationVectors(db: Db, options: FeatureJobOptions & { embeddingRunId?: number | false } = {}): Promise<CurationVectors> {
  const present = new Set(new CurateRepository(db).presentFiles().map((f) => f.imageId));
  if (options.embeddingRunId !== false) {
    const embeddings = new EmbeddingsRepository(db);
    const runId = options.embeddingRunId ?? embeddings.latestRunWithEmbeddings();
    const gauge = runId !== null && options.embeddingRunId === undefined ? new RunsRepository(db).gauge(runId).at(-1) : undefined;
    if (gauge && gauge.top1 <= gauge.pixelsTop1) {
      const percent = (x: number): string => `${(x * 100).toFixed(1)} %`;
      const note = `model #${runId} is not better than raw pixels by the quality gauge (held-out match ${percent(gauge.top1)}, pixels ${percent(gauge.pixelsTop1)}), so the pixel descriptor is used; train longer or choose the model explicitly`;
      return { ...(await pixelVectors(db, present, options)), note };
    }
    if (runId !== null) {
      const matrix = embeddings.load(runId);
      const keep = matrix.imageIds.map((id, row) => [id, row] as const).filter(([id]) => present.has(id));
      const vectors = new Float32Array(keep.length * matrix.dim);
      keep.forEach(([, row], i) => vectors.set(matrix.vectors.subarray(row * matrix.dim, (row + 1) * matrix.dim), i * matrix.dim));
      return { source: `embeddings:${runId}`, dim: matrix.dim, imageIds: keep.map(([id]) => id), vectors: normaliseRows(vectors, matrix.dim) };
    }
  }
  return pixelVectors(db, present, options);
}

/** The pixel descriptor of every present image (grey layout + centred colour layout). */
async function pixelVectors(db: Db, present: Set<number>, options: FeatureJobOptions): Promise<CurationVectors> {
  const { features } = await ensureFeatures(db, options);
  const rows = [...features.values()].filter((f) => present.has(f.imageId) && f.descriptor && f.colour).sort((a, b) => a.imageId - b.imageId);
  const greyDim = rows[0]?.descriptor?.length ?? 256;
  const colourDim = rows[0]?.colour?.length ?? 48;
  const dim = greyDim + colourDim;
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((f, i) => {
    vectors.set(f.descriptor!, i * dim);
    // Colour centred on grey so that it contributes a direction, not a constant offset.
    const colour = f.colour!;
    let mean = 0;
    for (const v of colour) mean += v;
    mean /= colour.length;
    let norm = 0;
    for (const v of colour) norm += (v - mean) ** 2;
    const scale = norm > 0 ? COLOUR_WEIGHT / Math.sqrt(norm) : 0;
    for (let c = 0; c < colour.length; c++) vectors[i * dim + greyDim + c] = (colour[c]! - mean) * scale;
  });
  return { source: 'pixels', dim, imageIds: rows.map((f) => f.imageId), vectors: normaliseRows(vectors, dim) };
}
