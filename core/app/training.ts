/**
 * Training use cases: options → plan → run → resume, and which backends exist. The rules live
 * here once: the plan fills what the user left open (training-plan.ts), "which run to resume"
 * is RunsRepository.latestResumable, and what the pipeline does with an existing model
 * (reuse a completed one, resume an unfinished newer one, else train) is trainingDecision.
 */
import { defaultThreads } from '../common/threads.ts';
import os from 'node:os';
import { createRequire } from 'node:module';
import type { Library } from '../store/db.ts';
import { RunsRepository, type RunRow } from '../store/runs.repository.ts';
import { LibraryViewRepository } from '../store/library-view.repository.ts';
import type { BackendChoice, BackendName } from '../ml/choices.ts';
import type { TrainLibraryResult } from '../ml/train.service.ts';
import type { TrainConfig } from '../ml/trainer.ts';
import { invalid, notFound } from '../common/errors.ts';
import { planTraining as planFor, type TrainPlan } from './training-plan.ts';
import type { TrainOptionsOut } from './schemas.ts';
import type { MlLoader } from './ml.ts';
import type { RunHooks, TrainStep } from './hooks.ts';

/** Images SimCLR needs at the least (two views of two images make one contrastive batch). */
export const MIN_TRAINING_IMAGES = 2;

/** The runs of the library, as the Train screen lists them (interrupted runs as the runs table has them). */
export function listRunsOf(library: Library): ReturnType<LibraryViewRepository['runs']> {
  return new LibraryViewRepository(library.db).runs(library.dataDir, () => true);
}

/** Which device training will use and the budget it gets there, with a time estimate. */
export async function planTraining(library: Library, ml: MlLoader, options: TrainOptionsOut): Promise<TrainPlan> {
  const backend = await (await ml()).initBackend(options.backend ?? 'auto');
  const images = new LibraryViewRepository(library.db).counts().images;
  const threads = options.threads ?? defaultThreads();
  return planFor({ backend: backend.backend, device: backend.device, softwareDevice: backend.softwareDevice, threads }, images, listRunsOf(library), options);
}

