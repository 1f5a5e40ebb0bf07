/**
 * Removal and undo are crash-safe and keep the file's metadata (issue 12, defect 4), on a real
 * library (real SQLite file, real JPEGs), with real child processes killed with SIGKILL at the
 * exact step named by the test hook LOOKTWICE_TEST_CRASH_AT, and a quarantine folder on another
 * file system (/dev/shm, tmpfs) so that moves are copy + fsync + verify + unlink:
 *   - after a kill at any step of an apply, the next apply (or undo) finishes or rolls back the
 *     interrupted move: every photo is in the library or recorded in the quarantine, none stranded;
 *   - after a kill during an undo, the next undo finishes it and older removals still undo;
 *   - across devices the bytes, the modification time (to the microsecond Node can set) and the
 *     mode come back the same.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { openLibrary, type Library } from '../../core/store/db.ts';
import { findDuplicateGroups } from '../../core/curate/duplicates.ts';
import { applyRemovals, undoLastApply } from '../../core/curate/dedup.service.ts';
import { LooktwiceService } from '../../core/api/service.ts';

/** A folder on another file system than the temp libraries, or null when there is none. */
function otherDeviceDir(): string | null {
  if (!fs.existsSync('/dev/shm')) return null;
  return fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev ? '/dev/shm' : null;
}
const OTHER_DEVICE = otherDeviceDir();

let temp: TempLibrary | undefined;
let library: Library | undefined;
const scratch: string[] = [];
afterEach(() => {
  if (library?.db.open) library.close();
  library = undefined;
  temp?.cleanup();
  temp = undefined;
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

interface Facts { sha256: string; mtimeUs: bigint; mode: number }

/**
 * Bytes, modification time (µs) and mode of each file. Not the access time: the test's own reads
 * move it (relatime), though moves keep it as they found it.
 */
function facts(files: readonly string[]): Map<string, Facts> {
  return new Map(files.map((file) => {
    const stat = fs.statSync(file, { bigint: true });
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    return [file, { sha256, mtimeUs: stat.mtimeNs / 1000n, mode: Number(stat.mode) }];
  }));
}

/**
 * Photos: two groups of exact copies (a, a-copy-1, a-copy-2; b, b-copy) and one single photo,
 * with an old modification time (microseconds set) and unusual modes, as a real library has.
 */
async function makeLibrary(): Promise<{ photos: string[]; quarantine: string }> {
  temp = tempLibrary('looktwice-crash-');
  const dir = temp.photosDir;
  const a = await writeImage(path.join(dir, 'a.jpg'), { width: 96, height: 64, pattern: 'shapes', seed: 41 });
  const b = await writeImage(path.join(dir, 'b.jpg'), { width: 96, height: 64, pattern: 'shapes', seed: 42 });
  const single = await writeImage(path.join(dir, 'single.jpg'), { width: 96, height: 64, pattern: 'gradient', seed: 43 });
  fs.mkdirSync(path.join(dir, 'copies'));
  const copies = ['a-copy-1.jpg', 'a-copy-2.jpg'].map((name) => path.join(dir, 'copies', name));
  for (const copy of copies) fs.copyFileSync(a, copy);
  const bCopy = path.join(dir, 'copies', 'b-copy.jpg');
  fs.copyFileSync(b, bCopy);
  const photos = [a, b, single, ...copies, bCopy];
  photos.forEach((photo, index) => {
    fs.chmodSync(photo, [0o640, 0o600, 0o644, 0o604, 0o660, 0o400][index]!);
    fs.utimesSync(photo, 1_000_000_000.123456 + index * 1000, 978_307_200.654321 + index * 1000); // 2001, with microseconds
  });
  await ingestFolder(temp);
  const quarantine = OTHER_DEVICE ? fs.mkdtempSync(path.join(OTHER_DEVICE, 'looktwice-quarantine-')) : path.join(temp.dir, 'quarantine');
  scratch.push(quarantine);
  temp.library.close(); // the child processes open the library themselves
  return { photos, quarantine };
}

function runChild(op: 'apply' | 'undo', quarantine: string, crashAt: string): void {
  const child = spawnSync(process.execPath, ['bin/run-ts.mjs', 'test/curate/dedup-crash.fixture.ts', temp!.dbPath, op, quarantine], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOOKTWICE_TEST_CRASH_AT: crashAt },
  });
  expect(child.signal, `${child.stdout}\n${child.stderr}`).toBe('SIGKILL');
}

/**
 * Nothing stranded: each photo is at its path and present in the catalogue, or recorded as
 * removed with its file at the recorded place; the quarantine holds exactly the recorded files
 * (no half-copied one) and no move is left open in the journal.
 */
