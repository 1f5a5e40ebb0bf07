/** The export area of the API (previews and the export job) and the pipeline job. */
import path from 'node:path';
import { checkExportTarget, exportDataset, previewExport } from '../app/export.ts';
import { runPipelineStep, PIPELINE_STEPS, type PipelineContext, type PipelineStep } from '../app/pipeline.ts';
import { resolveFolder } from '../app/ingest.ts';
import type { ParamsOut } from '../app/schemas.ts';
import { fromEngine } from './errors.ts';
import type { ExportPreview, JobRef } from './contract.ts';
import type { ServiceContext } from './service-context.ts';
import type { TrainingArea } from './training.service.ts';

export class ExportArea {
  constructor(private readonly context: ServiceContext, private readonly training: TrainingArea) {}

  async previewExport(params: ParamsOut<'previewExport'>): Promise<ExportPreview> {
    const plan = await previewExport(this.context.library, params);
    return { total: plan.images.length, splits: plan.splits, classes: plan.classes, skipped: plan.skipped, duplicatesStale: plan.duplicatesStale };
  }

  async startExport(params: ParamsOut<'startExport'>): Promise<JobRef> {
    checkExportTarget(this.context.library, params.out);
    return this.context.jobs.start('export', `Exporting to ${path.basename(path.resolve(params.out))}`, async (job) => {
      const outcome = await exportDataset(this.context.library, params, { signal: job.signal, onProgress: job.onProgress, log: job.log });
      for (const failure of outcome.errors.slice(0, 20)) job.log('warn', `${failure.path}: ${failure.reason}`);
      for (const warning of outcome.warnings) job.log('warn', warning);
      this.context.changed('duplicates');
      return { exported: outcome.exported, splits: outcome.splits, classes: outcome.classes, out: outcome.out, kept: outcome.kept, keptAside: outcome.keptAside };
    });
  }

  /** The whole pipeline as one job; a failed step is reported and the later ones still run. */
  async startPipeline(params: ParamsOut<'startPipeline'>): Promise<JobRef> {
    const folders = (params.folders ?? []).map((folder) => resolveFolder(folder));
    const steps: readonly PipelineStep[] = params.steps ?? PIPELINE_STEPS;
    return this.context.jobs.start('pipeline', 'Curating the library', async (job) => {
      const hooks = this.training.trainHooks(job);
      const pipeline: PipelineContext = {
        library: this.context.library,
        ml: this.context.ml,
        folders,
        train: params.train ?? {},
        signal: job.signal,
        onProgress: job.onProgress,
        log: job.log,
        onTrainStep: hooks.onStep,
      };
      const outcomes: Array<{ step: PipelineStep; status: 'done' | 'skipped' | 'failed'; summary: string }> = [];
      for (const step of PIPELINE_STEPS.filter((s) => steps.includes(s))) {
        job.log('info', `Pipeline: ${step}…`);
        try {
          const outcome = await runPipelineStep(step, pipeline);
          outcomes.push({ step, status: outcome.status, summary: outcome.summary });
          job.log('info', `Pipeline: ${step}: ${outcome.summary}`);
        } catch (error) {
          if (error instanceof Error && error.name === 'CancelledError') throw error;
          const message = fromEngine(error).message;
          outcomes.push({ step, status: 'failed', summary: message });
          job.log('error', `Pipeline: ${step} failed: ${message}`);
          // Later steps depend on earlier ones only loosely (curation works without a model).
        }
        this.context.changed('images', 'runs', 'embeddings', 'duplicates', 'clusters', 'map', 'flags');
      }
      return { steps: outcomes };
    });
  }
}
