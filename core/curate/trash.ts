/**
 * Moving a photo out of the library without deleting it, and putting it back.
 * - Linux: the freedesktop.org Trash specification 1.0 — the file goes to
 *   $XDG_DATA_HOME/Trash/files (default ~/.local/share/Trash), with an info/<name>.trashinfo
 *   recording its original path and deletion date; the info file is created first with O_EXCL,
 *   which reserves the name. File managers show and restore it like any trashed file.
 * - macOS: ~/.Trash (Finder's trash; no metadata file, the undo log remembers the origin).
 * - Windows: the Recycle Bin needs a shell API Node does not have, so removals go to a
 *   quarantine folder instead (the caller says so to the user).
 * - Quarantine: any folder the user chose; names kept, a free name picked on collisions.
 * A move across file systems copies, verifies the size, then unlinks the original. Nothing is
 * ever overwritten: restoring onto an occupied path picks "name (restored).ext".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MoveResult {
  movedTo: string;
  /** The .trashinfo written for it (freedesktop trash only). */
  trashInfoPath: string | null;
}

/** Where this platform's trash is, or null when there is none we can use (Windows). */
export function trashLocation(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): { kind: 'freedesktop' | 'macos'; dir: string } | null {
  const home = env.HOME ?? os.homedir();
  if (platform === 'darwin') return { kind: 'macos', dir: path.join(home, '.Trash') };
  if (platform === 'win32') return null;
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return { kind: 'freedesktop', dir: path.join(dataHome, 'Trash') };
}

/** Moves a file, copying across devices; never overwrites `to` (fails if it exists). */
export function moveFile(from: string, to: string): void {
  if (fs.existsSync(to)) throw new Error(`refusing to overwrite ${to}`);
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
    const sourceSize = fs.statSync(from).size;
    if (fs.statSync(to).size !== sourceSize) {
      fs.rmSync(to, { force: true });
      throw new Error(`copy of ${from} to ${to} is incomplete; the original was left in place`);
    }
    fs.unlinkSync(from);
  }
}

/** "name.ext", "name (2).ext", … — the first that `isFree` accepts. */
export function freeName(base: string, isFree: (name: string) => boolean, suffix = ''): string {
  const ext = path.extname(base);
  const stem = base.slice(0, base.length - ext.length);
  const first = `${stem}${suffix}${ext}`;
  if (isFree(first)) return first;
  for (let n = 2; n < 100_000; n++) {
    const candidate = `${stem}${suffix} (${n})${ext}`;
    if (isFree(candidate)) return candidate;
  }
  throw new Error(`no free name for ${base}`);
}

function trashInfoDate(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Percent-encodes a path for the trashinfo Path= key (RFC 2396 escaping, slashes kept). */
function encodeTrashPath(filePath: string): string {
  return filePath.split('/').map((part) => encodeURIComponent(part)).join('/');
}

/** Moves a file to the user's trash. Throws on Windows (use quarantine there). */
export function moveToTrash(filePath: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): MoveResult {
  const location = trashLocation(env, platform);
  if (!location) throw new Error('this platform has no trash folder Looktwice can use; choose a quarantine folder');
  const absolute = path.resolve(filePath);
  if (location.kind === 'macos') {
    fs.mkdirSync(location.dir, { recursive: true });
    const name = freeName(path.basename(absolute), (n) => !fs.existsSync(path.join(location.dir, n)));
    const movedTo = path.join(location.dir, name);
    moveFile(absolute, movedTo);
    return { movedTo, trashInfoPath: null };
  }
  const filesDir = path.join(location.dir, 'files');
  const infoDir = path.join(location.dir, 'info');
  fs.mkdirSync(filesDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(infoDir, { recursive: true, mode: 0o700 });
  const info = `[Trash Info]\nPath=${encodeTrashPath(absolute)}\nDeletionDate=${trashInfoDate(new Date())}\n`;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const name = freeName(path.basename(absolute), (n) => !fs.existsSync(path.join(filesDir, n)) && !fs.existsSync(path.join(infoDir, `${n}.trashinfo`)));
    const trashInfoPath = path.join(infoDir, `${name}.trashinfo`);
    try {
      fs.writeFileSync(trashInfoPath, info, { flag: 'wx' }); // reserves the name (spec: atomic create)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    const movedTo = path.join(filesDir, name);
    try {
      moveFile(absolute, movedTo);
    } catch (error) {
      fs.rmSync(trashInfoPath, { force: true });
      throw error;
    }
    return { movedTo, trashInfoPath };
  }
  throw new Error(`could not reserve a name in the trash for ${absolute}`);
}

/** Moves a file into a quarantine folder (created if needed), keeping its name when free. */
export function moveToQuarantine(filePath: string, quarantineDir: string): MoveResult {
  const dir = path.resolve(quarantineDir);
  fs.mkdirSync(dir, { recursive: true });
  const name = freeName(path.basename(filePath), (n) => !fs.existsSync(path.join(dir, n)));
  const movedTo = path.join(dir, name);
  moveFile(path.resolve(filePath), movedTo);
  return { movedTo, trashInfoPath: null };
}

/**
 * Puts a moved file back at its original path, or — if something else now lives there — at a
 * free "name (restored).ext" beside it. Removes its .trashinfo. Returns where it went.
 */
export function restoreFile(movedTo: string, originalPath: string, trashInfoPath: string | null): string {
  if (!fs.existsSync(movedTo)) throw new Error(`${movedTo} is no longer there (emptied from the trash or moved?)`);
  const dir = path.dirname(originalPath);
  fs.mkdirSync(dir, { recursive: true });
  const target = fs.existsSync(originalPath)
    ? path.join(dir, freeName(path.basename(originalPath), (n) => !fs.existsSync(path.join(dir, n)), ' (restored)'))
    : originalPath;
  moveFile(movedTo, target);
  if (trashInfoPath) fs.rmSync(trashInfoPath, { force: true });
  return target;
}
