/**
 * Training runs (one SimCLR encoder each) and their per-step metrics. A run's config, backend and
 * device are recorded when it starts; steps, loss and throughput as it goes; status at the end.
 */
import type { Db } from './db.ts';
import type { RunColumns, RunGaugeReading, RunStatus } from './view-shapes.ts';

export type { RunGaugeReading, RunStatus } from './view-shapes.ts';

export interface RunRow extends RunColumns {
  config: Record<string, unknown>;
  /** Relative to the library's data folder. */
  checkpointPath: string | null;
  error: string | null;
}

export interface RunMetric {
  step: number;
  loss: number;
  imagesPerS: number | null;
  learningRate: number | null;
}

interface RawRun {
  id: number;
  status: RunStatus;
  config_json: string;
  backend: string;
  device: string;
  started_at: string;
  finished_at: string | null;
  steps_done: number;
  steps_total: number | null;
  final_loss: number | null;
  images_per_s: number | null;
  checkpoint_path: string | null;
  error: string | null;
}

function toRun(raw: RawRun): RunRow {
  return {
    id: raw.id,
    status: raw.status,
    config: JSON.parse(raw.config_json) as Record<string, unknown>,
    backend: raw.backend,
    device: raw.device,
    startedAt: raw.started_at,
    finishedAt: raw.finished_at,
    stepsDone: raw.steps_done,
    stepsTotal: raw.steps_total,
    finalLoss: raw.final_loss,
    imagesPerS: raw.images_per_s,
    checkpointPath: raw.checkpoint_path,
    error: raw.error,
  };
}

export class RunsRepository {
  constructor(private readonly db: Db) {}

  /** Records a new run as 'running' and returns its id. */
  create(run: { config: object; backend: string; device: string; stepsTotal: number }): number {
    const result = this.db
      .prepare("INSERT INTO runs (status, config_json, backend, device, steps_total) VALUES ('running', ?, ?, ?, ?)")
      .run(JSON.stringify(run.config), run.backend, run.device, run.stepsTotal);
    return Number(result.lastInsertRowid);
  }

  byId(id: number): RunRow | undefined {
    const raw = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    return raw && toRun(raw);
  }

  /** Newest first. */
  list(): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RawRun[]).map(toRun);
  }

  /** The newest run with a checkpoint (any status), or undefined. */
  latestWithCheckpoint(statuses: readonly RunStatus[] = ['completed', 'stopped', 'running', 'failed']): RunRow | undefined {
    const raw = this.db
      .prepare(`SELECT * FROM runs WHERE checkpoint_path IS NOT NULL AND status IN (${statuses.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT 1`)
      .get(...statuses) as RawRun | undefined;
    return raw && toRun(raw);
  }

  /**
   * Which run "resume" continues: the newest run that saved a checkpoint and did not complete.
   * The one definition of that rule (the API, the CLI and the pipeline all ask here).
   */
  latestResumable(): RunRow | undefined {
    return this.list().find((run) => run.checkpointPath !== null && run.status !== 'completed');
  }

  /** Marks a stopped/failed run as running again (resume), with a possibly new backend/device and total. */
  resume(id: number, update: { backend: string; device: string; stepsTotal: number }): void {
    this.db
      .prepare("UPDATE runs SET status = 'running', backend = ?, device = ?, steps_total = ?, finished_at = NULL, error = NULL WHERE id = ?")
      .run(update.backend, update.device, update.stepsTotal, id);
  }

  setCheckpointPath(id: number, relpath: string): void {
    this.db.prepare('UPDATE runs SET checkpoint_path = ? WHERE id = ?').run(relpath, id);
  }

  /** Appends metrics (one transaction) and updates the run's progress columns. */
  recordSteps(id: number, metrics: readonly RunMetric[]): void {
    if (metrics.length === 0) return;
    const insert = this.db.prepare(
      'INSERT OR REPLACE INTO run_metrics (run_id, step, loss, images_per_s, learning_rate) VALUES (?, ?, ?, ?, ?)',
    );
    const last = metrics[metrics.length - 1]!;
    this.db.transaction(() => {
      for (const m of metrics) insert.run(id, m.step, m.loss, m.imagesPerS, m.learningRate);
      this.db.prepare('UPDATE runs SET steps_done = ?, final_loss = ?, images_per_s = coalesce(?, images_per_s) WHERE id = ?').run(last.step, last.loss, last.imagesPerS, id);
    })();
  }

  /** Ends a run with its final numbers. */
  finish(id: number, result: { status: Exclude<RunStatus, 'running'>; stepsDone: number; finalLoss: number | null; imagesPerS: number | null; error?: string }): void {
    this.db
      .prepare(
        `UPDATE runs SET status = ?, steps_done = ?, final_loss = ?, images_per_s = ?, error = ?,
                finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`,
      )
      .run(result.status, result.stepsDone, result.finalLoss, result.imagesPerS, result.error ?? null, id);
  }

  /** Stores one quality-gauge reading of a run (replacing one at the same step, e.g. after a resume). */
  recordGauge(id: number, reading: RunGaugeReading): void {
    this.db
      .prepare('INSERT OR REPLACE INTO run_gauge (run_id, step, top1, alignment, uniformity, pixels_top1, held_out, stopped_helping) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, reading.step, reading.top1, reading.alignment, reading.uniformity, reading.pixelsTop1, reading.heldOut, reading.stoppedHelping ? 1 : 0);
  }

  /** The run's quality-gauge readings, by step. */
  gauge(id: number): RunGaugeReading[] {
    const rows = this.db.prepare('SELECT step, top1, alignment, uniformity, pixels_top1, held_out, stopped_helping FROM run_gauge WHERE run_id = ? ORDER BY step').all(id) as Array<{
      step: number;
      top1: number;
      alignment: number;
      uniformity: number;
      pixels_top1: number;
      held_out: number;
      stopped_helping: number;
    }>;
    return rows.map((r) => ({ step: r.step, top1: r.top1, alignment: r.alignment, uniformity: r.uniformity, pixelsTop1: r.pixels_top1, heldOut: r.held_out, stoppedHelping: r.stopped_helping === 1 }));
  }

  metrics(id: number): RunMetric[] {
    return (this.db.prepare('SELECT step, loss, images_per_s, learning_rate FROM run_metrics WHERE run_id = ? ORDER BY step').all(id) as Array<{ step: number; loss: number; images_per_s: number | null; learning_rate: number | null }>).map((r) => ({
      step: r.step,
      loss: r.loss,
      imagesPerS: r.images_per_s,
      learningRate: r.learning_rate,
    }));
  }
}
