/**
 * Reads a file once to hash it (SHA-256, node:crypto, updated chunk by chunk while reading),
 * and notices when the file is being changed under us: its size and mtime must match the
 * scan's before and after the read. The content hash is the image's identity: the same bytes
 * at two paths are one image. The read goes through a few reused chunk buffers, so hashing a
 * library of multi-megabyte photos allocates (and garbage-collects) next to nothing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fsPath } from '../common/file-name-bytes.ts';

const CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes kept from the start of the file, for format sniffing. */
export const HEAD_BYTES = 64;
/** Chunk buffers not in use right now (one per file in flight at most). */
const freeChunks: Buffer[] = [];

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
  /** The first HEAD_BYTES bytes (fewer for a shorter file). */
  head: Buffer;
  /** The whole file, only when asked for with keepBytes. */
  bytes: Buffer | null;
  size: number;
  mtimeMs: number;
}

/** The content hash of bytes in memory: the same digest `readAndHash` computes while reading. */
export function contentHashOf(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Throws FileChangedError when `actual` differs from `expected`. */
export function assertUnchanged(expected: ExpectedStat, actual: { size: number; mtimeMs: number }, when: string): void {
  const mtimeMs = Math.trunc(actual.mtimeMs);
  if (actual.size !== expected.size) throw new FileChangedError(`${when}: size ${expected.size} → ${actual.size} bytes`);
  if (mtimeMs !== expected.mtimeMs) throw new FileChangedError(`${when}: modified at ${new Date(mtimeMs).toISOString()}`);
}

/**
 * Reads and hashes `filePath` (a stored path: escaped bytes of a name that is not UTF-8 are
 * given back to the file system as bytes); throws a clear Error (or FileChangedError) when it cannot.
 * With `keepBytes` the whole file is returned too (for decoders that need it in memory).
 */
export async function readAndHash(filePath: string, expected: ExpectedStat, options: { keepBytes?: boolean } = {}): Promise<FileContent> {
  // O_NONBLOCK: if the path became a FIFO since the scan, opening it must not hang the ingest.
  const handle = await fs.promises.open(fsPath(filePath), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const chunk = freeChunks.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw new Error('not a regular file');
    assertUnchanged(expected, before, 'since the scan');
    const hash = crypto.createHash('sha256');
    const bytes = options.keepBytes ? Buffer.allocUnsafe(before.size) : null;
    let head = Buffer.alloc(0);
    let offset = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, offset);
      if (bytesRead === 0) break;
      const piece = chunk.subarray(0, bytesRead);
      hash.update(piece);
      if (offset === 0) head = Buffer.from(piece.subarray(0, HEAD_BYTES));
      if (bytes) {
        if (offset + bytesRead > bytes.length) throw new FileChangedError('it grew while being read');
        piece.copy(bytes, offset);
      }
      offset += bytesRead;
      if (offset > before.size) throw new FileChangedError('it grew while being read');
    }
    if (offset !== before.size) throw new FileChangedError(`read ${offset} of ${before.size} bytes`);
    const after = await handle.stat();
    assertUnchanged(expected, after, 'during the read');
    return { contentHash: hash.digest('hex'), head, bytes, size: before.size, mtimeMs: Math.trunc(before.mtimeMs) };
  } finally {
    freeChunks.push(chunk);
    await handle.close();
  }
}
