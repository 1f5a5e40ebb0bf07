/**
 * The shapes the store's read model returns, declared once: core/api/contract.ts re-exports them
 * under the contract's names (ImageSummary, RunSummary, …), so what the SQL reads and what the
 * app receives cannot drift. Types only, importing nothing that needs Node: the contract (and so
 * the renderer's type check) reaches this file.
 */
import type { FlagKind } from '../common/flag-kinds.ts';

/** The label of one image: from the user, or predicted by the linear probe. */
export interface ViewLabel {
  classId: number;
  className: string;
  source: 'user' | 'probe';
  /** Probe confidence in [0, 1]; 1 for user labels. */
  confidence: number;
}

/** An image as the grid, cards and lists show it. `hash` addresses its thumbnail. */
export interface ViewImage {
  id: number;
  /** Content hash (lowercase hex); the thumbnail is fetched by this, never by path. */
  hash: string;
  /** The first present path of the image (an image may live at several paths). */
  path: string;
  fileName: string;
  width: number;
  height: number;
  /** ISO 8601 from EXIF DateTimeOriginal, or null. */
  takenAt: string | null;
  /** Quality flag kinds raised for this image (core/common/flag-kinds.ts). */
  flags: FlagKind[];
  /** Cluster id from the latest clustering, or null. */
  clusterId: number | null;
  label: ViewLabel | null;
}

/** A photo folder of the library. */
export interface ViewFolder {
  id: number;
  path: string;
  images: number;
  lastScanAt: string | null;
}

export type RunStatus = 'running' | 'stopped' | 'completed' | 'failed';

/** The columns of a training run every reader of `runs` sees (the store's row and the Train screen's). */
export interface RunColumns {
  id: number;
  status: RunStatus;
  backend: string;
  device: string;
  startedAt: string;
  finishedAt: string | null;
  stepsDone: number;
  stepsTotal: number | null;
  finalLoss: number | null;
  imagesPerS: number | null;
}

/** A training run as the Train screen lists it. */
export interface ViewRun extends RunColumns {
  arch: string | null;
  sizePx: number | null;
  /** Whether a checkpoint exists so the run can be resumed. */
  resumable: boolean;
  embedded: number;
  error: string | null;
  /** Configuration as recorded by the trainer. */
  config: Record<string, string | number | boolean | null>;
}

/**
 * One reading of the label-free quality gauge (core/ml/quality-gauge.ts) during a run: two fixed
 * augmented views of images held out of training; does each view's nearest neighbour (cosine,
 * in h) find its partner view?
 */
export interface RunGaugeReading {
  step: number;
  /** Held-out contrastive top-1 of the embedding, in [0, 1]; higher is better. */
  top1: number;
  /** Wang & Isola alignment (mean squared distance of partner views), lower is better. */
  alignment: number;
  /** Wang & Isola uniformity (log mean Gaussian potential), lower is better. */
  uniformity: number;
  /** The same top-1 of the raw pixels: the embedding is worth using when it beats this. */
  pixelsTop1: number;
  /** Images held out of training for the gauge. */
  heldOut: number;
  /** More training has stopped helping (the best of the last 3 readings gains < 0.5 points). */
  stoppedHelping: boolean;
}

/** Metrics of one run as parallel arrays (cheap to chart). */
export interface ViewRunMetrics {
  runId: number;
  step: number[];
  loss: number[];
  imagesPerS: Array<number | null>;
  learningRate: Array<number | null>;
  /** The quality gauge's readings, by step (empty for runs from before it, or tiny libraries). */
  gauge: RunGaugeReading[];
}
