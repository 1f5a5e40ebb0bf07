import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dataDirFor, openLibrary } from '../../core/store/db.ts';
import { MIGRATIONS } from '../../core/store/migrations/index.ts';

function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-db-'));
  return path.join(dir, 'library.db');
}

describe('openLibrary', () => {
  it('creates a WAL database migrated to the newest schema', () => {
    const dbPath = tempDb();
    const library = openLibrary(dbPath);
    expect(library.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(library.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    const tables = library.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['images', 'files', 'thumbnails', 'perceptual_hashes', 'ingest_errors', 'runs', 'embeddings']));
    library.close();
  });

  it('is idempotent: reopening applies nothing twice and keeps data', () => {
    const dbPath = tempDb();
    const first = openLibrary(dbPath);
    first.db.prepare("INSERT INTO images (content_hash, byte_size, width, height, format) VALUES ('abc', 1, 1, 1, 'png')").run();
    first.close();
    const second = openLibrary(dbPath);
    expect(second.db.prepare('SELECT count(*) FROM images').pluck().get()).toBe(1);
    second.close();
  });

  it('refuses a database from a newer version with a clear message', () => {
    const dbPath = tempDb();
    const library = openLibrary(dbPath);
    library.db.pragma('user_version = 999');
    library.close();
    expect(() => openLibrary(dbPath)).toThrow(/newer Looktwice/);
  });

  it('names the file when the database cannot be created', () => {
    expect(() => openLibrary('/etc/hostname/sub/library.db')).toThrow(/\/etc\/hostname\/sub/);
  });

  it('keeps library files next to the database', () => {
    expect(dataDirFor('/x/y/library.db')).toBe('/x/y/library-files');
  });
});
