/**
 * Embedding use case: which run may embed — one that finished (completed) or was stopped at a
 * checkpoint; a failed or still-running run never does — and computing the missing embeddings.
 */
import type { Library } from '../store/db.ts';
import { RunsRepository, type RunRow, type RunStatus } from '../store/runs.repository.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import type { BackendChoice } from '../ml/choices.ts';
import type { EmbedLibraryResult } from '../ml/embed.ts';
import { invalid, notFound } from '../common/errors.ts';
import type { MlLoader } from './ml.ts';
import type { RunHooks } from './hooks.ts';

/** The statuses of a run whose checkpoint is a model worth embedding with. */
export const EMBEDDABLE_STATUSES: readonly RunStatus[] = ['completed', 'stopped'];

/** The run to embed with: `runId` when it may embed, else the newest run that may. */
export function runToEmbedWith(library: Library, runId?: number): RunRow {
  const runs = new RunsRepository(library.db);
  if (runId === undefined) {
    const run = runs.latestWithCheckpoint(EMBEDDABLE_STATUSES);
    if (!run) throw invalid('There is no trained model yet: run `looktwice train` first.');
    return run;
  }
  const run = runs.byId(runId);
  if (!run) throw notFound(`There is no run ${runId}.`);
  if (!EMBEDDABLE_STATUSES.includes(run.status)) {
    throw invalid(`Run ${runId} is ${run.status}, so it has no finished model to embed with; embed with a completed or stopped run.`);
  }
  if (!run.checkpointPath) throw invalid(`Run ${runId} has no saved model to embed with.`);
  return run;
}

/** How many images the run has not embedded yet. */
export function missingEmbeddings(library: Library, runId: number): number {
  return new EmbeddingsRepository(library.db).imagesMissing(runId).length;
}

/** Embeds every image the run has not embedded yet. */
export async function embed(library: Library, ml: MlLoader, options: { runId?: number; backend?: BackendChoice; batchSize?: number }, hooks: RunHooks = {}): Promise<EmbedLibraryResult> {
  const run = runToEmbedWith(library, options.runId);
  const { embedLibrary } = await ml();
  return embedLibrary(library, {
    runId: run.id,
    ...(options.backend !== undefined ? { backend: options.backend } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    signal: hooks.signal,
    onProgress: hooks.onProgress,
  });
}
