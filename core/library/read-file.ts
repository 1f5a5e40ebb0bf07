/**
 * Reads a file once, hashing it while reading (SHA-256, node:crypto), and notices when the
 * file is being changed under us: its size and mtime must match the scan's before and after
 * the read. The content hash is the image's identity: the same bytes at two paths are one image.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

/** Files larger than this are hashed as a stream and not kept in memory (decoded from disk). */
export const MAX_IN_MEMORY_BYTES = 256 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/** A file that is not what the scan saw any more (being written, replaced, truncated). */
export class FileChangedError extends Error {
  constructor(detail: string) {
    super(`the file changed while being read (${detail}); it may still be being written — it will be retried on the next run`);
    this.name = 'FileChangedError';
  }
}

/** What a file's size and mtime were when the scan saw it. */
export interface ExpectedStat {
  size: number;
  /** Whole milliseconds. */
  mtimeMs: number;
}

export interface FileContent {
  /** Hex SHA-256 of the bytes. */
  contentHash: string;
  /** The bytes, or null for files over MAX_IN_MEMORY_BYTES. */
  bytes: Buffer | null;
  size: number;
  mtimeMs: number;
}

/** Throws FileChangedError when `actual` differs from `expected`. */
export function assertUnchanged(expected: ExpectedStat, actual: { size: number; mtimeMs: number }, when: string): void {
  const mtimeMs = Math.trunc(actual.mtimeMs);
  if (actual.size !== expected.size) throw new FileChangedError(`${when}: size ${expected.size} → ${actual.size} bytes`);
  if (mtimeMs !== expected.mtimeMs) throw new FileChangedError(`${when}: modified at ${new Date(mtimeMs).toISOString()}`);
}

/** Reads and hashes `filePath`; throws a clear Error (or FileChangedError) when it cannot. */
export async function readAndHash(filePath: string, expected: ExpectedStat, maxInMemoryBytes = MAX_IN_MEMORY_BYTES): Promise<FileContent> {
  // O_NONBLOCK: if the path became a FIFO since the scan, opening it must not hang the ingest.
  const handle = await fs.promises.open(filePath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw new Error('not a regular file');
    assertUnchanged(expected, before, 'since the scan');
    const hash = crypto.createHash('sha256');
    const keep = before.size <= maxInMemoryBytes;
    const bytes = keep ? Buffer.allocUnsafe(before.size) : null;
    const chunk = keep ? null : Buffer.allocUnsafe(CHUNK_BYTES);
    let offset = 0;
    for (;;) {
      const target = bytes ?? chunk!;
      const position = bytes ? offset : 0;
      const length = bytes ? Math.min(CHUNK_BYTES * 8, bytes.length - offset) : CHUNK_BYTES;
      if (length === 0) break;
      const { bytesRead } = await handle.read(target, position, length, offset);
      if (bytesRead === 0) break;
      hash.update(target.subarray(position, position + bytesRead));
      offset += bytesRead;
    }
    if (bytes && offset === bytes.length) {
      // The file may have grown: anything past the size we saw means it is being written.
      const { bytesRead } = await handle.read(Buffer.allocUnsafe(1), 0, 1, offset);
      if (bytesRead > 0) throw new FileChangedError('it grew while being read');
    }
    if (offset !== before.size) throw new FileChangedError(`read ${offset} of ${before.size} bytes`);
    const after = await handle.stat();
    assertUnchanged(expected, after, 'during the read');
    return { contentHash: hash.digest('hex'), bytes, size: before.size, mtimeMs: Math.trunc(before.mtimeMs) };
  } finally {
    await handle.close();
  }
}
