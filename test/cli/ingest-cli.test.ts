/**
 * The `looktwice ingest` and `looktwice curate` commands, run as real child processes:
 * the JSON contract, exit codes, permission errors without root's bypass, Ctrl-C, and a
 * SIGKILL mid-ingest that must end, after a rerun, in the same catalogue as a clean run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { normalisedDumpOf, ROOT_WITHOUT_PERMISSION_BYPASS, runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
let dbPath: string;
beforeEach(() => {
  temp = tempLibrary();
  dbPath = path.join(temp.dir, 'cli', 'library.db');
});
afterEach(() => temp.cleanup());

async function photos(count: number, options: { width?: number; height?: number; pattern?: 'noise' | 'shapes' } = {}): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    files.push(await writeImage(path.join(temp.photosDir, `album-${i % 3}`, `photo-${String(i).padStart(3, '0')}.jpg`), {
      width: options.width ?? 64, height: options.height ?? 48, pattern: options.pattern ?? 'shapes', seed: i,
      exif: { dateTimeOriginal: `2020:0${1 + (i % 9)}:15 12:00:00`, make: 'Looktwice', model: 'Test' },
    }));
  }
  return files;
}

/** Counts files rows in a database another process is writing (0 until its schema exists). */
function committedFiles(file: string): number {
  if (!fs.existsSync(file)) return 0;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return db.prepare('SELECT count(*) FROM files').pluck().get() as number;
  } catch {
    return 0; // not migrated yet, or busy for a moment: ask again
  } finally {
    db?.close();
  }
}

/** Polls until `condition()` holds, then calls `action`; gives up after `timeoutMs`. */
function when(condition: () => boolean, action: () => void, timeoutMs = 30_000): void {
  const started = Date.now();
  const tick = (): void => {
    if (condition()) action();
    else if (Date.now() - started < timeoutMs) setTimeout(tick, 5);
  };
  tick();
}

