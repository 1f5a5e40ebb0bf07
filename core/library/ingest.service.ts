/**
 * Ingest: brings one or more folders into the catalogue, incrementally and crash-safely.
 *
 * 1. scan   — list image files (scan.ts); nothing is read yet.
 * 2. decide — a path whose size and mtime match its row is unchanged and skipped.
 * 3. process — the rest are read and hashed (read-file.ts), and, unless that content is already
 *    catalogued, decoded once into a thumbnail and perceptual hashes (analyse-image.ts). Several
 *    files are in flight at once: reading, hashing and sharp's decoding run on libuv's thread
 *    pool, so both cores work while the main thread owns the database.
 * 4. commit — results are written one transaction per batch; a killed process loses at most
 *    the batch in flight, and the next run redoes exactly that. Thumbnails are written (atomic
 *    rename) before their rows, so a committed row always has its file.
 * 5. reconcile — after a complete scan, present paths that were not seen are marked missing.
 *
 * A new path whose content belongs to a path that is gone is a move: the files row keeps its
 * id and takes the new path, and the image row (with its embeddings and labels) is untouched.
 * The user's files are only ever read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RateMeter, CancelledError, type ProgressListener } from '../common/progress.ts';
import { fsPath, hasEscapedBytes } from '../common/file-name-bytes.ts';
import type { Library } from '../store/db.ts';
import { FilesRepository, type FileRow } from '../store/files.repository.ts';
import { ImagesRepository } from '../store/images.repository.ts';
import { IngestErrorsRepository } from '../store/ingest-errors.repository.ts';
import { analyseImage, DEFAULT_MAX_PIXELS, ImageRejectedError, THUMBNAIL_SIZE_PX, type AnalysedImage } from './analyse-image.ts';
import { assertUnchanged, FileChangedError, readAndHash } from './read-file.ts';
import { scanFolders, type ScannedFile } from './scan.ts';
import { ThumbnailCache } from './thumbnail-cache.ts';

/** What one ingest did; the shape of `looktwice ingest --json`. */
export interface IngestSummary {
  /** Paths new to the catalogue (or back after being missing). */
  added: number;
  /** Known paths whose content changed. */
  updated: number;
  /** Known paths with the same content (skipped by size + mtime, or re-hashed to the same). */
  unchanged: number;
  /** New paths whose content was at a path that is gone. */
  moved: number;
  /** Known paths whose file is gone (marked missing, nothing deleted). */
  missing: number;
  /** Files and folders that could not be ingested, with a specific reason each. */
  failed: Array<{ path: string; reason: string }>;
}

/** The summary plus what a caller needs to report it. */
export interface IngestReport extends IngestSummary {
  /** True when the signal stopped the run early: what was committed stays, rerun to finish. */
  cancelled: boolean;
  /** The roots as absolute real paths, and whether each exists. */
  roots: Array<{ path: string; exists: boolean }>;
  /** Files the scan listed. */
  scanned: number;
  elapsedMs: number;
}

export interface IngestOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Files in flight at once (default: cores + 1, at least 2). */
  concurrency?: number;
  /** Pixel limit above which an image is refused without decoding (default ≈ 268 MP). */
  maxPixels?: number;
  /** Results per transaction (default 64). */
  batchSize?: number;
  /** Longest time results wait before being committed (default 1000 ms). */
  batchIntervalMs?: number;
  /** Follow symbolic links out of the folders being ingested (default: report them, see scan.ts). */
  followExternalLinks?: boolean;
}

type ProcessResult =
  | { kind: 'ok'; file: ScannedFile; contentHash: string; size: number; mtimeMs: number; analysed: AnalysedImage | null; thumbnailRelpath: string | null }
  | { kind: 'failed'; file: ScannedFile; reason: string };

function describeReadError(error: unknown): string {
  if (error instanceof ImageRejectedError || error instanceof FileChangedError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM': return 'cannot read the file: permission denied';
    case 'ENOENT': return 'the file disappeared before it could be read';
    case 'EISDIR': return 'is a folder, not a file';
    case 'ELOOP': return 'symbolic link loop';
    case 'EIO': return 'input/output error while reading (failing disk or network share?)';
    case 'ENAMETOOLONG': return 'the path is too long for the file system';
    default: return (error as Error).message ?? String(error);
  }
}

/**
 * Whether the decoder needs the file's bytes in memory: HEIC goes through a WebAssembly
 * decoder, and libvips opens files by a text path, which cannot name a file whose name is not
 * UTF-8 (see core/common/file-name-bytes.ts).
 */
function needsBytesInMemory(filePath: string): boolean {
  return /\.(heic|heif)$/i.test(filePath) || hasEscapedBytes(filePath);
}

function isUnder(filePath: string, folder: string): boolean {
  return filePath.startsWith(folder.endsWith(path.sep) ? folder : `${folder}${path.sep}`);
}

