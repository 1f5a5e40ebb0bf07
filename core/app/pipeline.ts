/**
 * The whole pipeline as steps — ingest → train → embed → duplicates → clusters → map → flags —
 * shared by the app's "do everything" job and `looktwice curate`. Each step calls its use case
 * and is incremental, so running the pipeline again continues where the last run stopped:
 * ingest skips unchanged files, training resumes a stopped run (or reuses a finished one),
 * embedding only embeds what is missing.
 */
import type { Library } from '../store/db.ts';
import { throwIfCancelled } from '../common/progress.ts';
import { ingest, ingestSummary, libraryFolders } from './ingest.ts';
import { planTraining, resumeRun, trainingDecision, trainNewRun, MIN_TRAINING_IMAGES } from './training.ts';
import { embed, missingEmbeddings } from './embedding.ts';
import { RunsRepository } from '../store/runs.repository.ts';
import { EMBEDDABLE_STATUSES } from './embedding.ts';
import { computeClusters, computeFlags, computeMap, findDuplicates } from './curation.ts';
import { formatSeconds } from './format-seconds.ts';
import type { PipelineOptionsOut, TrainOptionsOut } from './schemas.ts';
import { PIPELINE_STEPS } from './schemas.ts';
import type { MlLoader } from './ml.ts';
import type { LogLevel, RunHooks, TrainStep } from './hooks.ts';

export { PIPELINE_STEPS };
export type PipelineStep = PipelineOptionsOut extends { steps?: Array<infer S> } ? S : never;

export interface PipelineContext extends RunHooks {
  library: Library;
  ml: MlLoader;
  /** Folders to ingest; empty: rescan the library's folders. */
  folders: string[];
  train: TrainOptionsOut;
  log(level: LogLevel, message: string): void;
  /** Every training step (the UI's live chart). */
  onTrainStep?: (event: TrainStep) => void;
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

/** Runs one step of the pipeline. Throws CancelledError when the signal fires. */
export async function runPipelineStep(step: PipelineStep, context: PipelineContext): Promise<StepOutcome> {
  const { library } = context;
  const hooks: RunHooks = { signal: context.signal, onProgress: context.onProgress, log: context.log };
  throwIfCancelled(context.signal);
  switch (step) {
    case 'ingest': {
      if (context.folders.length === 0 && libraryFolders(library).length === 0) return { status: 'skipped', summary: 'no folders to scan', json: null };
      const report = await ingest(library, context.folders, hooks);
      throwIfCancelled(context.signal);
      const summary = `${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.moved} moved, ${report.missing} missing, ${report.failed.length} failed`;
      return { status: 'done', summary, json: ingestSummary(report), details: report.failed.slice(0, 20).map((f) => `  ${f.path}: ${f.reason}`) };
    }
    case 'train': {
      const decision = trainingDecision(library);
      if (decision.action === 'reuse') {
        return { status: 'skipped', summary: `using the trained model of run ${decision.run.id}`, json: { run: decision.run.id, resumed: false, skipped: true } };
      }
      const plan = await planTraining(library, context.ml, context.train);
      if (plan.images < MIN_TRAINING_IMAGES) return { status: 'skipped', summary: `fewer than ${MIN_TRAINING_IMAGES} images: nothing to train on`, json: null };
      const trainHooks = { ...hooks, onStep: context.onTrainStep };
      let result;
      if (decision.action === 'resume') {
        context.log('info', `Resuming run ${decision.run.id} on ${plan.backend} (${plan.device}).`);
        result = await resumeRun(library, context.ml, { runId: decision.run.id, backend: context.train.backend, threads: context.train.threads }, trainHooks);
      } else {
        context.log('info', `Training ${plan.options.arch} at ${plan.options.sizePx} px for ${plan.options.steps} steps (batch ${plan.options.batchSize}) on ${plan.backend} (${plan.device}); about ${formatSeconds(plan.estimatedSeconds)}.`);
        result = await trainNewRun(library, context.ml, context.train, trainHooks);
      }
      throwIfCancelled(context.signal);
      const summary = `run ${result.run}: ${result.steps} steps on ${result.backend.backend} (${result.backend.device}), loss ${result.finalLoss?.toFixed(4) ?? '—'}, ${result.imagesPerS.toFixed(1)} images/s${result.stopped ? ' (stopped; run again to continue)' : ''}`;
      return {
        status: 'done',
        summary,
        json: { run: result.run, backend: result.backend.backend, device: result.backend.device, steps: result.steps, final_loss: result.finalLoss, images_per_s: result.imagesPerS, stopped: result.stopped },
      };
    }
    case 'embed': {
      const run = new RunsRepository(library.db).latestWithCheckpoint(EMBEDDABLE_STATUSES);
      if (!run) return { status: 'skipped', summary: 'no trained model yet', json: null };
      if (missingEmbeddings(library, run.id) === 0) return { status: 'skipped', summary: `every image already embedded by run ${run.id}`, json: { run: run.id, embedded: 0 } };
      const result = await embed(library, context.ml, { runId: run.id }, hooks);
      throwIfCancelled(context.signal);
      return { status: 'done', summary: `${result.embedded} images embedded by run ${result.run} (${result.dim}-d)`, json: { embedded: result.embedded, run: result.run, dim: result.dim } };
    }
    case 'duplicates': {
      const groups = await findDuplicates(library, {}, hooks);
      const exact = groups.filter((g) => g.kind === 'exact').length;
      const extra = groups.reduce((sum, g) => sum + g.members.length - 1, 0);
      return { status: 'done', summary: `${groups.length} groups (${exact} exact, ${groups.length - exact} near), ${extra} extra copies`, json: { groups: groups.length, exact, near: groups.length - exact, extra } };
    }
    case 'clusters': {
      const result = await computeClusters(library, { k: 'auto', method: 'kmeans' }, hooks);
      const clusters = result.clusters.filter((c) => c.id >= 0).length;
      return { status: 'done', summary: `${clusters} clusters (${result.how}) from ${result.source}`, json: { clusters, method: result.method, source: result.source } };
    }
    case 'map': {
      const result = await computeMap(library, {}, hooks);
      return { status: 'done', summary: `${result.points.length} points from ${result.source}`, json: { points: result.points.length, source: result.source } };
    }
    case 'flags': {
      const result = await computeFlags(library, hooks);
      const kinds = Object.entries(result.byKind).map(([kind, n]) => `${kind} ${n}`).join(', ');
      return { status: 'done', summary: `${result.flagged} images flagged${kinds ? ` (${kinds})` : ''}`, json: { flagged: result.flagged, byKind: result.byKind } };
    }
  }
}
