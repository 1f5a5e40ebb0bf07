/**
 * Export use case: the labeled images as a dataset with leak-free splits. Splits keep each
 * duplicate group in one split, from the stored duplicate groups: the export job searches again
 * only when those are missing or stale, and stores what it found (no second search elsewhere).
 */
import path from 'node:path';
import type { Library } from '../store/db.ts';
import { planExport, runExport, type ExportOutcome, type ExportPlan, type ExportSettings } from '../export/export.service.ts';
import { exportTargetProblem } from '../export/target.ts';
import { invalid } from '../common/errors.ts';
import { allDuplicateGroups, findDuplicates } from './curation.ts';
import { needsCompute } from './derived.ts';
import type { ExportOptionsOut } from './schemas.ts';
import type { RunHooks } from './hooks.ts';

function settingsOf(library: Library, options: ExportOptionsOut): ExportSettings {
  return {
    out: path.resolve(options.out),
    format: options.format,
    split: options.split,
    seed: options.seed,
    minConfidence: options.minConfidence,
    onlyUserLabels: options.onlyUserLabels,
    dedup: options.dedup,
    mode: options.mode,
    resizePx: options.resizePx,
    force: options.force,
    dataDir: library.dataDir,
  };
}

/** What an export would write, from the stored duplicate groups (stale ones said so, not searched again). */
export async function previewExport(library: Library, options: ExportOptionsOut): Promise<ExportPlan & { duplicatesStale: boolean }> {
  const plan = await planExport(library.db, { ...settingsOf(library, options), duplicateGroups: allDuplicateGroups(library) });
  return { ...plan, duplicatesStale: needsCompute(library, 'duplicates') };
}

/**
 * Refuses (as an `invalid` error, with the reason) an OUT that is, holds or lies inside a photo
 * folder of the library, or its data folder — checked before an export job starts, and again by
 * the export itself.
 */
export function checkExportTarget(library: Library, out: string): void {
  const problem = exportTargetProblem(library.db, path.resolve(out), library.dataDir);
  if (problem) throw invalid(problem);
}

/** Writes the export; refreshes the stored duplicate groups first when they are missing or stale. */
export async function exportDataset(library: Library, options: ExportOptionsOut, hooks: RunHooks = {}): Promise<ExportOutcome> {
  checkExportTarget(library, options.out);
  if (needsCompute(library, 'duplicates')) {
    hooks.log?.('info', 'The duplicate groups are out of date: searching again so that no copy crosses splits.');
    await findDuplicates(library, {}, hooks);
  }
  return runExport(library.db, { ...settingsOf(library, options), duplicateGroups: allDuplicateGroups(library), signal: hooks.signal, onProgress: hooks.onProgress });
}
