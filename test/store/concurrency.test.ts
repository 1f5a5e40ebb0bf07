/**
 * Several processes on one library (the desktop app, `looktwice serve` and a CLI command is
 * the normal case): writers wait their turn instead of failing with "database is locked",
 * migrations of a brand-new database run once under one lock, and nothing is lost.
 * Real child processes on a real SQLite file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openLibrary } from '../../core/store/db.ts';
import { MIGRATIONS } from '../../core/store/migrations/index.ts';
import { normalisedDumpOf, REPO_ROOT, runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary();
});
afterEach(() => temp.cleanup());

async function folderOf(name: string, count: number, seedBase: number): Promise<string> {
  const dir = path.join(temp.photosDir, name);
  for (let i = 0; i < count; i++) {
    await writeImage(path.join(dir, `p-${String(i).padStart(3, '0')}.jpg`), { width: 48, height: 40, pattern: 'shapes', seed: seedBase + i });
  }
  return dir;
}

/**
 * A third writer on `file` (as the app would be): again and again it holds the write lock for
 * a moment and commits a change outside the catalogue. Any transaction of another process that
 * read before it committed and writes after used to fail at once with "database is locked".
 */
function interferingWriter(file: string): { stop(): Promise<number> } {
  const db = new Database(file);
  db.pragma('busy_timeout = 60000');
  db.exec('CREATE TABLE IF NOT EXISTS test_noise (n INTEGER)');
  let running = true;
  let commits = 0;
  const loop = (async () => {
    while (running) {
      db.exec('BEGIN IMMEDIATE');
      db.prepare('INSERT INTO test_noise (n) VALUES (?)').run(commits);
      await new Promise((resolve) => setTimeout(resolve, 25));
      db.exec('COMMIT');
      commits += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      db.close();
      return commits;
    },
  };
}

describe('two processes on one library', () => {
  it('two `looktwice ingest` runs at once both finish (exit 0) and lose nothing', async () => {
    const a = await folderOf('a', 14, 0);
    const b = await folderOf('b', 14, 100);
    const shared = path.join(temp.dir, 'shared', 'library.db');
    openLibrary(shared).close(); // the race on creating it is the next test
    const noise = interferingWriter(shared);
    const args = (folder: string): string[] => ['ingest', folder, '--db', shared, '--json', '--batch-size', '1', '--concurrency', '1'];
    const [first, second] = await Promise.all([runCli(args(a), { timeoutMs: 120_000 }), runCli(args(b), { timeoutMs: 120_000 })]);
    expect(await noise.stop()).toBeGreaterThan(5);
    for (const run of [first, second]) {
      expect(run.stderr).not.toMatch(/locked|busy|cannot/);
      expect(run.code).toBe(0);
    }
    expect(JSON.parse(first.stdout).added).toBe(14);
    expect(JSON.parse(second.stdout).added).toBe(14);

    const single = path.join(temp.dir, 'single', 'library.db');
    const alone = await runCli(['ingest', a, b, '--db', single, '--json']);
    expect(alone.code).toBe(0);
    expect(normalisedDumpOf(shared)).toEqual(normalisedDumpOf(single));
  }, 180_000);

  it('several processes opening one brand-new database at once migrate it once', async () => {
    const fresh = path.join(temp.dir, 'fresh', 'library.db');
    fs.mkdirSync(path.dirname(fresh));
    // This process holds the write lock of the empty database until every child has read its
    // schema version (0) and queued for the lock: each then finds the schema made by another.
    const holder = new Database(fresh);
    holder.pragma('journal_mode = WAL');
    holder.exec('BEGIN IMMEDIATE');
    let ready = 0;
    const script = `
      import { openLibrary } from './core/store/db.ts';
      process.stderr.write('ready\\n');
      const library = openLibrary(${JSON.stringify(fresh)});
      process.stdout.write(String(library.db.pragma('user_version', { simple: true })));
      library.close();
    `;
    const runs = await Promise.all(Array.from({ length: 4 }, () => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        err += c;
        if (c.includes('ready')) ready += 1;
        if (ready === 4 && holder.inTransaction) setTimeout(() => holder.exec('COMMIT'), 500);
      });
      child.on('close', (code) => resolve({ code, out, err: err.replace('ready\n', '') }));
    })));
    holder.close();
    const newest = MIGRATIONS.at(-1)!.version;
    for (const run of runs) expect(run).toEqual({ code: 0, out: String(newest), err: '' });
  }, 60_000);
});

describe('a write transaction begins as a writer', () => {
  it('a transaction that reads first and then writes waits for a writer that committed meanwhile', () => {
    const other = openLibrary(temp.dbPath);
    try {
      const { db } = temp.library;
      // Deferred, this transaction's read would pin a snapshot; the other connection's commit
      // then makes its first write fail at once (SQLITE_BUSY_SNAPSHOT, no busy wait helps).
      // Begun as a writer, the other connection is the one that has to wait.
      other.db.pragma('busy_timeout = 0');
      let otherWrite: unknown;
      db.transaction(() => {
        db.prepare('SELECT count(*) FROM images').pluck().get();
        try {
          other.db.prepare("INSERT INTO images (content_hash, byte_size, width, height, format) VALUES ('other', 1, 1, 1, 'png')").run();
        } catch (error) {
          otherWrite = error;
        }
        db.prepare("INSERT INTO images (content_hash, byte_size, width, height, format) VALUES ('mine', 1, 1, 1, 'png')").run();
      })();
      expect(String(otherWrite)).toMatch(/database is locked/);
      expect(db.prepare('SELECT content_hash FROM images ORDER BY content_hash').pluck().all()).toEqual(['mine']);
    } finally {
      other.close();
    }
  });
});
