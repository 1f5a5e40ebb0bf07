/** Schema 4: few-shot labeling (core/label) — classes, labels, their history, probe runs, predictions. */
import type { Migration } from './migration.ts';

export const m0004Labels: Migration = {
  version: 4,
  name: 'labels',
  sql: `
    -- The classes the user works with; names are unique (case-sensitive, as folder names are).
    CREATE TABLE classes (
      id            INTEGER PRIMARY KEY,
      name          TEXT    NOT NULL UNIQUE,
      created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );

    -- A trained linear probe: what it was trained on and how good it is thought to be.
    CREATE TABLE probe_runs (
      id                INTEGER PRIMARY KEY,
      embedding_run_id  INTEGER REFERENCES runs(id) ON DELETE SET NULL,  -- whose embeddings
      class_ids_json    TEXT    NOT NULL,        -- class ids in the probe's output order
      labeled           INTEGER NOT NULL,        -- user labels trained on
      cv_accuracy       REAL,                    -- cross-validated, null when too few labels
      temperature       REAL    NOT NULL,        -- calibration: softmax(logits / T)
      unsure_below      REAL    NOT NULL,        -- reject option: confidence threshold
      predicted         INTEGER NOT NULL,        -- images given a confident prediction
      unsure            INTEGER NOT NULL,        -- images below unsure_below
      params_json       TEXT    NOT NULL,        -- weight decay, optimiser, timings…
      trained_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );

    -- The current label of an image: at most one. source 'user' = set by the user (confidence 1);
    -- 'probe' = a prediction the user accepted ("accept all of C above X"), keeping its confidence.
    CREATE TABLE labels (
      image_id      INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      class_id      INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
      source        TEXT    NOT NULL CHECK (source IN ('user', 'probe')),
      confidence    REAL    NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
      probe_run_id  INTEGER REFERENCES probe_runs(id) ON DELETE SET NULL,
      labeled_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE INDEX labels_class ON labels(class_id);

    -- Every change of a label, append-only, so nothing the user did is lost. class_name is kept
    -- as text so the history still reads after a class is deleted or renamed.
    CREATE TABLE label_history (
      id            INTEGER PRIMARY KEY,
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      action        TEXT    NOT NULL CHECK (action IN ('set', 'clear', 'accept')),
      class_id      INTEGER,                     -- no FK: history outlives its class
      class_name    TEXT,
      source        TEXT    CHECK (source IN ('user', 'probe')),
      confidence    REAL,
      previous_class_name TEXT,                  -- what the image had before, if anything
      at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE INDEX label_history_image ON label_history(image_id);

    -- The latest probe's prediction for every image without a label (replaced on each run).
    CREATE TABLE predictions (
      image_id      INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      probe_run_id  INTEGER NOT NULL REFERENCES probe_runs(id) ON DELETE CASCADE,
      class_id      INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
      confidence    REAL    NOT NULL,            -- calibrated top-class probability
      margin        REAL    NOT NULL,            -- top-1 minus top-2 probability
      unsure        INTEGER NOT NULL CHECK (unsure IN (0, 1))
    );
    CREATE INDEX predictions_class ON predictions(class_id, confidence);
  `,
};
