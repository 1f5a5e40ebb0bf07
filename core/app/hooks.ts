/**
 * What a use case is given to report on itself: the cancel signal, progress, log lines and
 * training steps. The service passes a job's context; the CLI its Ctrl-C signal and progress bar.
 */
import type { ProgressListener } from '../common/progress.ts';
import type { RunGaugeReading } from '../store/runs.repository.ts';

export type LogLevel = 'info' | 'warn' | 'error';

export interface RunHooks {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  log?: (level: LogLevel, message: string) => void;
}

/** One training step, as the live chart and `train` show it. */
export interface TrainStep {
  runId: number;
  step: number;
  stepsTotal: number;
  loss: number;
  learningRate: number;
  imagesPerS: number | null;
  etaS: number | null;
  /** A quality-gauge reading taken since the previous step, if any. */
  gauge?: RunGaugeReading;
}