/** Runs ingests against one library. */
export class IngestService {
  private readonly images: ImagesRepository;
  private readonly files: FilesRepository;
  private readonly errors: IngestErrorsRepository;
  private readonly thumbnails: ThumbnailCache;

  constructor(private readonly library: Library) {
    this.images = new ImagesRepository(library.db);
    this.files = new FilesRepository(library.db);
    this.errors = new IngestErrorsRepository(library.db);
    this.thumbnails = new ThumbnailCache(library.dataDir);
  }

  /** Ingests `folders` (recursively). Never throws for bad files; throws only if the DB fails. */
  async ingest(folders: readonly string[], options: IngestOptions = {}): Promise<IngestReport> {
    const startedMs = performance.now();
    const concurrency = options.concurrency ?? Math.max(2, os.availableParallelism() + 1);
    const batchSize = options.batchSize ?? 64;
    const batchIntervalMs = options.batchIntervalMs ?? 1000;
    const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    const report: IngestReport = { added: 0, updated: 0, unchanged: 0, moved: 0, missing: 0, failed: [], cancelled: false, roots: [], scanned: 0, elapsedMs: 0 };
    const finish = (): IngestReport => {
      report.failed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      report.elapsedMs = performance.now() - startedMs;
      return report;
    };
    this.thumbnails.removeStaleTemps();

    // 1. scan
    let scan;
    try {
      scan = await scanFolders(folders, { signal: options.signal, onProgress: options.onProgress, exclude: [this.library.dataDir], followExternalLinks: options.followExternalLinks });
    } catch (error) {
      if (error instanceof CancelledError) {
        report.cancelled = true;
        return finish();
      }
      throw error;
    }
    report.roots = scan.roots.map((root, i) => ({ path: root, exists: scan.rootExists[i]! }));
    report.scanned = scan.files.length;
    report.failed.push(...scan.problems);
    const liveRoots = scan.roots.filter((_, i) => scan.rootExists[i]);
    const folderIds = new Map<number, number>();
    this.library.db.transaction(() => {
      scan.roots.forEach((root, i) => {
        if (scan.rootExists[i]) folderIds.set(i, this.files.ensureFolder(root));
      });
    })();

    // 2. decide
    const known = new Map<string, FileRow>();
    for (const root of liveRoots) for (const row of this.files.underFolder(root)) known.set(row.path, row);
    const seen = new Set(scan.files.map((f) => f.path));
    const reappeared: FileRow[] = [];
    const todo: ScannedFile[] = [];
    const previouslyFailed = new Set<string>();
    for (const root of liveRoots) for (const p of this.errors.pathsUnder(root)) previouslyFailed.add(p);
    for (const file of scan.files) {
      const row = known.get(file.path);
      if (row && row.size === file.size && row.mtimeMs === file.mtimeMs && !previouslyFailed.has(file.path)) {
        if (row.status === 'present') report.unchanged += 1;
        else reappeared.push(row);
      } else {
        todo.push(file);
      }
    }
    if (reappeared.length > 0) {
      this.library.db.transaction(() => this.files.setStatus(reappeared.map((r) => r.id), 'present'))();
      report.added += reappeared.length;
    }

    // 3 + 4. process in parallel, commit in batches
    const total = todo.length;
    let done = 0;
    const meter = new RateMeter();
    const pending: ProcessResult[] = [];
    let lastCommitMs = performance.now();
    const commit = (): void => {
      if (pending.length === 0) return;
      const batch = pending.splice(0, pending.length);
      this.library.db.transaction(() => {
        for (const result of batch) this.apply(result, folderIds, seen, liveRoots, scan.unreadableFolders, report);
      })();
      lastCommitMs = performance.now();
    };
    const progress = (message?: string): void => {
      if (!options.onProgress) return;
      options.onProgress({ phase: 'ingest:process', done, total, ...meter.update(done, total), message });
    };
    if (total > 0) progress();
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      while (next < todo.length && !options.signal?.aborted && !failure) {
        const file = todo[next]!;
        next += 1;
        try {
          pending.push(await this.process(file, maxPixels));
          done += 1;
          if (pending.length >= batchSize || performance.now() - lastCommitMs >= batchIntervalMs) commit();
        } catch (error) {
          // Only the database can fail here (process() never throws): stop every worker.
          failure ??= { error };
          return;
        }
        progress(path.basename(file.path));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));
    if (failure) throw failure.error;
    commit();
    if (options.signal?.aborted) {
      report.cancelled = true;
      return finish();
    }

