/**
 * Opens a library database: better-sqlite3 (12.x) in WAL mode, foreign keys on, migrations
 * applied in order under one write lock. The files that belong to a library (thumbnails,
 * training caches, checkpoints) live in a folder next to the database file.
 *
 * Several processes use one library at once (the desktop app, `looktwice serve`, a CLI
 * command): every transaction of a writable connection begins as a writer (BEGIN IMMEDIATE),
 * so a writer that finds another one waits its turn (busy_timeout) instead of failing; a
 * transaction that began by reading would otherwise fail at its first write as soon as another
 * process committed in between (SQLITE_BUSY_SNAPSHOT, which no busy wait can cure).
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
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!options.readonly) {
      beginTransactionsAsWriter(db);
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

/**
 * How long a statement waits for another connection's write lock before "database is
 * locked". Long enough for the longest write transaction another process holds (a batch of
 * stored clusters or embeddings takes well under a second; a migration of a big library a few).
 */
export const BUSY_TIMEOUT_MS = 60_000;

/**
 * Makes `db.transaction(fn)()` run as BEGIN IMMEDIATE (nested calls stay savepoints), so no
 * call site can forget that its transaction writes. `.deferred` is still there for a
 * transaction that only reads.
 */
function beginTransactionsAsWriter(db: Db): void {
  const deferred = db.transaction.bind(db);
  db.transaction = ((fn: Parameters<Db['transaction']>[0]) => deferred(fn).immediate) as Db['transaction'];
}

function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration newer than the database's `user_version`, all in one write
 * transaction. The version is read again once the lock is held: another process opening the
 * same new database may have migrated it while this one waited.
 */
export function migrate(db: Db): void {
  const newest = MIGRATIONS.at(-1)?.version ?? 0;
  const check = (current: number): void => {
    if (current > newest) {
      throw new Error(`the database was written by a newer Looktwice (schema ${current}, this version knows ${newest})`);
    }
  };
  const before = schemaVersion(db);
  check(before);
  if (before === newest) return; // the common case: no lock taken
  db.transaction(() => {
    const current = schemaVersion(db);
    check(current);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
}
