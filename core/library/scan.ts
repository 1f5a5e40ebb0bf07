/**
 * Walks library folders recursively and lists the image files in them, without reading any
 * file's content. Hidden and system entries are skipped, and the scan stays inside the library:
 * - a symbolic link is followed when it points inside the folders being scanned; one that
 *   leaves them is reported, and followed only with `followExternalLinks`;
 * - a link back to a folder above it (a loop) is reported instead of walked, and a folder
 *   reached twice (by a link, a bind mount or overlapping roots) is walked once;
 * - the excluded folders (the library's own data folder) are never entered, however reached;
 * - system pseudo-filesystems (/proc, /sys, /dev and their kin) are never entered: /proc alone
 *   reaches the whole disk again through every process's `root` link.
 * Names that are not valid UTF-8 are read as bytes and kept losslessly in the path text
 * (core/common/file-name-bytes.ts); every file-system call gets `fsPath(path)`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { fsPath, hasEscapedBytes, nameFromBytes } from '../common/file-name-bytes.ts';
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
  /** Follow symbolic links that point outside the folders being scanned (default: report them). */
  followExternalLinks?: boolean;
}

/**
 * statfs magic numbers (Linux, `f_type`) of kernel pseudo-filesystems: their files are not
 * photos, some never end (/proc/kcore) and /proc/<pid>/root leads back to the whole disk.
 */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x65735543, 'fusectl'],
  [0x19800202, 'mqueue'],
  [0x42494e4d, 'binfmt_misc'],
  [0x6e736673, 'nsfs'],
  [0xde5e81e4, 'efivarfs'],
]);
/** Mount points of pseudo-filesystems whose type alone does not tell (/dev is a tmpfs on Linux, devfs on macOS). */
const PSEUDO_MOUNT_POINTS = ['/proc', '/sys', '/dev'];

function isUnder(child: string, folder: string): boolean {
  return child === folder || child.startsWith(folder.endsWith(path.sep) ? folder : `${folder}${path.sep}`);
}

/** The pseudo-filesystem a folder (given by its real path) is on, or null; cached per device. */
async function pseudoFilesystem(realPath: string, dev: number, cache: Map<number, string | null>): Promise<string | null> {
  if (process.platform !== 'win32') {
    const mount = PSEUDO_MOUNT_POINTS.find((point) => isUnder(realPath, point));
    if (mount) return mount.slice(1);
  }
  if (cache.has(dev)) return cache.get(dev)!;
  let kind: string | null = null;
  try {
    kind = PSEUDO_FILESYSTEMS.get(Number((await fs.promises.statfs(fsPath(realPath))).type)) ?? null;
  } catch {
    // statfs unsupported here: the known mount points above are the check
  }
  cache.set(dev, kind);
  return kind;
}

/**
 * Why a folder (by its real path) is a system pseudo-filesystem and no photo folder, or null;
 * for refusing it when it is added, before any scan.
 */
export function systemFolderReason(realPath: string): string | null {
  if (process.platform !== 'win32') {
    const mount = PSEUDO_MOUNT_POINTS.find((point) => isUnder(realPath, point));
    if (mount) return pseudoReason(mount.slice(1));
  }
  try {
    const kind = PSEUDO_FILESYSTEMS.get(Number(fs.statfsSync(fsPath(realPath)).type));
    return kind ? pseudoReason(kind) : null;
  } catch {
    return null;
  }
}

function pseudoReason(kind: string): string {
  return `a system pseudo-filesystem (${kind}), not photos: not scanned`;
}

