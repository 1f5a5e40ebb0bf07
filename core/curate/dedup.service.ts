/**
 * Acting on duplicate groups: "keep all" (remembered, the group is not suggested again while it
 * has the same members), "remove" (every copy but the keeper goes to the trash or a quarantine
 * folder, logged as one batch, files marked removed) and undo of the last such batch.
 * Photos are never deleted.
 *
 * Crash safety: every move of a removal or an undo is announced in the intent journal
 * (`removal_journal`, committed before the move), then marked 'moved', then 'recorded' in the
 * same transaction as the undo log. `recoverRemovals` — run first by every apply and undo, and
 * by the app when it opens a library — looks at the disk for each entry a dead process left
 * open and finishes the move (the file is at its target) or rolls it back (it never left), so no
 * file is stranded outside the library unrecorded and no undo is blocked.
 *
 * Paths are the catalogue's text; the file system gets `fsPath` (core/common/file-name-bytes.ts),
 * so a name that is not UTF-8 is moved and put back with its bytes.
 */
import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import { CurateRepository, type RemovalItem } from '../store/curate.repository.ts';
import { JournalRepository, type RemovalJournalEntry } from '../store/journal.repository.ts';
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { crashPoint, JOURNAL_OWNER, ownerIsGone } from '../common/crash-point.ts';
import { fsPath } from '../common/file-name-bytes.ts';
import type { DuplicateGroup } from './duplicates.ts';
import { carryOut, moveFile, moveState, planQuarantineMove, planTrashMove, releaseTrashName, restoreTarget, trashLocation, type PlannedMove } from './trash.ts';

