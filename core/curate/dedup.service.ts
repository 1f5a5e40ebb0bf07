/**
 * Acting on duplicate groups: "keep all" (remembered, the group is not suggested again while it
 * has the same members), "remove" (every copy but the keeper goes to the trash or a quarantine
 * folder, logged as one batch, files marked removed) and undo of the last such batch.
 * Photos are never deleted.
 */
import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import { CurateRepository } from '../store/curate.repository.ts';
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import type { DuplicateGroup } from './duplicates.ts';
import { moveToQuarantine, moveToTrash, restoreFile, trashLocation } from './trash.ts';

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

/** Moves every non-keeper of `groups` away (trash or quarantine) as one undoable batch. */
export function applyRemovals(db: Db, groups: readonly DuplicateGroup[], options: ApplyOptions = {}): ApplyResult {
  const repository = new CurateRepository(db);
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
  const victims = groups.flatMap((g) => g.members.filter((p) => p !== g.keep).map((p) => ({ path: p, group: g })));
  const result: ApplyResult = { batchId: null, method, destination, moved: [], errors: [], note };
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
  for (const victim of victims) {
    throwIfCancelled(options.signal); // safe point: every finished move is already logged
    const file = repository.fileByPath(victim.path);
    try {
      if (!fs.existsSync(victim.group.keep)) throw new Error(`the copy to keep, ${victim.group.keep}, is missing; not removing this one`);
      const size = fs.statSync(victim.path).size;
      const moved = method === 'trash' ? moveToTrash(victim.path, options.env, options.platform) : moveToQuarantine(victim.path, destination);
      repository.recordRemoval({ batchId, fileId: file?.fileId ?? null, originalPath: victim.path, movedTo: moved.movedTo, trashInfoPath: moved.trashInfoPath, byteSize: size });
      result.moved.push({ from: victim.path, to: moved.movedTo });
    } catch (error) {
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
 * `batchId`, or the newest one when it is omitted.
 */
export function undoLastApply(db: Db, batchId?: number): UndoResult {
  const repository = new CurateRepository(db);
  const batch = batchId === undefined ? repository.lastUndoableBatch() : repository.undoableBatch(batchId);
  if (!batch) return { batchId: null, restored: [], errors: [] };
  const result: UndoResult = { batchId: batch.id, restored: [], errors: [] };
  for (const item of repository.removalItems(batch.id)) {
    if (item.restoredTo) continue;
    try {
      const to = restoreFile(item.movedTo, item.originalPath, item.trashInfoPath);
      repository.recordRestore(item, to);
      result.restored.push({ from: item.movedTo, to });
    } catch (error) {
      const reason = (error as Error).message;
      repository.recordRestoreError(item, reason);
      result.errors.push({ path: item.originalPath, reason });
    }
  }
  // A batch with failures stays undoable, so a second undo can retry once the cause is fixed.
  if (result.errors.length === 0) repository.markBatchUndone(batch.id);
  return result;
}