/** The trainer's configuration for a new run from a plan and the user's options. */
function configOf(plan: TrainPlan, options: TrainOptionsOut): Partial<TrainConfig> {
  return {
    arch: plan.options.arch as TrainConfig['arch'],
    sizePx: plan.options.sizePx,
    batchSize: plan.options.batchSize,
    steps: plan.options.steps,
    // The plan's temperature: the user's, else the device class's default (training-plan.ts).
    ...(plan.options.temperature !== undefined ? { temperature: plan.options.temperature } : {}),
    ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
    ...(options.optimizer !== undefined ? { optimizer: options.optimizer } : {}),
    ...(options.checkpointEverySteps !== undefined ? { checkpointEverySteps: options.checkpointEverySteps } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
}

/** Refuses training a library too small for SimCLR. */
export function checkTrainable(library: Library): void {
  const images = new LibraryViewRepository(library.db).counts().images;
  if (images < MIN_TRAINING_IMAGES) throw invalid(`Training needs at least ${MIN_TRAINING_IMAGES} images: add a folder of photos first.`);
}

export interface TrainHooks extends RunHooks {
  onStep?: (step: TrainStep) => void;
  /** Told the plan before the first step (the log line and `train` say which device and how long). */
  onPlan?: (plan: TrainPlan) => void;
}

/** Runs the trainer; step events carry the id of the run being trained. */
async function runTrainer(library: Library, ml: MlLoader, request: { backend: BackendChoice; resume: boolean; config: Partial<TrainConfig>; threads?: number }, hooks: TrainHooks): Promise<TrainLibraryResult> {
  let runId = -1;
  const { trainLibrary } = await ml();
  return trainLibrary(library, request, {
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    onStep: (event) => {
      if (runId < 0) runId = new RunsRepository(library.db).list().find((run) => run.status === 'running')?.id ?? -1;
      const step: TrainStep = { runId, step: event.step, stepsTotal: event.stepsTotal, loss: event.loss, learningRate: event.learningRate, imagesPerS: event.imagesPerS ?? null, etaS: event.etaS ?? null };
      if (event.gauge) step.gauge = { step: event.gauge.step, top1: event.gauge.top1, alignment: event.gauge.alignment, uniformity: event.gauge.uniformity, pixelsTop1: event.gauge.pixelsTop1, heldOut: event.gauge.images, stoppedHelping: event.gauge.stoppedHelping };
      hooks.onStep?.(step);
    },
  });
}

/** Trains a new run: plan (the device's default budget, the user's options win), then the trainer. */
export async function trainNewRun(library: Library, ml: MlLoader, options: TrainOptionsOut, hooks: TrainHooks = {}): Promise<TrainLibraryResult> {
  checkTrainable(library);
  const plan = await planTraining(library, ml, options);
  hooks.onPlan?.(plan);
  return runTrainer(library, ml, { backend: options.backend ?? 'auto', resume: false, config: configOf(plan, options), ...(options.threads !== undefined ? { threads: options.threads } : {}) }, hooks);
}

/**
 * The run "resume" continues: the newest unfinished run with a checkpoint. With `runId`, that
 * run must be the one (only the newest unfinished run can resume, so two never share a checkpoint).
 */
export function runToResume(library: Library, runId?: number): RunRow {
  const runs = new RunsRepository(library.db);
  const resumable = runs.latestResumable();
  if (runId === undefined) {
    if (!resumable) throw invalid('There is no stopped run to resume; start a new one.');
    return resumable;
  }
  const run = runs.byId(runId);
  if (!run) throw notFound(`There is no run ${runId}.`);
  if (run.status === 'completed') throw invalid(`Run ${runId} is already complete.`);
  if (!run.checkpointPath) throw invalid(`Run ${runId} never saved a checkpoint, so it cannot be resumed; start a new run.`);
  if (resumable && resumable.id !== runId) throw invalid(`Only the most recent unfinished run (#${resumable.id}) can be resumed.`);
  return run;
}

/** Continues a stopped run from its checkpoint (runToResume picks or checks which). */
export async function resumeRun(library: Library, ml: MlLoader, options: { runId?: number; backend?: BackendChoice; threads?: number }, hooks: TrainHooks = {}): Promise<TrainLibraryResult> {
  runToResume(library, options.runId);
  return runTrainer(library, ml, { backend: options.backend ?? 'auto', resume: true, config: {}, ...(options.threads !== undefined ? { threads: options.threads } : {}) }, hooks);
}

/** What a pipeline run does about training, given the runs so far. */
export type TrainingDecision = { action: 'reuse'; run: RunRow } | { action: 'resume'; run: RunRow } | { action: 'train' };

/** A completed run newer than any unfinished one is reused; an unfinished newer one resumes; else train. */
export function trainingDecision(library: Library): TrainingDecision {
  const runs = new RunsRepository(library.db);
  const completed = runs.list().find((run) => run.status === 'completed');
  const unfinished = runs.latestResumable();
  if (completed && (!unfinished || unfinished.id < completed.id)) return { action: 'reuse', run: completed };
  if (unfinished) return { action: 'resume', run: unfinished };
  return { action: 'train' };
}

/** One backend as the Train screen lists it. */
export interface BackendAvailability {
  name: BackendName;
  available: boolean;
  device: string | null;
  reason: string | null;
}

/** Every backend, whether its package is installed, and the device of the one in use. */
export async function listBackends(ml: MlLoader): Promise<BackendAvailability[]> {
  const require = createRequire(import.meta.url);
  const installed = (name: string): boolean => {
    try {
      require.resolve(name);
      return true;
    } catch {
      return false;
    }
  };
  const active = (await ml()).activeBackend();
  const skippedReason = (name: string): string | null => active?.skipped.find((line) => line.startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? null;
  const deviceOf = (name: BackendName): string | null => (active?.backend === name ? active.device : null);
  const cpu = `${os.cpus()[0]?.model.trim() ?? 'CPU'} (${os.cpus().length} cores)`;
  const tensorflow = installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node');
  const webgpu = installed('webgpu');
  return [
    { name: 'tensorflow', available: tensorflow, device: deviceOf('tensorflow'), reason: tensorflow ? skippedReason('tensorflow') : 'TensorFlow for Node is not installed (an optional download when installing Looktwice).' },
    { name: 'webgpu', available: webgpu, device: deviceOf('webgpu'), reason: webgpu ? skippedReason('webgpu') : 'The WebGPU runtime (Dawn) is not installed.' },
    { name: 'wasm', available: true, device: deviceOf('wasm') ?? `${cpu}, WebAssembly`, reason: null },
    { name: 'cpu', available: true, device: deviceOf('cpu') ?? `${cpu}, plain JavaScript (slow)`, reason: null },
  ];
}
