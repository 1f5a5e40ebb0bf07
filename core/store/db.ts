/**
 * Opens a library database: better-sqlite3 (12.x) in WAL mode, foreign keys on, migrations
 * applied in order inside one transaction each. The files that belong to a library
 * (thumbnails, training caches, checkpoints) live in a folder next to the database file.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from './migrations/index.ts';

export type Db = Database.Database;

/** An open library: the database and the folder of files that belong to it. */
export interface Library {
  db: Db;
  dbPath: string;
  /** `<name>-files/` next to the database: thumbnails/, cache/, checkpoints/, … */
  dataDir: string;
  close(): void;
}

/** The folder of files belonging to the database at `dbPath` (not created). */
export function dataDirFor(dbPath: string): string {
  const resolved = path.resolve(dbPath);
  const base = path.basename(resolved).replace(/\.(db|sqlite3?)$/i, '');
  return path.join(path.dirname(resolved), `${base}-files`);
}

/**
 * Opens (creating if needed) the library at `dbPath` and migrates it to the newest schema.
 * Throws an Error with a clear message when the folder or file cannot be written.
 */
export function openLibrary(dbPath: string, options: { readonly?: boolean } = {}): Library {
  const resolved = path.resolve(dbPath);
  if (!options.readonly) {
    try {
      fs.mkdirSync(path.dirname(resolved), { recursive: true });
    } catch (error) {
      throw new Error(`cannot create the folder for the library database ${path.dirname(resolved)}: ${(error as Error).message}`);
    }
  }
  let db: Db;
  try {
    // LOOKTWICE_SQLITE_BINDING: the desktop app in development (`npm start`) points at a
    // better-sqlite3 build for Electron's ABI, leaving node_modules' Node build to the CLI.
    const nativeBinding = process.env.LOOKTWICE_SQLITE_BINDING;
    db = new Database(resolved, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false, ...(nativeBinding ? { nativeBinding } : {}) });
  } catch (error) {
    throw new Error(`cannot open the library database ${resolved}: ${(error as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 10000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (!options.readonly) migrate(db);
  } catch (error) {
    db.close();
    throw new Error(`cannot use the library database ${resolved}: ${(error as Error).message}`);
  }
  const dataDir = dataDirFor(resolved);
  return { db, dbPath: resolved, dataDir, close: () => db.close() };
}

/** Applies every migration newer than the database's `user_version`, each in its own transaction. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const newest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new Error(`the database was written by a newer Looktwice (schema ${current}, this version knows ${newest})`);
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
