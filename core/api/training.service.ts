/** The training area of the API: backends, the plan, training and resuming as jobs, runs, embedding. */
import fs from 'node:fs';
import { CancelledError } from '../common/progress.ts';
import { checkTrainable, listBackends, planTraining, resumeRun, runToResume, trainNewRun, type TrainHooks } from '../app/training.ts';
import { embed, runToEmbedWith } from '../app/embedding.ts';
import type { ParamsOut, TrainOptionsOut } from '../app/schemas.ts';
import type { TrainLibraryResult } from '../ml/train.service.ts';
import { fromEngine } from './errors.ts';
import type { BackendInfo, JobRef, RunMetrics, RunSummary, TrainPlan } from './contract.ts';
import type { JobContext } from './jobs.ts';
import type { ServiceContext } from './service-context.ts';

export class TrainingArea {
  constructor(private readonly context: ServiceContext) {}

  async listBackends(): Promise<BackendInfo[]> {
    return listBackends(this.context.ml);
  }

  async planTraining(params: ParamsOut<'planTraining'>): Promise<TrainPlan> {
    return planTraining(this.context.library, this.context.ml, params);
  }

  /** Hooks that turn a job's training steps into trainMetrics events. */
  trainHooks(job: JobContext): TrainHooks {
    return {
      signal: job.signal,
      onProgress: job.onProgress,
      log: job.log,
      onStep: (step) => this.context.events.emit('trainMetrics', { jobId: job.jobId, ...step }),
    };
  }

  private startTrainJob(title: string, train: (hooks: TrainHooks) => Promise<TrainLibraryResult>): JobRef {
    return this.context.jobs.start('train', title, async (job) => {
      this.context.changed('runs');
      const result = await train(this.trainHooks(job)).finally(() => this.context.changed('runs'));
      if (result.stopped) throw new CancelledError();
      return { runId: result.run, backend: result.backend.backend, device: result.backend.device, steps: result.steps, finalLoss: result.finalLoss, imagesPerS: result.imagesPerS };
    });
  }

  async startTraining(params: TrainOptionsOut): Promise<JobRef> {
    checkTrainable(this.context.library);
    return this.startTrainJob('Training a model', (hooks) =>
      trainNewRun(this.context.library, this.context.ml, params, {
        ...hooks,
        onPlan: (plan) => hooks.log?.('info', `Training ${plan.options.arch} at ${plan.options.sizePx} px for ${plan.options.steps} steps on ${plan.backend} (${plan.device}).`),
      }),
    );
  }

  async resumeTraining(params: ParamsOut<'resumeTraining'>): Promise<JobRef> {
    runToResume(this.context.library, params.runId);
    return this.startTrainJob(`Resuming run ${params.runId}`, (hooks) => resumeRun(this.context.library, this.context.ml, { runId: params.runId }, hooks));
  }

  async listRuns(): Promise<RunSummary[]> {
    const training = this.context.jobs.running().some((job) => job.kind === 'train' || job.kind === 'pipeline');
    return this.context.view.runs(this.context.library.dataDir, (file) => fs.existsSync(file)).map((run) => {
      if (run.status !== 'running') return run;
      // A 'running' run with no training job here was interrupted (crash, Ctrl-C): it resumes like a stopped one.
      return training ? { ...run, resumable: false } : { ...run, status: 'stopped' as const };
    });
  }

  async getRunMetrics(params: ParamsOut<'getRunMetrics'>): Promise<RunMetrics> {
    return this.context.view.runMetrics(params.runId);
  }

  async startEmbedding(params: ParamsOut<'startEmbedding'>): Promise<JobRef> {
    const run = runToEmbedWith(this.context.library, params.runId);
    return this.context.jobs.start('embed', `Embedding with run ${run.id}`, async (job) => {
      const result = await embed(this.context.library, this.context.ml, { runId: run.id }, { signal: job.signal, onProgress: job.onProgress }).catch((error: unknown) => {
        throw fromEngine(error);
      });
      for (const failure of result.failed.slice(0, 20)) job.log('warn', `${failure.path}: ${failure.reason}`);
      // New embeddings make duplicates, flags, clusters, the map and the probe stale (store triggers).
      this.context.changed('embeddings', 'runs');
      return { runId: result.run, embedded: result.embedded, dim: result.dim };
    });
  }
}