function externalLinkReason(target: string): string {
  return `a symbolic link to ${target}, outside the added folders: not followed (add that folder, or ingest with --follow-external-links)`;
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

/** A folder entry: its name as stored text (escaped bytes for a name that is not UTF-8). */
interface Entry {
  name: string;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/**
 * The entries of a folder. Node decodes names as UTF-8, turning invalid bytes into U+FFFD (a
 * name that then names no file); only for a folder holding such a name are the names read
 * again as bytes.
 */
async function listFolder(folder: string): Promise<Entry[]> {
  const entries = await fs.promises.readdir(fsPath(folder), { withFileTypes: true });
  if (!entries.some((entry) => entry.name.includes('\ufffd') || hasEscapedBytes(entry.name))) return entries;
  const raw = await fs.promises.readdir(fsPath(folder), { withFileTypes: true, encoding: 'buffer' });
  return raw.map((entry) => ({
    name: nameFromBytes(entry.name as unknown as Buffer),
    isDirectory: () => entry.isDirectory(),
    isSymbolicLink: () => entry.isSymbolicLink(),
  }));
}

/** The real path of a stored path, as stored text. */
async function realPathOf(stored: string): Promise<string> {
  return nameFromBytes(await fs.promises.realpath(fsPath(stored), { encoding: 'buffer' }));
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
  // The same folders by identity, so that no path (a link to a folder above them, a bind
  // mount) leads into them: dev:ino of the folder, and parent dev:ino + name for one that does
  // not exist yet (another process may create it while this scan runs).
  const excludedIds = new Set<string>();
  const excludedNames = new Set<string>();
  for (const excluded of options.exclude ?? []) {
    const resolved = path.resolve(excluded);
    exclude.add(resolved);
    try {
      exclude.add(fs.realpathSync(excluded));
      const stats = fs.statSync(excluded);
      excludedIds.add(`${stats.dev}:${stats.ino}`);
    } catch {
      // not created yet: its name in its parent identifies it
    }
    try {
      const parent = fs.statSync(path.dirname(resolved));
      excludedNames.add(`${parent.dev}:${parent.ino}/${path.basename(resolved)}`);
    } catch {
      // no parent folder: nothing can lead into it
    }
  }
  const pseudoByDev = new Map<number, string | null>();
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
    const rootStats = fs.statSync(real);
    const pseudo = await pseudoFilesystem(real, rootStats.dev, pseudoByDev);
    if (pseudo) {
      roots.push(real);
      rootExists.push(false);
      problems.push({ path: real, reason: pseudoReason(pseudo) });
      continue;
    }
    roots.push(real);
    rootExists.push(true);
    pending.push({ path: real, ancestors: [real], rootIndex });
  }
  const liveRoots = roots.filter((_, i) => rootExists[i]);
  const insideRoots = (real: string): boolean => liveRoots.some((root) => isUnder(real, root));
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
    let entries: Entry[];
    try {
      folderStats = await fs.promises.stat(fsPath(folder.path));
      entries = await listFolder(folder.path);
    } catch (error) {
      problems.push({ path: folder.path, reason: `cannot read folder: ${describeFsError(error)}` });
      unreadableFolders.push(folder.path);
      continue;
    }
    const key = `${folderStats.dev}:${folderStats.ino}`;
    if (visited.has(key) || excludedIds.has(key)) continue;
    visited.add(key);

    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subfolders: PendingFolder[] = [];
    await Promise.all(entries.map(async (entry) => {
      if (isHiddenOrSystem(entry.name)) return;
      const entryPath = path.join(folder.path, entry.name);
      const looksLikeImage = hasImageExtension(entry.name);
      if (!entry.isDirectory() && !entry.isSymbolicLink() && !looksLikeImage) return;
      if (excludedNames.has(`${key}/${entry.name}`)) return;
      let stats: fs.Stats;
      try {
        stats = await fs.promises.stat(fsPath(entryPath)); // follows links
      } catch (error) {
        if (entry.isSymbolicLink() && errorCode(error) === 'ENOENT') {
          if (looksLikeImage) problems.push({ path: entryPath, reason: 'broken symbolic link: its target does not exist' });
          return;
        }
        if (entry.isSymbolicLink() || looksLikeImage || entry.isDirectory()) problems.push({ path: entryPath, reason: describeFsError(error) });
        return;
      }
      if (!stats.isDirectory() && !looksLikeImage) return;
      let real = entryPath;
      if (entry.isSymbolicLink()) {
        try {
          real = await realPathOf(entryPath);
        } catch (error) {
          problems.push({ path: entryPath, reason: describeFsError(error) });
          return;
        }
        if (stats.isDirectory() && folder.ancestors.includes(real)) {
          problems.push({ path: entryPath, reason: `symbolic link loop: it points back to ${real}, a folder above it; not followed` });
          return;
        }
        if (stats.isDirectory() && excludedIds.has(`${stats.dev}:${stats.ino}`)) return;
        const pseudo = await pseudoFilesystem(real, stats.dev, pseudoByDev);
        if (pseudo) {
          problems.push({ path: entryPath, reason: pseudoReason(pseudo) });
          return;
        }
        if (!options.followExternalLinks && !insideRoots(real)) {
          problems.push({ path: entryPath, reason: externalLinkReason(real) });
          return;
        }
      }
      if (stats.isDirectory()) {
        // A mount point inside a folder (not reached by a link) may be a pseudo-filesystem too.
        if (!entry.isSymbolicLink() && stats.dev !== folderStats.dev) {
          const pseudo = await pseudoFilesystem(await realPathOf(entryPath).catch(() => entryPath), stats.dev, pseudoByDev);
          if (pseudo) {
            problems.push({ path: entryPath, reason: pseudoReason(pseudo) });
            return;
          }
        }
        subfolders.push({ path: entryPath, ancestors: [...folder.ancestors, real], rootIndex: folder.rootIndex });
        return;
      }
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
