/**
 * Curation use cases: the duplicate search (stored, so the review list, `dedup` and export read
 * one result), acting on a group (keep all, remove, undo), quality flags (stored), clusters,
 * the map and similar images. Each computation records the inputs it saw (derived.ts), so a
 * later ingest, embedding or label change marks its result stale instead of hiding the change.
 */
import path from 'node:path';
import type { Library } from '../store/db.ts';
import { DuplicateGroupsRepository, type StoredDuplicateGroup } from '../store/duplicate-groups.repository.ts';
import { FlagsRepository } from '../store/flags.repository.ts';
import { CurateRepository } from '../store/curate.repository.ts';
import { findDuplicateGroups } from '../curate/duplicates.ts';
import { applyRemovals, keepAll, recoverRemovals, undoLastApply, type ApplyOptions, type ApplyResult, type RecoveryReport, type UndoResult } from '../curate/dedup.service.ts';
import { recoverExports } from '../export/swap.ts';
import { computeFlags as flagImages, type ImageFlags } from '../curate/flags.service.ts';
import { clusterLibrary, type ClusteringResult } from '../curate/clusters.service.ts';
import { computeMap as mapLibrary, type MapResult } from '../curate/map.service.ts';
import { findSimilar as similarTo, type SimilarResult } from '../curate/similar.service.ts';
import { trashLocation } from '../curate/trash.ts';
import { FLAG_KINDS, isFlagKind, type FlagKind } from '../common/flag-kinds.ts';
import { AppError, invalid, notFound } from '../common/errors.ts';
import { computeDerived, keepingFresh } from './derived.ts';
import type { RunHooks } from './hooks.ts';

// ───────────── duplicates ─────────────

/** Searches the whole library for duplicates and stores the groups (keep-all groups marked, for export). */
export async function findDuplicates(library: Library, options: { hashesOnly?: boolean } = {}, hooks: RunHooks = {}): Promise<StoredDuplicateGroup[]> {
  return computeDerived(library, 'duplicates', async () => {
    const groups = await findDuplicateGroups(library.db, {
      dataDir: library.dataDir,
      includeDismissed: true,
      ...(options.hashesOnly ? { embeddingRunId: false as const } : {}),
      signal: hooks.signal,
      onProgress: hooks.onProgress,
    });
    const repository = new DuplicateGroupsRepository(library.db);
    repository.replace(groups);
    return repository.list();
  });
}

/** The stored groups left to review (no search: run findDuplicates for a fresh result). */
export function openDuplicateGroups(library: Library): StoredDuplicateGroup[] {
  return new DuplicateGroupsRepository(library.db).list();
}

/** Every stored group, resolved and kept-all ones included (export keeps each group in one split). */
export function allDuplicateGroups(library: Library): StoredDuplicateGroup[] {
  return new DuplicateGroupsRepository(library.db).list({ all: true });
}

function openGroup(library: Library, groupId: number): StoredDuplicateGroup {
  const group = new DuplicateGroupsRepository(library.db).open(groupId);
  if (!group) throw notFound('That duplicate group is gone (already resolved, or the library changed). Reload the list.');
  return group;
}

/** "These are not duplicates to me": the group is not suggested again while its members stay the same. */
export function keepAllDuplicates(library: Library, groupId: number): void {
  const group = openGroup(library, groupId);
  keepingFresh(library, 'duplicates', () => {
    keepAll(library.db, group);
    new DuplicateGroupsRepository(library.db).markResolved(group.id, 'kept');
  });
}

/** Where removed copies go: the trash, or the library's quarantine folder where there is no usable trash. */
export function removalTarget(library: Library, env: NodeJS.ProcessEnv = process.env): Pick<ApplyOptions, 'fallbackQuarantineDir' | 'env'> {
  return { env, fallbackQuarantineDir: trashLocation(env) ? undefined : path.join(library.dataDir, 'quarantine') };
}

/**
 * Moves every copy of the group except the keeper (default: the suggested one) out of the
 * library, as one undoable batch. Throws when nothing could be moved.
 */
export function removeDuplicates(library: Library, groupId: number, keepPath: string | undefined, options: ApplyOptions = {}): ApplyResult {
  const group = openGroup(library, groupId);
  const keep = keepPath ?? group.keep;
  if (!group.members.includes(keep)) throw invalid('The file to keep is not part of this group.');
  const keepImageId = new CurateRepository(library.db).fileByPath(keep)?.imageId ?? group.keepImageId;
  const chosen = keep === group.keep ? group : { ...group, keep, keepImageId, members: [keep, ...group.members.filter((m) => m !== keep)] };
  const result = keepingFresh(library, 'duplicates', () => {
    const applied = applyRemovals(library.db, [chosen], { fallbackQuarantineDir: path.join(library.dataDir, 'quarantine'), ...options });
    if (applied.moved.length > 0) new DuplicateGroupsRepository(library.db).markResolved(group.id, 'removed');
    return applied;
  });
  if (result.errors.length > 0 && result.moved.length === 0) {
    throw new AppError('failed', `Nothing was moved: ${result.errors.map((e) => `${e.path}: ${e.reason}`).join('; ')}`);
  }
  return result;
}