function expectNothingStranded(db: Library['db'], photos: readonly string[], quarantine: string): void {
  const items = db.prepare('SELECT original_path AS originalPath, moved_to AS movedTo FROM removal_items WHERE restored_to IS NULL').all() as Array<{ originalPath: string; movedTo: string }>;
  const removed = new Map(items.map((item) => [item.originalPath, item.movedTo]));
  for (const photo of photos) {
    const status = db.prepare('SELECT status FROM files WHERE path = ?').pluck().get(photo);
    if (removed.has(photo)) {
      expect(status, photo).toBe('removed');
      expect(fs.existsSync(photo), photo).toBe(false);
      expect(fs.existsSync(removed.get(photo)!), removed.get(photo)).toBe(true);
    } else {
      expect(status, photo).toBe('present');
      expect(fs.existsSync(photo), photo).toBe(true);
    }
  }
  const inQuarantine = fs.existsSync(quarantine) ? fs.readdirSync(quarantine).map((name) => path.join(quarantine, name)).sort() : [];
  expect(inQuarantine).toEqual([...removed.values()].sort());
  expect(db.prepare("SELECT count(*) FROM removal_journal WHERE state IN ('intent', 'moved')").pluck().get()).toBe(0);
}

/** Undoes every removal, newest first; none may fail. */
function undoEverything(db: Library['db']): void {
  for (let result = undoLastApply(db); result.batchId !== null; result = undoLastApply(db)) expect(result.errors).toEqual([]);
}

describe('moves across file systems keep the metadata', () => {
  it.skipIf(!OTHER_DEVICE)('apply to a quarantine on tmpfs and undo: same bytes, same mtime and mode', async () => {
    const { photos, quarantine } = await makeLibrary();
    const before = facts(photos);
    library = openLibrary(temp!.dbPath);
    const applied = applyRemovals(library.db, await findDuplicateGroups(library.db, { dataDir: library.dataDir }), { method: 'quarantine', quarantineDir: quarantine });
    expect(applied.errors).toEqual([]);
    expect(applied.moved).toHaveLength(3);
    for (const { from, to } of applied.moved) {
      expect(fs.statSync(to).dev).not.toBe(fs.statSync(path.dirname(from)).dev);
      expect(facts([to]).get(to)).toEqual(before.get(from));
    }
    undoEverything(library.db);
    expect(facts(photos)).toEqual(before);
    expect(fs.readdirSync(quarantine)).toEqual([]);
  });
});

describe('a kill during apply strands nothing', () => {
  const points = ['removal-after-intent:2', 'removal-after-move:1', 'removal-after-moved:3', 'move-after-copy:2', 'move-before-unlink:1'];
  for (const point of points) {
    it.skipIf(point.startsWith('move-') && !OTHER_DEVICE)(`killed at ${point}: the next apply finishes or rolls back the move, and undo returns every photo as it was`, async () => {
      const { photos, quarantine } = await makeLibrary();
      const before = facts(photos);
      runChild('apply', quarantine, point);
      library = openLibrary(temp!.dbPath);
      const again = applyRemovals(library.db, await findDuplicateGroups(library.db, { dataDir: library.dataDir }), { method: 'quarantine', quarantineDir: quarantine });
      expect(again.errors).toEqual([]);
      expectNothingStranded(library.db, photos, quarantine);
      // Every extra copy is out of the library now: three removed, three kept.
      expect(library.db.prepare("SELECT count(*) FROM files WHERE status = 'removed'").pluck().get()).toBe(3);
      undoEverything(library.db);
      expectNothingStranded(library.db, photos, quarantine);
      expect(facts(photos)).toEqual(before);
    });
  }
});

describe('the app settles interrupted moves when it opens the library', () => {
  it('killed right after a move: opening the library (the app, serve) records it, before any apply or undo', async () => {
    const { photos, quarantine } = await makeLibrary();
    runChild('apply', quarantine, 'removal-after-move:2');
    const service = LooktwiceService.open(temp!.dbPath);
    try {
      expectNothingStranded(service.library.db, photos, quarantine);
      expect(service.library.db.prepare("SELECT count(*) FROM files WHERE status = 'removed'").pluck().get()).toBe(2);
    } finally {
      await service.close();
    }
  });
});

describe('a kill during undo blocks no undo', () => {
  const points = ['undo-after-intent:1', 'undo-after-move:1', 'move-after-copy:1', 'move-before-unlink:2'];
  for (const point of points) {
    it.skipIf(point.startsWith('move-') && !OTHER_DEVICE)(`killed at ${point}: the next undo finishes that removal, then the older one undoes too`, async () => {
      const { photos, quarantine } = await makeLibrary();
      const before = facts(photos);
      library = openLibrary(temp!.dbPath);
      const groups = await findDuplicateGroups(library.db, { dataDir: library.dataDir });
      const byKeep = (name: string) => groups.find((group) => path.basename(group.keep) === name)!;
      const older = applyRemovals(library.db, [byKeep('b.jpg')], { method: 'quarantine', quarantineDir: quarantine });
      const newer = applyRemovals(library.db, [byKeep('a.jpg')], { method: 'quarantine', quarantineDir: quarantine });
      expect([older.moved.length, newer.moved.length]).toEqual([1, 2]);
      library.close();

      runChild('undo', quarantine, point);
      library = openLibrary(temp!.dbPath);
      const first = undoLastApply(library.db);
      expect(first).toMatchObject({ batchId: newer.batchId, errors: [] });
      const second = undoLastApply(library.db);
      expect(second).toMatchObject({ batchId: older.batchId, errors: [] });
      expect(second.restored).toHaveLength(1);
      expect(undoLastApply(library.db).batchId).toBeNull();
      expectNothingStranded(library.db, photos, quarantine);
      expect(facts(photos)).toEqual(before);
    });
  }
});