export interface ApplyOptions {
  /** 'trash' (default) or 'quarantine' (then quarantineDir is required). */
  method?: 'trash' | 'quarantine';
  quarantineDir?: string;
  /** Where a Windows trash request falls back to (no usable Recycle Bin from Node). */
  fallbackQuarantineDir?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ApplyResult {
  batchId: number | null;
  method: 'trash' | 'quarantine';
  destination: string;
  moved: Array<{ from: string; to: string }>;
  errors: Array<{ path: string; reason: string }>;
  /** Set when the request was changed, e.g. trash → quarantine on Windows. */
  note?: string;
}

/** Marks a group "keep all": it will not be suggested again while its members stay the same. */
export function keepAll(db: Db, group: Pick<DuplicateGroup, 'members'>): number {
  const repository = new CurateRepository(db);
  const members = group.members.map((p) => {
    const file = repository.fileByPath(p);
    if (!file) throw new Error(`${p} is not in the library`);
    return { imageId: file.imageId, path: p };
  });
  return repository.addDecision('keep_all', null, members);
}

/** What recovery did with the moves interrupted by a crash. */
export interface RecoveryReport {
  /** Moves of removals finished (file recorded as removed) or rolled back (file left in the library). */
  applied: Array<{ path: string; outcome: 'finished' | 'rolled back' }>;
  /** Moves of undos finished (file restored) or rolled back (still in the trash, undo again). */
  restored: Array<{ batchId: number; from: string; to: string }>;
  rolledBackUndos: number;
  /** Entries recovery could not settle (both files differ, or neither is there), with the reason. */
  failed: Array<{ path: string; reason: string }>;
}

/**
 * Finishes or rolls back every move a dead process left announced but unrecorded (see the
 * header). Moves of live processes are left alone. Safe to run any time, and again.
 */
export function recoverRemovals(db: Db): RecoveryReport {
  const journal = new JournalRepository(db);
  const repository = new CurateRepository(db);
  const report: RecoveryReport = { applied: [], restored: [], rolledBackUndos: 0, failed: [] };
  for (const entry of journal.openRemovals()) {
    if (!ownerIsGone(entry.owner)) continue;
    const state = moveState(entry.source, entry.target);
    if (state === 'copied') fs.unlinkSync(fsPath(entry.source)); // the verified copy is in place: finish its move
    if (state === 'moved' || state === 'copied') {
      db.transaction(() => {
        if (entry.op === 'apply') {
          const fileId = entry.fileId !== null && journal.fileExists(entry.fileId) ? entry.fileId : null;
          repository.recordRemoval({ batchId: entry.batchId, fileId, originalPath: entry.originalPath, movedTo: entry.target, trashInfoPath: entry.trashInfoPath, byteSize: entry.byteSize });
        } else {
          repository.recordRestore(removalItemOf(entry), entry.target);
        }
        journal.setRemovalState(entry.id, 'recorded', 'finished by recovery');
      })();
      if (entry.op === 'apply') report.applied.push({ path: entry.originalPath, outcome: 'finished' });
      else {
        if (entry.trashInfoPath) fs.rmSync(fsPath(entry.trashInfoPath), { force: true });
        report.restored.push({ batchId: entry.batchId, from: entry.source, to: entry.target });
      }
    } else if (state === 'not-moved' || (state === 'conflict' && entry.op === 'undo')) {
      // It never left (or its restore target is taken by another file): as if never started.
      if (entry.op === 'apply') {
        releaseTrashName(entry.trashInfoPath, entry.originalPath);
        report.applied.push({ path: entry.originalPath, outcome: 'rolled back' });
      } else report.rolledBackUndos++;
      journal.setRemovalState(entry.id, 'rolled_back', state === 'conflict' ? `${entry.target} is another file` : 'interrupted before the move');
    } else {
      const reason = state === 'lost'
        ? `neither ${entry.source} nor ${entry.target} exists (moved or deleted by hand?)`
        : `${entry.target} is not a copy of ${entry.source}; both were left as they are`;
      journal.setRemovalState(entry.id, 'failed', reason);
      report.failed.push({ path: entry.originalPath, reason });
    }
  }
  return report;
}

function removalItemOf(entry: RemovalJournalEntry): RemovalItem {
  return { batchId: entry.batchId, fileId: entry.fileId, originalPath: entry.originalPath, movedTo: entry.source, trashInfoPath: entry.trashInfoPath, byteSize: entry.byteSize, restoredTo: null, error: null };
}

/** Moves every non-keeper of `groups` away (trash or quarantine) as one undoable batch. */
export function applyRemovals(db: Db, groups: readonly DuplicateGroup[], options: ApplyOptions = {}): ApplyResult {
  const recovery = recoverRemovals(db);
  const repository = new CurateRepository(db);
  const journal = new JournalRepository(db);
  let method = options.method ?? 'trash';
  let destination: string;
  let note: string | undefined;
  if (method === 'trash') {
    const location = trashLocation(options.env, options.platform);
    if (location) destination = location.dir;
    else {
      if (!options.fallbackQuarantineDir) throw new Error('no usable trash on this platform: pass a quarantine folder');
      method = 'quarantine';
      destination = options.fallbackQuarantineDir;
      note = `this platform has no trash Looktwice can use; files go to the quarantine folder ${destination}`;
    }
  } else {
    if (!options.quarantineDir) throw new Error('quarantine needs a folder');
    destination = options.quarantineDir;
  }
  // A copy an interrupted apply removed (finished by the recovery above) is out already.
  const victims = groups.flatMap((g) => g.members.filter((p) => p !== g.keep && repository.fileByPath(p)?.status !== 'removed').map((p) => ({ path: p, group: g })));
  const result: ApplyResult = { batchId: null, method, destination, moved: [], errors: [...recovery.failed], note };
  if (victims.length === 0) return result;
  const batchId = repository.createRemovalBatch(method, destination);
  result.batchId = batchId;
  let done = 0;
  for (const group of groups) {
    const removed = group.members.filter((p) => p !== group.keep);
    if (removed.length) {
      const members = group.members.flatMap((p) => {
        const file = repository.fileByPath(p);
        return file ? [{ imageId: file.imageId, path: p }] : [];
      });
      repository.addDecision('remove', group.keep, members);
    }
  }
  const plan = (file: string): PlannedMove => (method === 'trash' ? planTrashMove(file, options.env, options.platform) : planQuarantineMove(file, destination));
  for (const victim of victims) {
    throwIfCancelled(options.signal); // safe point: every finished move is already logged
    const file = repository.fileByPath(victim.path);
    let entryId: number | null = null;
    try {
      if (!fs.existsSync(fsPath(victim.group.keep))) throw new Error(`the copy to keep, ${victim.group.keep}, is missing; not removing this one`);
      const size = fs.statSync(fsPath(victim.path)).size;
      let planned = plan(victim.path);
      const entry = { owner: JOURNAL_OWNER, op: 'apply' as const, batchId, fileId: file?.fileId ?? null, originalPath: victim.path, source: victim.path, byteSize: size };
      entryId = journal.addRemovalIntent({ ...entry, target: planned.movedTo, trashInfoPath: planned.trashInfoPath });
      crashPoint('removal-after-intent');
      for (let attempt = 0; ; attempt++) {
        try {
          carryOut(victim.path, planned);
          break;
        } catch (error) {
          // Another process took the announced trash name: announce the next free one.
          if (!/was taken meanwhile/.test((error as Error).message) || attempt >= 100) throw error;
          planned = plan(victim.path);
          journal.retargetRemoval(entryId, planned.movedTo, planned.trashInfoPath);
        }
      }
      crashPoint('removal-after-move');
      journal.setRemovalState(entryId, 'moved');
      crashPoint('removal-after-moved');
      const id = entryId;
      db.transaction(() => {
        repository.recordRemoval({ batchId, fileId: file?.fileId ?? null, originalPath: victim.path, movedTo: planned.movedTo, trashInfoPath: planned.trashInfoPath, byteSize: size });
        journal.setRemovalState(id, 'recorded');
      })();
      result.moved.push({ from: victim.path, to: planned.movedTo });
    } catch (error) {
      if (entryId !== null) journal.setRemovalState(entryId, 'rolled_back', (error as Error).message);
      result.errors.push({ path: victim.path, reason: (error as Error).message });
    }
    done++;
    options.onProgress?.({ phase: 'dedup:apply', done, total: victims.length });
  }
  return result;
}

export interface UndoResult {
  batchId: number | null;
  restored: Array<{ from: string; to: string }>;
  errors: Array<{ path: string; reason: string }>;
}

/**
 * Restores every file of a not-yet-undone batch to where it was (never overwriting): the batch
 * `batchId`, or the newest one when it is omitted. Files an interrupted undo of that batch had
 * already put back (finished by the recovery) count as restored by this one.
 */
export function undoLastApply(db: Db, batchId?: number): UndoResult {
  const recovery = recoverRemovals(db);
  const repository = new CurateRepository(db);
  const journal = new JournalRepository(db);
  const batch = batchId === undefined ? repository.lastUndoableBatch() : repository.undoableBatch(batchId);
  if (!batch) return { batchId: null, restored: [], errors: [] };
  const result: UndoResult = {
    batchId: batch.id,
    restored: recovery.restored.filter((r) => r.batchId === batch.id).map(({ from, to }) => ({ from, to })),
    errors: [...recovery.failed],
  };
  let failures = 0;
  for (const item of repository.removalItems(batch.id)) {
    if (item.restoredTo) continue;
    let entryId: number | null = null;
    try {
      if (!fs.existsSync(fsPath(item.movedTo))) throw new Error(`${item.movedTo} is no longer there (emptied from the trash or moved?)`);
      const target = restoreTarget(item.originalPath);
      entryId = journal.addRemovalIntent({
        owner: JOURNAL_OWNER, op: 'undo', batchId: batch.id, fileId: item.fileId, originalPath: item.originalPath,
        source: item.movedTo, target, trashInfoPath: item.trashInfoPath, byteSize: item.byteSize,
      });
      crashPoint('undo-after-intent');
      moveFile(item.movedTo, target);
      crashPoint('undo-after-move');
      journal.setRemovalState(entryId, 'moved');
      const id = entryId;
      db.transaction(() => {
        repository.recordRestore(item, target);
        journal.setRemovalState(id, 'recorded');
      })();
      if (item.trashInfoPath) fs.rmSync(fsPath(item.trashInfoPath), { force: true });
      result.restored.push({ from: item.movedTo, to: target });
    } catch (error) {
      const reason = (error as Error).message;
      if (entryId !== null) journal.setRemovalState(entryId, 'rolled_back', reason);
      repository.recordRestoreError(item, reason);
      result.errors.push({ path: item.originalPath, reason });
      failures++;
    }
  }
  // A batch with failures stays undoable, so a second undo can retry once the cause is fixed.
  if (failures === 0) repository.markBatchUndone(batch.id);
  return result;
}