/** Moves every copy except each group's keeper out of the library (`dedup --apply`), as one batch. */
export function removeAllDuplicates(library: Library, groups: readonly StoredDuplicateGroup[], options: ApplyOptions = {}): ApplyResult {
  return keepingFresh(library, 'duplicates', () => {
    const result = applyRemovals(library.db, groups, options);
    const repository = new DuplicateGroupsRepository(library.db);
    const moved = new Set(result.moved.map((m) => m.from));
    for (const group of groups) if (group.members.some((member) => moved.has(member))) repository.markResolved(group.id, 'removed');
    return result;
  });
}

/**
 * Restores the files of a removal: the one with `actionId`, or the latest. The restored files
 * are present again, so the stored groups go stale (their group comes back on the next search).
 */
export function undoRemoval(library: Library, actionId?: number): UndoResult {
  const result = undoLastApply(library.db, actionId);
  if (result.batchId === null) {
    throw invalid(actionId === undefined ? 'There is no removal left to undo.' : `Removal #${actionId} does not exist or was already undone.`);
  }
  return result;
}

/**
 * Finishes or rolls back what a crash interrupted — moves of a removal or an undo, an export
 * being swapped into place — from their journals; the app runs it when it opens a library (apply,
 * undo and export run it themselves too). A failure is reported, never thrown: opening goes on.
 */
export function recoverInterruptedWork(library: Library): { removals: RecoveryReport | null; exports: string[]; problems: string[] } {
  const problems: string[] = [];
  let removals: RecoveryReport | null = null;
  let exports: string[] = [];
  try {
    removals = recoverRemovals(library.db);
  } catch (error) {
    problems.push(`could not finish an interrupted removal: ${(error as Error).message}`);
  }
  try {
    exports = recoverExports(library.db);
  } catch (error) {
    problems.push(`could not finish an interrupted export: ${(error as Error).message}`);
  }
  return { removals, exports, problems };
}

// ───────────── quality flags ─────────────

/** Checks every image's quality and stores the flags (dismissed ones stay hidden); returns them with scores. */
export async function computeFlags(library: Library, hooks: RunHooks = {}): Promise<{ images: ImageFlags[]; flagged: number; byKind: Partial<Record<FlagKind, number>> }> {
  return computeDerived(library, 'flags', async () => {
    const images = await flagImages(library.db, { dataDir: library.dataDir, all: true, signal: hooks.signal, onProgress: hooks.onProgress });
    const repository = new FlagsRepository(library.db);
    const flagged = repository.replace(images.map((image) => ({ imageId: image.imageId, kinds: image.flags.filter(isFlagKind), scores: image.scores })));
    const byKind: Partial<Record<FlagKind, number>> = {};
    for (const { kind, count } of repository.counts()) if (isFlagKind(kind)) byKind[kind] = count;
    return { images, flagged, byKind };
  });
}

/** Hides a flag (default: every kind) on images the user judged fine; stays hidden after a new check. */
export function dismissFlags(library: Library, imageIds: readonly number[], kind?: FlagKind): number {
  return new FlagsRepository(library.db).dismiss(imageIds, kind === undefined ? FLAG_KINDS : [kind]);
}

// ───────────── clusters, map, similar ─────────────

export async function computeClusters(library: Library, options: { k: 'auto' | number; method: 'kmeans' | 'density' }, hooks: RunHooks = {}): Promise<ClusteringResult> {
  if (options.method === 'density' && options.k !== 'auto') throw invalid('k applies to k-means only.');
  return computeDerived(library, 'clusters', () => clusterLibrary(library.db, { ...options, dataDir: library.dataDir, signal: hooks.signal, onProgress: hooks.onProgress }));
}

export async function computeMap(library: Library, options: { fitSample?: number } = {}, hooks: RunHooks = {}): Promise<MapResult> {
  return computeDerived(library, 'map', () => mapLibrary(library.db, { ...options, dataDir: library.dataDir, signal: hooks.signal, onProgress: hooks.onProgress }));
}

/** The images most like the one at `filePath` (embeddings when there are any, else pixels). */
export function findSimilar(library: Library, filePath: string, k: number, hooks: RunHooks = {}): Promise<SimilarResult> {
  return similarTo(library.db, filePath, k, { dataDir: library.dataDir, signal: hooks.signal, onProgress: hooks.onProgress });
}

/**
 * The cluster-naming rule: a cluster is named when the user labelled all its representatives
 * with one class; that class's name is the cluster's name.
 */
export function clusterName(representativeLabels: ReadonlyArray<{ classId: number; className: string; source: 'user' | 'probe' } | null>): { classId: number; name: string } | null {
  const first = representativeLabels[0];
  if (!first || first.source !== 'user') return null;
  const named = representativeLabels.every((label) => label?.source === 'user' && label.classId === first.classId);
  return named ? { classId: first.classId, name: first.className } : null;
}
