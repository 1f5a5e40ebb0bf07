/**
 * Moving a photo out of the library without deleting it, and putting it back.
 * - Linux: the freedesktop.org Trash specification 1.0 — the file goes to
 *   $XDG_DATA_HOME/Trash/files (default ~/.local/share/Trash), with an info/<name>.trashinfo
 *   recording its original path and deletion date; the info file is created with O_EXCL,
 *   which reserves the name. File managers show and restore it like any trashed file.
 * - macOS: ~/.Trash (Finder's trash; no metadata file, the undo log remembers the origin).
 * - Windows: the Recycle Bin needs a shell API Node does not have, so removals go to a
 *   quarantine folder instead (the caller says so to the user).
 * - Quarantine: any folder the user chose; names kept, a free name picked on collisions.
 *
 * A move is a rename; across file systems it is copy to `<to>.looktwice-partial` + fsync +
 * verify (size and SHA-256) + the source's mode and access/modification times (to the
 * microsecond: Node's utimes takes no nanoseconds) + rename into place + unlink of the
 * original, so at every instant the file is whole at one place at least. `moveState` tells a
 * recovery which of those steps a killed process reached (core/curate/dedup.service.ts keeps
 * the journal). Nothing is ever overwritten: restoring onto an occupied path picks
 * "name (restored).ext".
 *
 * Paths are the catalogue's text (core/common/file-name-bytes.ts): a name that is not UTF-8
 * keeps its bytes in the trash or quarantine and back, every file-system call gets `fsPath`,
 * and the .trashinfo Path= percent-encodes the original bytes, as the specification says.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crashPoint } from '../common/crash-point.ts';
import { fileSha256, pathExists, syncDir } from '../common/durable-files.ts';
import { fsPath, nameBytes } from '../common/file-name-bytes.ts';

export interface MoveResult {
  movedTo: string;
  /** The .trashinfo written for it (freedesktop trash only). */
  trashInfoPath: string | null;
}

/** Where a file will go, before anything is written: what a journal entry announces. */
export interface PlannedMove extends MoveResult {
  /** The .trashinfo text to create (O_EXCL) before the move; null outside the freedesktop trash. */
  trashInfo: string | null;
}

const PARTIAL_SUFFIX = '.looktwice-partial';

/** Whether anything is at the stored path `file` (links not followed). */
function exists(file: string): boolean {
  return pathExists(fsPath(file));
}

/** Where this platform's trash is, or null when there is none we can use (Windows). */
export function trashLocation(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): { kind: 'freedesktop' | 'macos'; dir: string } | null {
  const home = env.HOME ?? os.homedir();
  if (platform === 'darwin') return { kind: 'macos', dir: path.join(home, '.Trash') };
  if (platform === 'win32') return null;
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return { kind: 'freedesktop', dir: path.join(dataHome, 'Trash') };
}

/**
 * Seconds for utimes that land on the same microsecond: libuv truncates seconds × 10⁶, and a
 * double near 1.7·10⁹ s can fall just below the intended microsecond, so aim at its middle.
 */
function utimeSeconds(ns: bigint): number {
  return (Number(ns / 1000n) + 0.5) / 1e6;
}

