/**
 * The whole pipeline as steps — ingest → train → embed → duplicates → clusters → map → flags —
 * shared by the app's "do everything" job (service.startPipeline) and `looktwice curate`. Each
 * step is incremental, so running the pipeline again continues where the last run stopped:
 * ingest skips unchanged files, training resumes a stopped run (or keeps a finished one),
 * embedding only embeds what is missing.
 */
import type { Library } from '../store/db.ts';
import type { ProgressListener } from '../common/progress.ts';
import { throwIfCancelled } from '../common/progress.ts';
import { FilesRepository } from '../store/files.repository.ts';
import { RunsRepository } from '../store/runs.repository.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { ingestFolders, type IngestReport } from '../library/ingest.service.ts';
import type { BackendChoice } from '../ml/backend.ts';
import type { TrainLibraryResult } from '../ml/train.service.ts';
import { loadMl } from './ml-loader.ts';
import { findDuplicateGroups } from '../curate/duplicates.ts';
import { clusterLibrary } from '../curate/clusters.service.ts';
import { computeMap } from '../curate/map.service.ts';
import { computeFlags } from '../curate/flags.service.ts';
import type { PipelineStep, RunSummary, TrainOptions, TrainPlan } from './contract.ts';
import { planTraining } from './training-plan.ts';
import { LibraryViewRepository } from './library-view.repository.ts';
import { formatSeconds } from './format-seconds.ts';

export const PIPELINE_STEPS: readonly PipelineStep[] = ['ingest', 'train', 'embed', 'duplicates', 'clusters', 'map', 'flags'];

