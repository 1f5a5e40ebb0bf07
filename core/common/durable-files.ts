/**
 * Small file primitives the crash-safe moves of removal (core/curate/trash.ts) and export
 * (core/export/export.service.ts) share: the SHA-256 of a file (to verify a copy, or that a file
 * is still the one an export wrote), whether a path exists without following links, and an
 * fsync of a folder so a rename in it is durable. They take what the file system takes, so a
 * stored path goes in as `fsPath(path)` (core/common/file-name-bytes.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

/** SHA-256 of the file's bytes, hex, read in 1 MiB chunks. */
export function fileSha256(file: fs.PathLike): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Whether something (a file, folder or link, even a dangling one) is at `file`. */
export function pathExists(file: fs.PathLike): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** fsync of a folder, so a rename in it survives a power cut (not possible on every platform). */
export function syncDir(dir: fs.PathLike): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open a folder for fsync; a rename there is durable on its own.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
