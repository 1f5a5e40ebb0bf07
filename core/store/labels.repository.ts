/**
 * Labeling's SQL: classes, the current label of each image (user or accepted probe label), the
 * append-only label history, probe runs and the latest probe's predictions. Logic (training,
 * calibration, suggestions, export) lives in core/label/ and core/export/.
 */
import path from 'node:path';
import type { Db } from './db.ts';
import { primaryPathSql } from './primary-path.ts';

export type LabelSource = 'user' | 'probe';

export interface ClassRow {
  id: number;
  name: string;
  /** Labels set by the user. */
  userLabels: number;
  /** Accepted probe labels plus confident (not unsure) predictions of the latest probe. */
  probeLabels: number;
}

export interface LabelRow {
  imageId: number;
  classId: number;
  className: string;
  source: LabelSource;
  confidence: number;
}

export interface LabelHistoryRow {
  id: number;
  imageId: number;
  action: 'set' | 'clear' | 'accept';
  classId: number | null;
  className: string | null;
  source: LabelSource | null;
  confidence: number | null;
  previousClassName: string | null;
  at: string;
}

export interface ProbeRunRow {
  id: number;
  embeddingRunId: number | null;
  classIds: number[];
  labeled: number;
  cvAccuracy: number | null;
  temperature: number;
  unsureBelow: number;
  predicted: number;
  unsure: number;
  params: Record<string, unknown>;
  trainedAt: string;
}

export interface PredictionRow {
  imageId: number;
  classId: number;
  className: string;
  confidence: number;
  margin: number;
  unsure: boolean;
}

/** An image with its effective label (user, accepted or predicted) and where its file is. */
export interface LabeledImageRow extends LabelRow {
  /** true when the label is a prediction that was not accepted (not in the labels table). */
  predicted: boolean;
  unsure: boolean;
  contentHash: string;
  format: string;
  /** The primary path of the image (primary-path.ts), or null when no file is present. */
  path: string | null;
}

export class LabelsRepository {
  constructor(private readonly db: Db) {}

  /** Runs `work` in one transaction (nested calls become savepoints). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  // ───────────── classes ─────────────

  listClasses(): ClassRow[] {
    return this.db
      .prepare(
        `SELECT c.id, c.name,
           (SELECT count(*) FROM effective_labels e WHERE e.class_id = c.id AND e.source = 'user') AS userLabels,
           (SELECT count(*) FROM effective_labels e WHERE e.class_id = c.id AND e.source = 'probe' AND e.unsure = 0) AS probeLabels
         FROM classes c ORDER BY c.name`,
      )
      .all() as ClassRow[];
  }

  classById(id: number): { id: number; name: string } | null {
    return (this.db.prepare('SELECT id, name FROM classes WHERE id = ?').get(id) as { id: number; name: string } | undefined) ?? null;
  }

  classByName(name: string): { id: number; name: string } | null {
    return (this.db.prepare('SELECT id, name FROM classes WHERE name = ?').get(name) as { id: number; name: string } | undefined) ?? null;
  }

  /** The id of the class named `name`, creating it if needed. */
  ensureClass(name: string): number {
    this.db.prepare('INSERT INTO classes (name) VALUES (?) ON CONFLICT(name) DO NOTHING').run(name);
    return this.db.prepare('SELECT id FROM classes WHERE name = ?').pluck().get(name) as number;
  }

  renameClass(id: number, name: string): void {
    this.db.prepare('UPDATE classes SET name = ? WHERE id = ?').run(name, id);
  }