describe('looktwice ingest', () => {
  it('--json prints exactly the documented document; exit 0 with failed files; a rerun is all unchanged', async () => {
    await photos(4);
    const bad = path.join(temp.photosDir, 'broken.jpg');
    fs.writeFileSync(bad, 'plain text, not a JPEG');
    const first = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json']);
    expect(first.code).toBe(0);
    const document = JSON.parse(first.stdout);
    expect(Object.keys(document)).toEqual(['added', 'updated', 'unchanged', 'moved', 'missing', 'failed']);
    expect(document).toEqual({ added: 4, updated: 0, unchanged: 0, moved: 0, missing: 0, failed: [{ path: bad, reason: expect.stringMatching(/^not an image/) }] });
    expect(first.stdout.trim().split('\n')).toHaveLength(1);
    expect(first.stderr).toMatch(/ingest:process/); // progress goes to stderr
    const second = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ added: 0, updated: 0, unchanged: 4, moved: 0, missing: 0 });
  });

  it('prints a human summary with the failures and their reasons', async () => {
    await photos(3);
    fs.writeFileSync(path.join(temp.photosDir, 'empty.png'), '');
    const result = await runCli(['ingest', temp.photosDir, '--db', dbPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/added 3 · updated 0 · unchanged 0 · moved 0 · missing 0 · failed 1/);
    expect(result.stdout).toContain(`${path.join(temp.photosDir, 'empty.png')}: empty file (0 bytes)`);
  });

  it('a missing folder is an error entry; when every folder is missing the run fails (exit 1)', async () => {
    await photos(2);
    const nowhere = path.join(temp.dir, 'nowhere');
    const partly = await runCli(['ingest', nowhere, temp.photosDir, '--db', dbPath, '--json']);
    expect(partly.code).toBe(0);
    expect(JSON.parse(partly.stdout)).toMatchObject({ added: 2, failed: [{ path: nowhere, reason: 'folder does not exist' }] });
    const none = await runCli(['ingest', nowhere, '--db', dbPath, '--json']);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout)).toMatchObject({ added: 0, failed: [{ path: nowhere, reason: 'folder does not exist' }] });
    expect(none.stderr).toContain(`none of the folders exists: ${nowhere}`);
  });

  it('exits non-zero with a clear message when the database cannot be written, and 2 on usage errors', async () => {
    await photos(1);
    const aFile = path.join(temp.dir, 'a-file');
    fs.writeFileSync(aFile, 'x');
    const notWritable = await runCli(['ingest', temp.photosDir, '--db', path.join(aFile, 'library.db'), '--json']);
    expect(notWritable.code).toBe(1);
    expect(notWritable.stdout).toBe('');
    expect(notWritable.stderr).toMatch(/looktwice ingest: cannot create the folder for the library database/);
    const aFolder = await runCli(['ingest', temp.photosDir, '--db', temp.photosDir]);
    expect(aFolder.code).toBe(1);
    expect(aFolder.stderr).toMatch(/cannot open the library database/);
    const usage = await runCli(['ingest', '--db', dbPath]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/give at least one folder/);
  });

  it('an unreadable file (permissions) fails with its reason; the rest is ingested', async () => {
    const good = await photos(2);
    const locked = path.join(temp.photosDir, 'locked.jpg');
    await writeImage(locked, { width: 30, height: 30, seed: 99 });
    fs.chmodSync(locked, 0o000);
    // Root reads any file regardless of its mode, so as root (CI) the CLI runs without the
    // capabilities that bypass permissions: the permission check is then real.
    const asRoot = process.getuid?.() === 0;
    const result = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json'], asRoot ? { prefix: ROOT_WITHOUT_PERMISSION_BYPASS } : {});
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ added: 2, failed: [{ path: locked, reason: 'cannot read the file: permission denied' }] });
    const library = new Database(dbPath, { readonly: true });
    expect(library.prepare("SELECT path FROM files WHERE status = 'present' ORDER BY path").pluck().all()).toEqual(good);
    library.close();
  });

  it('an unreadable folder is reported, and the files known under it are not taken as deleted', async () => {
    await photos(6);
    expect(JSON.parse((await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json'])).stdout)).toMatchObject({ added: 6 });
    const locked = path.join(temp.photosDir, 'album-1');
    fs.chmodSync(locked, 0o000);
    const asRoot = process.getuid?.() === 0;
    const result = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json'], asRoot ? { prefix: ROOT_WITHOUT_PERMISSION_BYPASS } : {});
    fs.chmodSync(locked, 0o755);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ added: 0, updated: 0, unchanged: 4, moved: 0, missing: 0, failed: [{ path: locked, reason: 'cannot read folder: permission denied' }] });
  });

  it('Ctrl-C (SIGINT) stops at a safe point with exit 130; the next run resumes', async () => {
    const files = await photos(150, { width: 320, height: 240, pattern: 'noise' });
    let interruptedAt = -1;
    const stopped = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json', '--concurrency', '1', '--batch-size', '4'], {
      onSpawn: (child) => when(() => committedFiles(dbPath) >= 4, () => {
        interruptedAt = committedFiles(dbPath);
        child.kill('SIGINT');
      }),
    });
    expect(interruptedAt).toBeGreaterThanOrEqual(4);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/stopping at the next safe point/);
    const partial = JSON.parse(stopped.stdout);
    expect(partial.added).toBeGreaterThanOrEqual(interruptedAt);
    expect(partial.added).toBeLessThan(files.length);
    const resumed = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ added: files.length - partial.added, unchanged: partial.added, failed: [] });
  });

  it('SIGKILL mid-ingest, then a rerun, gives the same catalogue as an uninterrupted run', async () => {
    const files = await photos(150, { width: 320, height: 240, pattern: 'noise' });
    fs.writeFileSync(path.join(temp.photosDir, 'album-1', 'bad.jpg'), 'not an image');
    let killedWith = -1;
    let killedChild: ChildProcess | undefined;
    const killed = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--concurrency', '1', '--batch-size', '4'], {
      onSpawn: (child) => when(() => committedFiles(dbPath) >= 8, () => {
        killedWith = committedFiles(dbPath);
        killedChild = child;
        child.kill('SIGKILL');
      }),
    });
    expect(killedChild).toBeDefined();
    expect(killed.signal).toBe('SIGKILL');
    expect(killedWith).toBeGreaterThanOrEqual(8);
    expect(killedWith).toBeLessThan(files.length); // really killed mid-way
    const rerun = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json']);
    expect(rerun.code).toBe(0);
    const rerunSummary = JSON.parse(rerun.stdout);
    expect(rerunSummary.added + rerunSummary.unchanged).toBe(files.length);
    expect(rerunSummary.unchanged).toBeGreaterThanOrEqual(killedWith);

    const cleanDb = path.join(temp.dir, 'clean', 'library.db');
    const clean = await runCli(['ingest', temp.photosDir, '--db', cleanDb, '--json']);
    expect(JSON.parse(clean.stdout)).toMatchObject({ added: files.length, failed: [{ path: path.join(temp.photosDir, 'album-1', 'bad.jpg') }] });
    const resumedDump = normalisedDumpOf(dbPath);
    expect(resumedDump.files).toHaveLength(files.length);
    expect(resumedDump).toEqual(normalisedDumpOf(cleanDb));
  });
});

describe('looktwice curate', () => {
  it('ingests and prints a summary: counts, formats, date range, errors', async () => {
    await photos(5);
    await writeImage(path.join(temp.photosDir, 'extra.png'), { width: 30, height: 30, seed: 50 });
    fs.writeFileSync(path.join(temp.photosDir, 'zero.jpg'), '');
    const result = await runCli(['curate', temp.photosDir, '--db', dbPath, '--no-serve', '--steps', '2', '--size', '16']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/added 6 .* failed 1/);
    expect(result.stdout).toMatch(/Library: 6 images \(6 files present\)/);
    expect(result.stdout).toMatch(/formats: jpeg 5, png 1/);
    expect(result.stdout).toMatch(/taken: 2020-01-15 … 2020-05-15/);
    expect(result.stdout).toMatch(/1 file\(s\) could not be ingested/);
    const json = await runCli(['curate', temp.photosDir, '--db', dbPath, '--json']);
    const document = JSON.parse(json.stdout);
    expect(document.ingest).toMatchObject({ added: 0, unchanged: 6 });
    expect(document.library).toMatchObject({ images: 6, byFormat: { jpeg: 5, png: 1 }, takenAtRange: { first: '2020-01-15T12:00:00', last: '2020-05-15T12:00:00' }, ingestErrors: 1 });
  });
});
