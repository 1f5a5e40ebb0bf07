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
