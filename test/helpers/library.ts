/**
 * A throw-away library for tests: a temp folder holding a real SQLite file (migrated by
 * openLibrary) and a `photos/` folder to write images into. Import from test/helpers/index.ts.
 *
 *   const temp = tempLibrary();
 *   try { ... temp.library.db ... } finally { temp.cleanup(); }
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openLibrary, type Library } from '../../core/store/db.ts';
import { ingestFolders, type IngestOptions, type IngestReport } from '../../core/library/ingest.service.ts';

export interface TempLibrary {
  /** The temp folder holding everything below. */
  dir: string;
  /** `<dir>/library.db` */
  dbPath: string;
  /** `<dir>/photos`, created empty: put test images here. */
  photosDir: string;
  /** The open library (database + dataDir). */
  library: Library;
  /** Closes the database (if still open) and removes the temp folder. Safe to call twice. */
  cleanup(): void;
}

/** Creates a temp folder with an open, migrated library and an empty photos folder. */
export function tempLibrary(prefix = 'looktwice-test-'): TempLibrary {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dbPath = path.join(dir, 'library.db');
  const photosDir = path.join(dir, 'photos');
  fs.mkdirSync(photosDir);
  const library = openLibrary(dbPath);
  return {
    dir,
    dbPath,
    photosDir,
    library,
    cleanup() {
      if (library.db.open) library.close();
      // Tests may chmod files; make sure removal works anyway.
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Ingests `folders` (default: the temp library's photos folder) with the real ingest service
 * and returns its report. `options` are IngestOptions (signal, onProgress, concurrency, …).
 */
export async function ingestFolder(temp: TempLibrary, folders: readonly string[] = [temp.photosDir], options: IngestOptions = {}): Promise<IngestReport> {
  return ingestFolders(temp.library, folders, options);
}

/**
 * The catalogue as plain, id-free rows, sorted, for comparing two libraries (e.g. a run that
 * was killed and resumed against a clean run): images by content hash, files by path,
 * thumbnails, perceptual hashes, ingest errors, folders, and the thumbnail files on disk.
 */
export function normalisedDump(library: Library): Record<string, unknown[]> {
  const { db } = library;
  const all = (sql: string): unknown[] => db.prepare(sql).all();
  const thumbnailFiles: string[] = [];
  const root = path.join(library.dataDir, 'thumbnails');
  if (fs.existsSync(root)) {
    for (const shard of fs.readdirSync(root).sort()) {
      for (const name of fs.readdirSync(path.join(root, shard)).sort()) if (!name.includes('.partial-')) thumbnailFiles.push(`${shard}/${name}`);
    }
  }
  return {
    images: all(`SELECT content_hash, byte_size, width, height, format, taken_at, camera_make, camera_model, orientation,
                        gps_lat, gps_lon, exif_json FROM images ORDER BY content_hash`),
    files: all(`SELECT f.path, f.status, f.size, f.mtime_ms, i.content_hash, d.path AS folder FROM files f
                JOIN images i ON i.id = f.image_id LEFT JOIN folders d ON d.id = f.folder_id ORDER BY f.path`),
    thumbnails: all(`SELECT i.content_hash, t.size_px, t.relpath, t.width, t.height FROM thumbnails t JOIN images i ON i.id = t.image_id
                     ORDER BY i.content_hash, t.size_px`),
    perceptualHashes: all(`SELECT i.content_hash, p.kind, p.hash FROM perceptual_hashes p JOIN images i ON i.id = p.image_id
                           ORDER BY i.content_hash, p.kind`),
    ingestErrors: all('SELECT path, reason FROM ingest_errors ORDER BY path'),
    folders: all('SELECT path FROM folders ORDER BY path'),
    thumbnailFiles,
  };
}

/** normalisedDump of the library file `file`, opened for the dump and closed again. */
export function normalisedDumpOf(file: string): Record<string, unknown[]> {
  const library = openLibrary(file);
  try {
    return normalisedDump(library);
  } finally {
    library.close();
  }
}
