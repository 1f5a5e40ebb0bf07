/**
 * The intent journals' SQL (schema 8): one row per file move of a removal or an undo, one row per
 * export swap. Every write here is its own committed transaction, so a row is on disk before the
 * move it announces starts. The rules — what recovery does with each state — live in
 * core/curate/dedup.service.ts and core/export/export.service.ts.
 */
import type { Db } from './db.ts';

export type RemovalJournalState = 'intent' | 'moved' | 'recorded' | 'rolled_back' | 'failed';

/** One move of a removal ('apply': library → trash/quarantine) or of an undo (back). */
export interface RemovalJournalEntry {
  id: number;
  owner: string;
  op: 'apply' | 'undo';
  batchId: number;
  fileId: number | null;
  originalPath: string;
  source: string;
  target: string;
  trashInfoPath: string | null;
  byteSize: number;
  state: RemovalJournalState;
}

export type ExportJournalState = 'writing' | 'swapping' | 'restoring' | 'done' | 'failed';

/** One export: the partial folder being written, then the swap of it into place. */
export interface ExportJournalEntry {
  id: number;
  owner: string;
  out: string;
  partial: string;
  replaced: string | null;
  planJson: string | null;
  manifestSha256: string | null;
  state: ExportJournalState;
}

const REMOVAL_COLUMNS = `id, owner, op, batch_id AS batchId, file_id AS fileId, original_path AS originalPath, source, target,
  trash_info_path AS trashInfoPath, byte_size AS byteSize, state`;
const EXPORT_COLUMNS = 'id, owner, out, partial, replaced, plan_json AS planJson, manifest_sha256 AS manifestSha256, state';
const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

export class JournalRepository {
  constructor(private readonly db: Db) {}

  // ── removals ──

  /** Announces a move (state 'intent'); committed before the caller moves anything. */
  addRemovalIntent(entry: Omit<RemovalJournalEntry, 'id' | 'state'>): number {
    return Number(this.db.prepare(
      `INSERT INTO removal_journal (owner, op, batch_id, file_id, original_path, source, target, trash_info_path, byte_size, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'intent')`,
    ).run(entry.owner, entry.op, entry.batchId, entry.fileId, entry.originalPath, entry.source, entry.target, entry.trashInfoPath, entry.byteSize).lastInsertRowid);
  }

  setRemovalState(id: number, state: RemovalJournalState, note: string | null = null): void {
    this.db.prepare(`UPDATE removal_journal SET state = ?, note = ?, updated_at = ${NOW} WHERE id = ?`).run(state, note, id);
  }

  /** Points an intent at another target (the trash name it announced was taken meanwhile). */
  retargetRemoval(id: number, target: string, trashInfoPath: string | null): void {
    this.db.prepare(`UPDATE removal_journal SET target = ?, trash_info_path = ?, updated_at = ${NOW} WHERE id = ?`).run(target, trashInfoPath, id);
  }

  /** Moves announced but not yet recorded, oldest first. */
  openRemovals(): RemovalJournalEntry[] {
    return this.db.prepare(`SELECT ${REMOVAL_COLUMNS} FROM removal_journal WHERE state IN ('intent', 'moved') ORDER BY id`).all() as RemovalJournalEntry[];
  }

  /** Whether a files row still exists (a rescan may have dropped it since the intent). */
  fileExists(fileId: number): boolean {
    return this.db.prepare('SELECT 1 FROM files WHERE id = ?').get(fileId) !== undefined;
  }

  // ── exports ──

  addExport(entry: Pick<ExportJournalEntry, 'owner' | 'out' | 'partial'>): number {
    return Number(this.db.prepare("INSERT INTO export_journal (owner, out, partial, state) VALUES (?, ?, ?, 'writing')")
      .run(entry.owner, entry.out, entry.partial).lastInsertRowid);
  }

  /** Records the swap's plan (state 'swapping'), committed before the first rename. */
  planExportSwap(id: number, replaced: string | null, planJson: string, manifestSha256: string): void {
    this.db.prepare(`UPDATE export_journal SET state = 'swapping', replaced = ?, plan_json = ?, manifest_sha256 = ?, updated_at = ${NOW} WHERE id = ?`)
      .run(replaced, planJson, manifestSha256, id);
  }

  setExportState(id: number, state: ExportJournalState, note: string | null = null): void {
    this.db.prepare(`UPDATE export_journal SET state = ?, note = ?, updated_at = ${NOW} WHERE id = ?`).run(state, note, id);
  }

  /** Exports not finished, oldest first. */
  openExports(): ExportJournalEntry[] {
    return this.db.prepare(`SELECT ${EXPORT_COLUMNS} FROM export_journal WHERE state NOT IN ('done', 'failed') ORDER BY id`).all() as ExportJournalEntry[];
  }

  /** Whether an export of this library wrote a manifest with this SHA-256 (and got it into place). */
  isOwnManifest(sha256: string): boolean {
    return this.db.prepare("SELECT 1 FROM export_journal WHERE manifest_sha256 = ? AND state IN ('restoring', 'done')").get(sha256) !== undefined;
  }
}