export interface PipelineContext {
  library: Library;
  /** Folders to ingest; empty: rescan the library's folders. */
  folders: string[];
  train: TrainOptions;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Every training step (the UI's live chart). */
  onTrainStep?: (event: { runId: number; step: number; stepsTotal: number; loss: number; learningRate: number; imagesPerS: number | null; etaS: number | null }) => void;
}

export interface StepOutcome {
  status: 'done' | 'skipped';
  /** One line for people. */
  summary: string;
  /** The step's machine-readable result (curate --json). */
  json: unknown;
  /** Extra human lines (e.g. failed files). */
  details?: string[];
}

function runsOf(library: Library): RunSummary[] {
  return new LibraryViewRepository(library.db).runs(library.dataDir, () => true);
}

/** Which device training will use and how long the default budget takes there (said before starting). */
export async function trainingPlan(library: Library, options: TrainOptions): Promise<TrainPlan> {
  const backend = await (await loadMl()).initBackend((options.backend ?? 'auto') as BackendChoice);
  const images = new LibraryViewRepository(library.db).counts().images;
  return planTraining({ backend: backend.backend, device: backend.device, softwareDevice: backend.softwareDevice }, images, runsOf(library), options);
}

/** Runs one step of the pipeline. Throws CancelledError when the signal fires. */
export async function runPipelineStep(step: PipelineStep, context: PipelineContext): Promise<StepOutcome> {
  const { library } = context;
  const common = { signal: context.signal, onProgress: context.onProgress };
  throwIfCancelled(context.signal);
  switch (step) {
    case 'ingest': {
      const folders = context.folders.length > 0 ? context.folders : new FilesRepository(library.db).folders().map((folder) => folder.path);
      if (folders.length === 0) return { status: 'skipped', summary: 'no folders to scan', json: null };
      const report: IngestReport = await ingestFolders(library, folders, common);
      throwIfCancelled(context.signal);
      const summary = `${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.moved} moved, ${report.missing} missing, ${report.failed.length} failed`;
      return {
        status: 'done',
        summary,
        json: { added: report.added, updated: report.updated, unchanged: report.unchanged, moved: report.moved, missing: report.missing, failed: report.failed },
        details: report.failed.slice(0, 20).map((f) => `  ${f.path}: ${f.reason}`),
      };
    }
    case 'train': {
      const runs = new RunsRepository(library.db).list();
      const completed = runs.find((run) => run.status === 'completed');
      const unfinished = runs.find((run) => run.status !== 'completed' && run.checkpointPath);
      if (completed && (!unfinished || unfinished.id < completed.id)) {
        return { status: 'skipped', summary: `using the trained model of run ${completed.id}`, json: { run: completed.id, resumed: false, skipped: true } };
      }
      const plan = await trainingPlan(library, context.train);
      if (plan.images < 2) return { status: 'skipped', summary: 'fewer than 2 images: nothing to train on', json: null };
      const resume = unfinished !== undefined;
      context.log(
        'info',
        resume
          ? `Resuming run ${unfinished.id} on ${plan.backend} (${plan.device}).`
          : `Training ${plan.options.arch} at ${plan.options.sizePx} px for ${plan.options.steps} steps (batch ${plan.options.batchSize}) on ${plan.backend} (${plan.device}); about ${formatSeconds(plan.estimatedSeconds)}.`,
      );
      let runId = -1;
      const { trainLibrary } = await loadMl();
      const result: TrainLibraryResult = await trainLibrary(
        library,
        {
          backend: (context.train.backend ?? 'auto') as BackendChoice,
          resume,
          config: resume ? {} : { arch: plan.options.arch as 'resnet-small' | 'resnet18', sizePx: plan.options.sizePx, batchSize: plan.options.batchSize, steps: plan.options.steps, ...(context.train.temperature !== undefined ? { temperature: context.train.temperature } : {}), ...(context.train.learningRate !== undefined ? { learningRate: context.train.learningRate } : {}), ...(context.train.seed !== undefined ? { seed: context.train.seed } : {}) },
        },
        {
          ...common,
          onStep: (event) => {
            if (runId < 0) runId = new RunsRepository(library.db).list().find((run) => run.status === 'running')?.id ?? -1;
            context.onTrainStep?.({ runId, step: event.step, stepsTotal: event.stepsTotal, loss: event.loss, learningRate: event.learningRate, imagesPerS: event.imagesPerS ?? null, etaS: event.etaS ?? null });
          },
        },
      );
      throwIfCancelled(context.signal);
      const summary = `run ${result.run}: ${result.steps} steps on ${result.backend.backend} (${result.backend.device}), loss ${result.finalLoss?.toFixed(4) ?? '—'}, ${result.imagesPerS.toFixed(1)} images/s${result.stopped ? ' (stopped; run again to continue)' : ''}`;
      return {
        status: 'done',
        summary,
        json: { run: result.run, backend: result.backend.backend, device: result.backend.device, steps: result.steps, final_loss: result.finalLoss, images_per_s: result.imagesPerS, stopped: result.stopped },
      };
    }
    case 'embed': {
      const runs = new RunsRepository(library.db);
      const run = runs.latestWithCheckpoint(['completed', 'stopped']);
      if (!run) return { status: 'skipped', summary: 'no trained model yet', json: null };
      const missing = new EmbeddingsRepository(library.db).imagesMissing(run.id).length;
      if (missing === 0) return { status: 'skipped', summary: `every image already embedded by run ${run.id}`, json: { run: run.id, embedded: 0 } };
      const { embedLibrary } = await loadMl();
      const result = await embedLibrary(library, { runId: run.id, ...common });
      throwIfCancelled(context.signal);
      return { status: 'done', summary: `${result.embedded} images embedded by run ${result.run} (${result.dim}-d)`, json: { embedded: result.embedded, run: result.run, dim: result.dim } };
    }
    case 'duplicates': {
      const groups = await findDuplicateGroups(library.db, { dataDir: library.dataDir, ...common });
      const exact = groups.filter((g) => g.kind === 'exact').length;
      const extra = groups.reduce((sum, g) => sum + g.members.length - 1, 0);
      return { status: 'done', summary: `${groups.length} groups (${exact} exact, ${groups.length - exact} near), ${extra} extra copies`, json: { groups: groups.length, exact, near: groups.length - exact, extra } };
    }
    case 'clusters': {
      const result = await clusterLibrary(library.db, { dataDir: library.dataDir, ...common });
      const clusters = result.clusters.filter((c) => c.id >= 0).length;
      return { status: 'done', summary: `${clusters} clusters (${result.how}) from ${result.source}`, json: { clusters, method: result.method, source: result.source } };
    }
    case 'map': {
      const result = await computeMap(library.db, { dataDir: library.dataDir, ...common });
      return { status: 'done', summary: `${result.points.length} points from ${result.source}`, json: { points: result.points.length, source: result.source } };
    }
    case 'flags': {
      const flags = await computeFlags(library.db, { dataDir: library.dataDir, ...common });
      const byKind: Record<string, number> = {};
      for (const image of flags) for (const kind of image.flags) byKind[kind] = (byKind[kind] ?? 0) + 1;
      const flagged = flags.filter((image) => image.flags.length > 0).length;
      const kinds = Object.entries(byKind).map(([kind, n]) => `${kind} ${n}`).join(', ');
      return { status: 'done', summary: `${flagged} images flagged${kinds ? ` (${kinds})` : ''}`, json: { flagged, byKind } };
    }
  }
}