    // 5. reconcile: only folders whose listing was complete can tell that a file is gone.
    const failedPaths = new Set(report.failed.map((f) => f.path));
    this.library.db.transaction(() => {
      const gone: number[] = [];
      for (const root of liveRoots) {
        for (const row of this.files.presentUnseenUnder(root, seen)) {
          if (scan.unreadableFolders.some((folder) => isUnder(row.path, folder))) continue;
          gone.push(row.id);
        }
        const staleErrors = this.errors.pathsUnder(root).filter((p) => !seen.has(p) && !failedPaths.has(p));
        this.errors.clearMany(staleErrors);
      }
      this.files.setStatus(gone, 'missing');
      report.missing += gone.length;
      for (const [, folderId] of folderIds) this.files.markFolderScanned(folderId);
    })();
    return finish();
  }

  /** Reads, hashes and (if needed) analyses one file; never throws. */
  private async process(file: ScannedFile, maxPixels: number): Promise<ProcessResult> {
    try {
      // Hash first (a chunked read, nothing kept); libvips then reads the file itself for the
      // decode, off the main thread. The stat check after the decode catches a file that
      // changed in between, so the pixels always belong to the hashed bytes.
      const content = await readAndHash(file.path, file, { keepBytes: needsBytesInMemory(file.path) });
      const existing = this.images.byContentHash(content.contentHash);
      const complete = existing !== undefined && this.images.isComplete(existing.id, THUMBNAIL_SIZE_PX) && this.thumbnails.has(content.contentHash);
      let analysed: AnalysedImage | null = null;
      let thumbnailRelpath: string | null = null;
      if (!complete) {
        analysed = await analyseImage(content.bytes ?? file.path, { maxPixels, head: content.head });
        assertUnchanged(file, await fs.promises.stat(fsPath(file.path)), 'while decoding');
        thumbnailRelpath = await this.thumbnails.write(content.contentHash, analysed.thumbnail.bytes);
      }
      return { kind: 'ok', file, contentHash: content.contentHash, size: content.size, mtimeMs: content.mtimeMs, analysed, thumbnailRelpath };
    } catch (error) {
      return { kind: 'failed', file, reason: describeReadError(error) };
    }
  }

  /** Writes one result (inside the batch's transaction) and counts it. */
  private apply(
    result: ProcessResult,
    folderIds: ReadonlyMap<number, number>,
    seen: ReadonlySet<string>,
    liveRoots: readonly string[],
    unreadableFolders: readonly string[],
    report: IngestReport,
  ): void {
    const filePath = result.file.path;
    if (result.kind === 'failed') {
      this.errors.record({ path: filePath, reason: result.reason, size: result.file.size, mtimeMs: result.file.mtimeMs });
      report.failed.push({ path: filePath, reason: result.reason });
      return;
    }
    const { analysed } = result;
    let imageId = this.images.byContentHash(result.contentHash)?.id;
    if (imageId === undefined) {
      if (!analysed) throw new Error(`internal: ${filePath} has no analysis for new content`);
      imageId = this.images.insert({
        contentHash: result.contentHash,
        byteSize: result.size,
        width: analysed.width,
        height: analysed.height,
        format: analysed.format,
        ...analysed.exif,
      });
    }
    if (analysed && result.thumbnailRelpath) {
      this.images.upsertThumbnail({ imageId, sizePx: THUMBNAIL_SIZE_PX, relpath: result.thumbnailRelpath, width: analysed.thumbnail.width, height: analysed.thumbnail.height });
      this.images.upsertPerceptualHashes(imageId, { dhash: analysed.dhash, phash: analysed.phash });
    }
    const folderId = folderIds.get(result.file.rootIndex) ?? null;
    const file = { size: result.size, mtimeMs: result.mtimeMs };
    const row = this.files.byPath(filePath);
    if (row) {
      if (row.status !== 'present') report.added += 1;
      else if (row.imageId !== imageId) report.updated += 1;
      else report.unchanged += 1;
      this.files.update(row.id, { imageId, ...file });
    } else {
      // A move: the same content at a path that is gone (not seen by this scan under a folder
      // listed completely, or no longer on disk anywhere).
      const source = this.files.byImage(imageId).find((other) => {
        if (other.status === 'removed' || seen.has(other.path)) return false;
        if (other.status === 'missing') return true;
        const listedCompletely = liveRoots.some((root) => isUnder(other.path, root)) && !unreadableFolders.some((folder) => isUnder(other.path, folder));
        return listedCompletely || !fs.existsSync(fsPath(other.path));
      });
      if (source) {
        this.files.move(source.id, { path: filePath, folderId, ...file });
        report.moved += 1;
      } else {
        this.files.insert({ path: filePath, folderId, imageId, ...file });
        report.added += 1;
      }
    }
    this.errors.clear(filePath);
  }
}

/** Convenience: one ingest of `folders` into `library`. */
export function ingestFolders(library: Library, folders: readonly string[], options: IngestOptions = {}): Promise<IngestReport> {
  return new IngestService(library).ingest(folders, options);
}
