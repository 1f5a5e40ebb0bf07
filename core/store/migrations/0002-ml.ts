/** Schema 2: training runs and embeddings (core/ml). */
import type { Migration } from './migration.ts';

export const m0002Ml: Migration = {
  version: 2,
  name: 'ml',
  sql: `
    -- One SimCLR training run = one encoder (model). Embeddings are keyed by (image, run).
    CREATE TABLE runs (
      id              INTEGER PRIMARY KEY,
      status          TEXT    NOT NULL CHECK (status IN ('running', 'stopped', 'completed', 'failed')),
      config_json     TEXT    NOT NULL,        -- arch, size, batch, epochs/steps, temperature, optimizer, seed…
      backend         TEXT    NOT NULL,
      device          TEXT    NOT NULL,
      started_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      finished_at     TEXT,
      steps_done      INTEGER NOT NULL DEFAULT 0,
      steps_total     INTEGER,
      final_loss      REAL,
      images_per_s    REAL,
      checkpoint_path TEXT,                    -- relative to the library's data folder
      error           TEXT
    );

    CREATE TABLE run_metrics (
      run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step            INTEGER NOT NULL,
      loss            REAL    NOT NULL,
      images_per_s    REAL,
      learning_rate   REAL,
      at              TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      PRIMARY KEY (run_id, step)
    );

    -- h = f(x): L2-normalised float32, little-endian BLOB of dim * 4 bytes.
    CREATE TABLE embeddings (
      image_id        INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      dim             INTEGER NOT NULL,
      vector          BLOB    NOT NULL,
      created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      PRIMARY KEY (image_id, run_id)
    );
    CREATE INDEX embeddings_run ON embeddings(run_id);
  `,
};
