/**
 * Trains SimCLR on a library: builds the training cache from the catalogue, records the run
 * (config, backend, device) in the runs table, trains with checkpoints under
 * `<dataDir>/checkpoints/run-<id>/`, stores per-step metrics, and marks the run completed,
 * stopped (cancelled; resumable with `resume`) or failed (with the error).
 */
import path from 'node:path';
import { CancelledError, type ProgressListener } from '../common/progress.ts';
import type { Library } from '../store/db.ts';
import { RunsRepository, type RunGaugeReading, type RunMetric } from '../store/runs.repository.ts';
import { TrainingImagesRepository } from '../store/training-images.repository.ts';
import { initBackend, type BackendChoice, type BackendInfo } from './backend.ts';
import { loadTrainingImages } from './training-cache.ts';
import { defaultTrainConfig, trainSimclr, type TrainConfig, type TrainStepEvent } from './trainer.ts';
import type { TrainingGaugeEvent } from './training-gauge.ts';

export interface TrainLibraryRequest {
  backend?: BackendChoice;
  /** Overrides of the default configuration (arch, sizePx, batchSize, steps, temperature, …). */
  config?: Partial<TrainConfig>;
  /** Alternative to config.steps: passes over the library. */
  epochs?: number;
  /** Continue the newest stopped (or unfinished) run from its checkpoint instead of starting a new one. */
  resume?: boolean;
  /** Training threads (default: one per core); not part of the run's configuration — any count trains the same model. */
  threads?: number;
}

export interface TrainLibraryResult {
  run: number;
  /** The backend, its device saying how many training threads ran (and why one, when fewer were asked for). */
  backend: BackendInfo;
  threads: number;
  steps: number;
  finalLoss: number | null;
  imagesPerS: number;
  stopped: boolean;
  images: number;
  failed: Array<{ imageId: number; path: string; reason: string }>;
  /** The quality gauge's last reading (null on a library too small to hold images out for it). */
  gauge: RunGaugeReading | null;
}

/** About 20 gauge readings over a run (each costs two forward passes over the held-out images). */
function gaugeEverySteps(steps: number): number {
  return Math.max(1, Math.round(steps / 20));
}

function gaugeReading(event: TrainingGaugeEvent): RunGaugeReading {
  return { step: event.step, top1: event.top1, alignment: event.alignment, uniformity: event.uniformity, pixelsTop1: event.pixelsTop1, heldOut: event.images, stoppedHelping: event.stoppedHelping };
}

/** Metrics are written in small transactions rather than one per step. */
const METRICS_FLUSH_EVERY = 10;

export async function trainLibrary(
  library: Library,
  request: TrainLibraryRequest,
  options: { signal?: AbortSignal; onProgress?: ProgressListener; onStep?: (event: TrainStepEvent) => void } = {},
): Promise<TrainLibraryResult> {
  const runs = new RunsRepository(library.db);
  const backend = await initBackend(request.backend ?? 'auto');
  const sources = new TrainingImagesRepository(library.db).list();
  if (sources.length < 2) throw new Error(`the library has ${sources.length} image(s); SimCLR needs at least 2 — ingest a folder first`);

  let runId: number | null = null;
  let config: TrainConfig;
  if (request.resume) {
    const previous = runs.latestResumable(); // the one rule, also core/app/training.ts's runToResume
    if (!previous) throw new Error('there is no stopped run to resume; start a new one without --resume');
    runId = previous.id;
    const saved = previous.config as unknown as TrainConfig;
    config = { ...saved, ...(request.config?.steps !== undefined ? { steps: request.config.steps } : {}) };
  } else {
    const overrides: Partial<TrainConfig> & { epochs?: number; imageCount?: number } = { ...request.config };
    if (request.epochs !== undefined) {
      overrides.epochs = request.epochs;
      overrides.imageCount = sources.length;
    }
    config = defaultTrainConfig(overrides);
  }

  const cacheOptions: { signal?: AbortSignal; onProgress?: ProgressListener } = {};
  if (options.signal) cacheOptions.signal = options.signal;
  if (options.onProgress) cacheOptions.onProgress = options.onProgress;
  const images = await loadTrainingImages(library.dataDir, sources, config.sizePx, cacheOptions);
  if (images.count < 2) throw new Error(`only ${images.count} image(s) could be decoded for training; SimCLR needs at least 2`);

  if (runId === null) {
    runId = runs.create({ config, backend: backend.backend, device: backend.device, stepsTotal: config.steps });
  } else {
    runs.resume(runId, { backend: backend.backend, device: backend.device, stepsTotal: config.steps });
  }
  const checkpointRelpath = `checkpoints/run-${runId}`;
  const checkpointDir = path.join(library.dataDir, 'checkpoints', `run-${runId}`);
  runs.setCheckpointPath(runId, checkpointRelpath);

  const pending: RunMetric[] = [];
  const flush = (): void => {
    runs.recordSteps(runId!, pending);
    pending.length = 0;
  };
  try {
    const trainOptions: Parameters<typeof trainSimclr>[2] = {
      checkpointDir,
      resume: Boolean(request.resume),
      gauge: { everySteps: gaugeEverySteps(config.steps) },
      onGauge: (event) => runs.recordGauge(runId!, gaugeReading(event)),
      onStep: (event) => {
        pending.push({ step: event.step, loss: event.loss, imagesPerS: event.imagesPerS ?? null, learningRate: event.learningRate });
        if (pending.length >= METRICS_FLUSH_EVERY) flush();
        options.onStep?.(event);
      },
    };
    if (options.signal) trainOptions.signal = options.signal;
    if (options.onProgress) trainOptions.onProgress = options.onProgress;
    if (request.threads !== undefined) trainOptions.threads = request.threads;
    const result = await trainSimclr(images, config, trainOptions);
    flush();
    const threadsText = result.threads > 1 ? `${result.threads} training threads` : `1 training thread${result.threadsNote ? ` (${result.threadsNote})` : ''}`;
    const used: BackendInfo = { ...backend, device: `${backend.device}, ${threadsText}` };
    // Record the device as trained, now that the thread count is known.
    runs.resume(runId, { backend: used.backend, device: used.device, stepsTotal: config.steps });
    runs.finish(runId, { status: result.stopped ? 'stopped' : 'completed', stepsDone: result.stepsDone, finalLoss: result.finalLoss, imagesPerS: result.imagesPerS });
    return { run: runId, backend: used, threads: result.threads, steps: result.stepsDone, finalLoss: result.finalLoss, imagesPerS: result.imagesPerS, stopped: result.stopped, images: images.count, failed: images.failed, gauge: result.gauge.length > 0 ? gaugeReading(result.gauge.at(-1)!) : null };
  } catch (error) {
    flush();
    const cancelled = error instanceof CancelledError;
    const row = runs.byId(runId);
    runs.finish(runId, { status: cancelled ? 'stopped' : 'failed', stepsDone: row?.stepsDone ?? 0, finalLoss: row?.finalLoss ?? null, imagesPerS: row?.imagesPerS ?? null, error: cancelled ? undefined : (error as Error).message });
    throw error;
  }
}