/** Copies across file systems: copy, fsync, verify, keep mode and times, rename into place, unlink. */
function moveAcross(from: string, to: string): void {
  const stat = fs.statSync(fsPath(from), { bigint: true }); // before reading: reading may move atime
  const mode = Number(stat.mode) & 0o7777;
  const partial = fsPath(to + PARTIAL_SUFFIX);
  fs.rmSync(partial, { force: true }); // only ever our own leftover: the name is ours
  const hash = crypto.createHash('sha256');
  const input = fs.openSync(fsPath(from), 'r');
  try {
    const output = fs.openSync(partial, 'wx', 0o600);
    try {
      const buffer = Buffer.allocUnsafe(1 << 20);
      for (let read = fs.readSync(input, buffer); read > 0; read = fs.readSync(input, buffer)) {
        hash.update(buffer.subarray(0, read));
        for (let written = 0; written < read;) written += fs.writeSync(output, buffer, written, read - written);
      }
      fs.fsyncSync(output);
    } finally {
      fs.closeSync(output);
    }
  } finally {
    fs.closeSync(input);
  }
  try {
    if (fs.statSync(partial).size !== Number(stat.size) || fileSha256(partial) !== hash.digest('hex')) {
      throw new Error(`copy of ${from} to ${to} does not match the original; the original was left in place`);
    }
    fs.chmodSync(partial, mode);
    fs.utimesSync(partial, utimeSeconds(stat.atimeNs), utimeSeconds(stat.mtimeNs));
    crashPoint('move-after-copy');
    if (exists(to)) throw new Error(`refusing to overwrite ${to}`);
    fs.renameSync(partial, fsPath(to));
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
  syncDir(fsPath(path.dirname(to)));
  crashPoint('move-before-unlink');
  try {
    fs.unlinkSync(fsPath(from));
  } catch (error) {
    // The original cannot go (a read-only folder?): take the copy back, so the file is in one place.
    fs.rmSync(fsPath(to), { force: true });
    throw error;
  }
  syncDir(fsPath(path.dirname(from)));
}

/** Moves a file, copying across devices (keeping bytes, mode and times); never overwrites `to`. */
export function moveFile(from: string, to: string): void {
  if (exists(to)) throw new Error(`refusing to overwrite ${to}`);
  try {
    fs.renameSync(fsPath(from), fsPath(to));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    moveAcross(from, to);
    return;
  }
  syncDir(fsPath(path.dirname(to)));
}

/**
 * How far a move from → to got, for a recovery after a crash:
 * 'moved' (only `to` is there), 'not-moved' (only `from`; a half copy is removed),
 * 'copied' (both, the same bytes: a move across devices killed before the unlink),
 * 'conflict' (both, different bytes: `to` is not this file), 'lost' (neither).
 */
export function moveState(from: string, to: string): 'moved' | 'not-moved' | 'copied' | 'conflict' | 'lost' {
  const source = exists(from);
  const target = exists(to);
  if (!target) fs.rmSync(fsPath(to + PARTIAL_SUFFIX), { force: true });
  if (source && target) {
    const same = fs.statSync(fsPath(from)).size === fs.statSync(fsPath(to)).size && fileSha256(fsPath(from)) === fileSha256(fsPath(to));
    return same ? 'copied' : 'conflict';
  }
  if (target) return 'moved';
  return source ? 'not-moved' : 'lost';
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

/** Bytes the trashinfo Path= key keeps as they are: RFC 2396's unreserved characters, and '/'. */
const UNRESERVED = /^[A-Za-z0-9_.!~*'()/-]$/;

/**
 * Percent-encodes a path's bytes for the trashinfo Path= key (RFC 2396 escaping, slashes kept):
 * byte by byte, so a name that is not UTF-8 is recorded as the bytes it has (for a UTF-8 name
 * this is what encodeURIComponent gives).
 */
function encodeTrashPath(filePath: string): string {
  let encoded = '';
  for (const byte of nameBytes(filePath)) {
    const char = String.fromCharCode(byte);
    encoded += byte < 0x80 && UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** Where `filePath` would go in the user's trash (nothing written yet). Throws on Windows. */
export function planTrashMove(filePath: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): PlannedMove {
  const location = trashLocation(env, platform);
  if (!location) throw new Error('this platform has no trash folder Looktwice can use; choose a quarantine folder');
  const absolute = path.resolve(filePath);
  if (location.kind === 'macos') {
    fs.mkdirSync(fsPath(location.dir), { recursive: true });
    const name = freeName(path.basename(absolute), (n) => !exists(path.join(location.dir, n)));
    return { movedTo: path.join(location.dir, name), trashInfoPath: null, trashInfo: null };
  }
  const filesDir = path.join(location.dir, 'files');
  const infoDir = path.join(location.dir, 'info');
  fs.mkdirSync(fsPath(filesDir), { recursive: true, mode: 0o700 });
  fs.mkdirSync(fsPath(infoDir), { recursive: true, mode: 0o700 });
  const name = freeName(path.basename(absolute), (n) => !exists(path.join(filesDir, n)) && !exists(path.join(infoDir, `${n}.trashinfo`)));
  return {
    movedTo: path.join(filesDir, name),
    trashInfoPath: path.join(infoDir, `${name}.trashinfo`),
    trashInfo: `[Trash Info]\nPath=${encodeTrashPath(absolute)}\nDeletionDate=${trashInfoDate(new Date())}\n`,
  };
}

/** Where `filePath` would go in a quarantine folder (created if needed), keeping its name when free. */
export function planQuarantineMove(filePath: string, quarantineDir: string): PlannedMove {
  const dir = path.resolve(quarantineDir);
  fs.mkdirSync(fsPath(dir), { recursive: true });
  const name = freeName(path.basename(filePath), (n) => !exists(path.join(dir, n)) && !exists(path.join(dir, n + PARTIAL_SUFFIX)));
  return { movedTo: path.join(dir, name), trashInfoPath: null, trashInfo: null };
}

/** Creates the planned .trashinfo (O_EXCL: the spec's name reservation); false when the name was taken meanwhile. */
export function reserveTrashName(planned: PlannedMove): boolean {
  if (!planned.trashInfoPath || planned.trashInfo === null) return true;
  try {
    fs.writeFileSync(fsPath(planned.trashInfoPath), planned.trashInfo, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Removes a .trashinfo only when it describes `originalPath` (it is ours, not another file's). */
export function releaseTrashName(trashInfoPath: string | null, originalPath: string): void {
  if (!trashInfoPath) return;
  try {
    if (fs.readFileSync(fsPath(trashInfoPath), 'utf8').includes(`\nPath=${encodeTrashPath(path.resolve(originalPath))}\n`)) fs.rmSync(fsPath(trashInfoPath), { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Carries out a planned move: reserves the trash name, then moves; on failure releases the name. */
export function carryOut(from: string, planned: PlannedMove): void {
  if (!reserveTrashName(planned)) throw new Error(`the trash name ${path.basename(planned.movedTo)} was taken meanwhile`);
  try {
    moveFile(from, planned.movedTo);
  } catch (error) {
    if (planned.trashInfoPath) fs.rmSync(fsPath(planned.trashInfoPath), { force: true });
    throw error;
  }
}

/** Moves a file to the user's trash. Throws on Windows (use quarantine there). */
export function moveToTrash(filePath: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): MoveResult {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const planned = planTrashMove(filePath, env, platform);
    if (!reserveTrashName(planned)) continue; // another process took the name: pick the next
    try {
      moveFile(path.resolve(filePath), planned.movedTo);
    } catch (error) {
      if (planned.trashInfoPath) fs.rmSync(fsPath(planned.trashInfoPath), { force: true });
      throw error;
    }
    return { movedTo: planned.movedTo, trashInfoPath: planned.trashInfoPath };
  }
  throw new Error(`could not reserve a name in the trash for ${path.resolve(filePath)}`);
}

/** Moves a file into a quarantine folder (created if needed), keeping its name when free. */
export function moveToQuarantine(filePath: string, quarantineDir: string): MoveResult {
  const planned = planQuarantineMove(filePath, quarantineDir);
  moveFile(path.resolve(filePath), planned.movedTo);
  return { movedTo: planned.movedTo, trashInfoPath: null };
}

/** Where a restored file goes: its original path, or a free "name (restored).ext" beside it. */
export function restoreTarget(originalPath: string): string {
  const dir = path.dirname(originalPath);
  fs.mkdirSync(fsPath(dir), { recursive: true });
  return exists(originalPath) ? path.join(dir, freeName(path.basename(originalPath), (n) => !exists(path.join(dir, n)), ' (restored)')) : originalPath;
}

/**
 * Puts a moved file back at its original path, or — if something else now lives there — at a
 * free "name (restored).ext" beside it. Removes its .trashinfo. Returns where it went.
 */
export function restoreFile(movedTo: string, originalPath: string, trashInfoPath: string | null): string {
  if (!exists(movedTo)) throw new Error(`${movedTo} is no longer there (emptied from the trash or moved?)`);
  const target = restoreTarget(originalPath);
  moveFile(movedTo, target);
  if (trashInfoPath) fs.rmSync(fsPath(trashInfoPath), { force: true });
  return target;
}
