/**
 * Schema 8: intent journals for the two operations that move files a crash must not strand —
 * removing duplicates to the trash or a quarantine folder and undoing that (core/curate/dedup.service.ts),
 * and swapping a new export into place over an old one (core/export/export.service.ts). Each row
 * is committed before its move starts; the next apply, undo or export finishes or rolls back every
 * row whose process died (`owner`, see core/common/crash-point.ts).
 */
import type { Migration } from './migration.ts';

export const m0008Journals: Migration = {
  version: 8,
  name: 'journals',
  sql: `
    CREATE TABLE removal_journal (
      id               INTEGER PRIMARY KEY,
      owner            TEXT    NOT NULL,               -- "<pid>:<random>" of the process moving the file
      op               TEXT    NOT NULL CHECK (op IN ('apply', 'undo')),
      batch_id         INTEGER NOT NULL REFERENCES removal_batches(id) ON DELETE CASCADE,
      file_id          INTEGER,                        -- the files row (apply), if catalogued
      original_path    TEXT    NOT NULL,               -- the photo's place in the library (the removal item's key)
      source           TEXT    NOT NULL,               -- where the file is before this move
      target           TEXT    NOT NULL,               -- where this move puts it
      trash_info_path  TEXT,                           -- freedesktop .trashinfo reserving the name (apply to trash)
      byte_size        INTEGER NOT NULL,
      state            TEXT    NOT NULL CHECK (state IN ('intent', 'moved', 'recorded', 'rolled_back', 'failed')),
      note             TEXT,                           -- why recovery rolled back or failed
      created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      updated_at       TEXT
    );
    CREATE INDEX removal_journal_open ON removal_journal (state) WHERE state IN ('intent', 'moved');

    CREATE TABLE export_journal (
      id               INTEGER PRIMARY KEY,
      owner            TEXT    NOT NULL,
      out              TEXT    NOT NULL,               -- the export folder
      partial          TEXT    NOT NULL,               -- <out>.looktwice-partial-*: the new export being written
      replaced         TEXT,                           -- <out>.looktwice-replaced-*: the old folder during the swap
      plan_json        TEXT,                           -- what the swap does with the old folder's files
      manifest_sha256  TEXT,                           -- of the new export's manifest.json: proves a later --force it was ours
      state            TEXT    NOT NULL CHECK (state IN ('writing', 'swapping', 'restoring', 'done', 'failed')),
      note             TEXT,
      created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      updated_at       TEXT
    );
    CREATE INDEX export_journal_open ON export_journal (state) WHERE state NOT IN ('done', 'failed');
    CREATE INDEX export_journal_manifest ON export_journal (manifest_sha256);
  `,
};
