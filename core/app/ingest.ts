/**
 * Ingest use cases: which folder may be added (exists, is a folder, is readable), and scanning
 * folders into the catalogue. Derived results (duplicates, flags, clusters, map) go stale by
 * themselves when files change (store triggers, migration 0006), so nothing here invalidates.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Library } from '../store/db.ts';
import { FilesRepository } from '../store/files.repository.ts';
import { ingestFolders, type IngestOptions, type IngestReport } from '../library/ingest.service.ts';
import { systemFolderReason } from '../library/scan.ts';
import { invalid } from '../common/errors.ts';

/** The real path of a folder the user names, or a clear reason why it cannot be added. */
export function resolveFolder(given: string): string {
  const absolute = path.resolve(given);
  let real: string;
  try {
    real = fs.realpathSync(absolute);
  } catch {
    throw invalid(`The folder ${absolute} does not exist.`);
  }
  if (!fs.statSync(real).isDirectory()) throw invalid(`${absolute} is a file, not a folder.`);
  const system = systemFolderReason(real);
  if (system) throw invalid(`${absolute} is ${system}.`);
  try {
    fs.accessSync(real, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    throw invalid(`The folder ${absolute} cannot be read (permission denied).`);
  }
  return real;
}

/** Adds a folder to the library (not yet scanned); returns its id and real path. */
export function addFolder(library: Library, given: string): { folderId: number; path: string } {
  const real = resolveFolder(given);
  return { folderId: new FilesRepository(library.db).ensureFolder(real), path: real };
}

/** The library's folders, or only those with these ids. */
export function libraryFolders(library: Library, folderIds?: readonly number[]): Array<{ id: number; path: string }> {
  const wanted = folderIds === undefined ? null : new Set(folderIds);
  return new FilesRepository(library.db).folders().filter((folder) => wanted === null || wanted.has(folder.id));
}

/** Scans folders (new, changed, moved and missing files); `folders` empty: every library folder. */
export async function ingest(library: Library, folders: readonly string[], options: IngestOptions = {}): Promise<IngestReport> {
  const roots = folders.length > 0 ? folders : libraryFolders(library).map((folder) => folder.path);
  return ingestFolders(library, roots, options);
}

/** The numbers of an ingest report that the API and `--json` print. */
export function ingestSummary(report: IngestReport): { added: number; updated: number; unchanged: number; moved: number; missing: number; failed: Array<{ path: string; reason: string }> } {
  return {
    added: report.added,
    updated: report.updated,
    unchanged: report.unchanged,
    moved: report.moved,
    missing: report.missing,
    failed: report.failed.map((f) => ({ path: f.path, reason: f.reason })),
  };
}