  /** Deletes a class with its labels and predictions; the history keeps the name as text. */
  deleteClass(id: number): void {
    const name = this.classById(id)?.name ?? null;
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO label_history (image_id, action, class_id, class_name, source, confidence, previous_class_name)
           SELECT image_id, 'clear', NULL, NULL, NULL, NULL, ? FROM labels WHERE class_id = ?`,
        )
        .run(name, id);
      this.db.prepare('DELETE FROM classes WHERE id = ?').run(id);
    })();
  }

  // ───────────── labels ─────────────

  /**
   * Sets the label of every image in one transaction, recording each change in the history.
   * A user label replaces whatever was there; the image's prediction is dropped (it is labeled now).
   */
  setLabels(
    imageIds: readonly number[],
    classId: number,
    options: { source: LabelSource; confidence?: number; probeRunId?: number | null; action?: 'set' | 'accept' } = { source: 'user' },
  ): number {
    const className = this.classById(classId)?.name;
    if (className === undefined) throw new Error(`no class with id ${classId}`);
    const confidence = options.source === 'user' ? 1 : (options.confidence ?? 0);
    const previous = this.db.prepare('SELECT c.name FROM labels l JOIN classes c ON c.id = l.class_id WHERE l.image_id = ?').pluck();
    const upsert = this.db.prepare(
      `INSERT INTO labels (image_id, class_id, source, confidence, probe_run_id) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(image_id) DO UPDATE SET class_id = excluded.class_id, source = excluded.source,
         confidence = excluded.confidence, probe_run_id = excluded.probe_run_id,
         labeled_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
    );
    const history = this.db.prepare(
      `INSERT INTO label_history (image_id, action, class_id, class_name, source, confidence, previous_class_name)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const dropPrediction = this.db.prepare('DELETE FROM predictions WHERE image_id = ?');
    let changed = 0;
    this.db.transaction(() => {
      for (const imageId of imageIds) {
        const before = (previous.get(imageId) as string | undefined) ?? null;
        upsert.run(imageId, classId, options.source, confidence, options.probeRunId ?? null);
        history.run(imageId, options.action ?? 'set', classId, className, options.source, confidence, before);
        dropPrediction.run(imageId);
        changed++;
      }
    })();
    return changed;
  }

  /** Clears the labels of these images (history kept); returns how many had one. */
  clearLabels(imageIds: readonly number[]): number {
    const previous = this.db.prepare('SELECT c.name FROM labels l JOIN classes c ON c.id = l.class_id WHERE l.image_id = ?').pluck();
    const remove = this.db.prepare('DELETE FROM labels WHERE image_id = ?');
    const history = this.db.prepare(
      `INSERT INTO label_history (image_id, action, previous_class_name) VALUES (?, 'clear', ?)`,
    );
    let cleared = 0;
    this.db.transaction(() => {
      for (const imageId of imageIds) {
        const before = previous.get(imageId) as string | undefined;
        if (before === undefined) continue;
        remove.run(imageId);
        history.run(imageId, before);
        cleared++;
      }
    })();
    return cleared;
  }

  /** Current labels (user and accepted), optionally only those of one source. */
  labels(source?: LabelSource): LabelRow[] {
    return this.db
      .prepare(
        `SELECT l.image_id AS imageId, l.class_id AS classId, c.name AS className, l.source, l.confidence
         FROM labels l JOIN classes c ON c.id = l.class_id
         WHERE (? IS NULL OR l.source = ?) ORDER BY l.image_id`,
      )
      .all(source ?? null, source ?? null) as LabelRow[];
  }

  /** The label history, oldest first, of one image or of all. */
  history(imageId?: number): LabelHistoryRow[] {
    return this.db
      .prepare(
        `SELECT id, image_id AS imageId, action, class_id AS classId, class_name AS className, source, confidence,
                previous_class_name AS previousClassName, at
         FROM label_history WHERE (? IS NULL OR image_id = ?) ORDER BY id`,
      )
      .all(imageId ?? null, imageId ?? null) as LabelHistoryRow[];
  }

  // ───────────── probe runs and predictions ─────────────

  /** Stores a probe run and replaces all predictions with `predictions`, in one transaction. */
  saveProbeRun(
    run: Omit<ProbeRunRow, 'id' | 'trainedAt'>,
    predictions: ReadonlyArray<{ imageId: number; classId: number; confidence: number; margin: number; unsure: boolean }>,
  ): number {
    let id = 0;
    this.db.transaction(() => {
      id = Number(
        this.db
          .prepare(
            `INSERT INTO probe_runs (embedding_run_id, class_ids_json, labeled, cv_accuracy, temperature, unsure_below, predicted, unsure, params_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(run.embeddingRunId, JSON.stringify(run.classIds), run.labeled, run.cvAccuracy, run.temperature, run.unsureBelow, run.predicted, run.unsure, JSON.stringify(run.params))
          .lastInsertRowid,
      );
      this.db.prepare('DELETE FROM predictions').run();
      const insert = this.db.prepare(
        'INSERT INTO predictions (image_id, probe_run_id, class_id, confidence, margin, unsure) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const p of predictions) insert.run(p.imageId, id, p.classId, p.confidence, p.margin, p.unsure ? 1 : 0);
    })();
    return id;
  }

  latestProbeRun(): ProbeRunRow | null {
    const row = this.db
      .prepare(
        `SELECT id, embedding_run_id AS embeddingRunId, class_ids_json, labeled, cv_accuracy AS cvAccuracy, temperature,
                unsure_below AS unsureBelow, predicted, unsure, params_json, trained_at AS trainedAt
         FROM probe_runs ORDER BY id DESC LIMIT 1`,
      )
      .get() as (Omit<ProbeRunRow, 'classIds' | 'params'> & { class_ids_json: string; params_json: string }) | undefined;
    if (!row) return null;
    const { class_ids_json: classIdsJson, params_json: paramsJson, ...rest } = row;
    return { ...rest, classIds: JSON.parse(classIdsJson) as number[], params: JSON.parse(paramsJson) as Record<string, unknown> };
  }

  /** Predictions of the latest probe, optionally of one class at or above a confidence. */
  predictions(filter: { classId?: number; minConfidence?: number } = {}): PredictionRow[] {
    const rows = this.db
      .prepare(
        `SELECT p.image_id AS imageId, p.class_id AS classId, c.name AS className, p.confidence, p.margin, p.unsure
         FROM predictions p JOIN classes c ON c.id = p.class_id
         WHERE (? IS NULL OR p.class_id = ?) AND p.confidence >= ?
         ORDER BY p.confidence DESC, p.image_id`,
      )
      .all(filter.classId ?? null, filter.classId ?? null, filter.minConfidence ?? 0) as Array<Omit<PredictionRow, 'unsure'> & { unsure: number }>;
    return rows.map((row) => ({ ...row, unsure: row.unsure === 1 }));
  }

  /** Every image with an effective label (the effective_labels view: its label, else the latest prediction). */
  labeledImages(): LabeledImageRow[] {
    const rows = this.db
      .prepare(
        `SELECT e.image_id AS imageId, e.class_id AS classId, e.class_name AS className, e.source, e.confidence,
                e.predicted, e.unsure, i.content_hash AS contentHash, i.format, ${primaryPathSql('e.image_id')} AS path
         FROM effective_labels e JOIN images i ON i.id = e.image_id
         ORDER BY e.image_id`,
      )
      .all() as Array<Omit<LabeledImageRow, 'predicted' | 'unsure'> & { predicted: number; unsure: number }>;
    return rows.map((row) => ({ ...row, predicted: row.predicted === 1, unsure: row.unsure === 1 }));
  }

  // ───────────── paths ─────────────

  /**
   * Image ids of the present files at `target` or, when it is a folder, anywhere under it.
   * Paths are compared as stored by ingest (absolute).
   */
  imageIdsAtPath(target: string): number[] {
    const resolved = path.resolve(target);
    const prefix = resolved.endsWith(path.sep) ? resolved : resolved + path.sep;
    return this.db
      .prepare(
        `SELECT DISTINCT image_id FROM files
         WHERE status = 'present' AND (path = ? OR substr(path, 1, ?) = ?) ORDER BY image_id`,
      )
      .pluck()
      .all(resolved, prefix.length, prefix) as number[];
  }

  /** The primary path (primary-path.ts) of each image id that has one. */
  pathsOf(imageIds: readonly number[]): Map<number, string> {
    const statement = this.db.prepare(`SELECT ${primaryPathSql('?')}`).pluck();
    const out = new Map<number, string>();
    for (const id of imageIds) {
      const found = statement.get(id) as string | null;
      if (found) out.set(id, found);
    }
    return out;
  }
}
