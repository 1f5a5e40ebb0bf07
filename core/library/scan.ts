/**
 * Walks library folders recursively and lists the image files in them, without reading any
 * file's content. Hidden and system entries are skipped; symbolic links are followed, but a
 * link back to a folder above it (a loop) is reported instead of walked, and a folder reached
 * twice (by a link, a bind mount or overlapping roots) is walked once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { hasImageExtension } from './formats.ts';

/** A candidate image file found by the scan (stat of the file a link points to). */
export interface ScannedFile {
  /** Absolute path as found under its root (links are not resolved). */
  path: string;
  size: number;
  /** Modification time, whole milliseconds. */
  mtimeMs: number;
  /** Index of the root folder it was found under. */
  rootIndex: number;
}

/** Something the scan could not use: a folder it could not read, a link loop, a FIFO named x.jpg… */
export interface ScanProblem {
  path: string;
  reason: string;
}

export interface ScanResult {
  /** The roots as absolute real paths, in the order given (also those that do not exist). */
  roots: string[];
  /** Which roots exist and are folders. */
  rootExists: boolean[];
  files: ScannedFile[];
  problems: ScanProblem[];
  /** Folders whose listing failed: files under them must not be taken as deleted. */
  unreadableFolders: string[];
}

export interface ScanOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Absolute folders never to descend into (e.g. the library's own data folder). */
  exclude?: readonly string[];
}

/** Names skipped besides dot-files: OS and NAS housekeeping folders and files. */
const SYSTEM_NAMES = new Set(['@eaDir', '#recycle', '$RECYCLE.BIN', 'System Volume Information', 'lost+found', 'Thumbs.db', 'desktop.ini', '__MACOSX']);

function isHiddenOrSystem(name: string): boolean {
  return name.startsWith('.') || SYSTEM_NAMES.has(name);
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function describeFsError(error: unknown): string {
  switch (errorCode(error)) {
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'ENOENT': return 'it disappeared during the scan';
    case 'ELOOP': return 'symbolic link loop (the link points to itself, directly or through other links)';
    case 'ENAMETOOLONG': return 'the path is too long for the file system';
    case 'EIO': return 'input/output error (failing disk or network share?)';
    default: return (error as Error).message;
  }
}

function kindOf(stats: fs.Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

interface PendingFolder {
  path: string;
  /** Real paths of this folder and every folder above it on the way from the root. */
  ancestors: readonly string[];
  rootIndex: number;
}

/** Lists every image file under `folders`; never throws for bad entries, only for cancellation. */
export async function scanFolders(folders: readonly string[], options: ScanOptions = {}): Promise<ScanResult> {
  const exclude = new Set<string>();
  for (const excluded of options.exclude ?? []) {
    exclude.add(path.resolve(excluded));
    try {
      exclude.add(fs.realpathSync(excluded));
    } catch {
      // not created yet: the resolved path is enough
    }
  }
  const roots: string[] = [];
  const rootExists: boolean[] = [];
  const files: ScannedFile[] = [];
  const problems: ScanProblem[] = [];
  const unreadableFolders: string[] = [];
  const visited = new Set<string>(); // dev:ino of folders already walked
  const seenFiles = new Set<string>();
  const pending: PendingFolder[] = [];

  for (const [rootIndex, folder] of folders.entries()) {
    const resolved = path.resolve(folder);
    let real = resolved;
    try {
      real = fs.realpathSync(resolved);
      const stats = fs.statSync(real);
      if (!stats.isDirectory()) {
        roots.push(real);
        rootExists.push(false);
        problems.push({ path: real, reason: 'is not a folder' });
        continue;
      }
    } catch (error) {
      roots.push(resolved);
      rootExists.push(false);
      problems.push({ path: resolved, reason: errorCode(error) === 'ENOENT' ? 'folder does not exist' : `cannot open folder: ${describeFsError(error)}` });
      continue;
    }
    roots.push(real);
    rootExists.push(true);
    pending.push({ path: real, ancestors: [real], rootIndex });
  }
  // Walk roots in the order given (stack pops from the end).
  pending.reverse();

  let lastReportMs = 0;
  const report = (force = false): void => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastReportMs < 200)) return;
    lastReportMs = now;
    options.onProgress({ phase: 'ingest:scan', done: files.length, total: null, message: 'scanning folders' });
  };

  while (pending.length > 0) {
    throwIfCancelled(options.signal);
    const folder = pending.pop()!;
    if (exclude.has(folder.path) || exclude.has(folder.ancestors.at(-1)!)) continue;
    let folderStats: fs.Stats;
    let entries: fs.Dirent[];
    try {
      folderStats = await fs.promises.stat(folder.path);
      entries = await fs.promises.readdir(folder.path, { withFileTypes: true });
    } catch (error) {
      problems.push({ path: folder.path, reason: `cannot read folder: ${describeFsError(error)}` });
      unreadableFolders.push(folder.path);
      continue;
    }
    const key = `${folderStats.dev}:${folderStats.ino}`;
    if (visited.has(key)) continue;
    visited.add(key);

    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subfolders: PendingFolder[] = [];
    await Promise.all(entries.map(async (entry) => {
      if (isHiddenOrSystem(entry.name)) return;
      const entryPath = path.join(folder.path, entry.name);
      const looksLikeImage = hasImageExtension(entry.name);
      if (!entry.isDirectory() && !entry.isSymbolicLink() && !looksLikeImage) return;
      let stats: fs.Stats;
      try {
        stats = await fs.promises.stat(entryPath); // follows links
      } catch (error) {
        if (entry.isSymbolicLink() && errorCode(error) === 'ENOENT') {
          if (looksLikeImage) problems.push({ path: entryPath, reason: 'broken symbolic link: its target does not exist' });
          return;
        }
        if (entry.isSymbolicLink() || looksLikeImage || entry.isDirectory()) problems.push({ path: entryPath, reason: describeFsError(error) });
        return;
      }
      if (stats.isDirectory()) {
        let real = entryPath;
        if (entry.isSymbolicLink()) {
          try {
            real = await fs.promises.realpath(entryPath);
          } catch (error) {
            problems.push({ path: entryPath, reason: describeFsError(error) });
            return;
          }
          if (folder.ancestors.includes(real)) {
            problems.push({ path: entryPath, reason: `symbolic link loop: it points back to ${real}, a folder above it; not followed` });
            return;
          }
        }
        subfolders.push({ path: entryPath, ancestors: [...folder.ancestors, real], rootIndex: folder.rootIndex });
        return;
      }
      if (!looksLikeImage) return;
      if (!stats.isFile()) {
        problems.push({ path: entryPath, reason: `${kindOf(stats)}, not an image file` });
        return;
      }
      if (seenFiles.has(entryPath)) return;
      seenFiles.add(entryPath);
      files.push({ path: entryPath, size: stats.size, mtimeMs: Math.trunc(stats.mtimeMs), rootIndex: folder.rootIndex });
    }));
    report();
    // Depth-first in name order: push in reverse so the first name is walked first.
    subfolders.sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
    pending.push(...subfolders);
  }
  report(true);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { roots, rootExists, files, problems, unreadableFolders };
}
