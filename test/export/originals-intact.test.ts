/**
 * Every originals check stays (issue 12): after a sequence of apply, undo, export and crashes —
 * real child processes killed with SIGKILL (test hook LOOKTWICE_TEST_CRASH_AT) in the middle of a
 * removal across file systems, of an export --force swap and of an undo — the user's photos are
 * byte-identical, with the same modification time (µs) and mode, at their paths and present in
 * the catalogue, and nothing of the machinery is left behind.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFolders } from '../../core/library/ingest.service.ts';
import { LabelsService } from '../../core/label/labels.service.ts';
import { LabelsRepository } from '../../core/store/labels.repository.ts';
import { openLibrary, type Library } from '../../core/store/db.ts';
import { findDuplicateGroups } from '../../core/curate/duplicates.ts';
import { applyRemovals, undoLastApply } from '../../core/curate/dedup.service.ts';
import { runExport } from '../../core/export/export.service.ts';
import { labelFixture, type LabelFixture } from '../label/library-fixture.ts';

let fixture: LabelFixture | null = null;
let library: Library | null = null;
const scratch: string[] = [];
afterEach(() => {
  if (library?.db.open) library.close();
  library = null;
  fixture?.temp.cleanup();
  fixture = null;
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function facts(files: readonly string[]): Map<string, { sha256: string; mtimeUs: bigint; mode: number }> {
  return new Map(files.map((file) => {
    const stat = fs.statSync(file, { bigint: true });
    return [file, { sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), mtimeUs: stat.mtimeNs / 1000n, mode: Number(stat.mode) }];
  }));
}

function child(script: string, args: readonly string[], crashAt: string): void {
  const result = spawnSync(process.execPath, ['bin/run-ts.mjs', script, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOOKTWICE_TEST_CRASH_AT: crashAt } });
  expect(result.signal, `${crashAt}: ${result.stderr}`).toBe('SIGKILL');
}

describe('the originals survive apply, undo, export and crashes', () => {
  it('photos are byte-identical with the same mtime and mode after the whole sequence', async () => {
    fixture = await labelFixture({ cat: 3, dog: 3 });
    const photos = fixture.temp.photosDir;
    const copies = path.join(photos, 'copies');
    fs.mkdirSync(copies);
    for (const image of fixture.images.slice(0, 2)) fs.copyFileSync(image.path, path.join(copies, `copy-of-${path.basename(image.path)}`));
    const all = (fs.readdirSync(photos, { recursive: true }) as string[]).map((p) => path.join(photos, p)).filter((p) => fs.statSync(p).isFile()).sort();
    all.forEach((photo, index) => {
      fs.chmodSync(photo, index % 2 ? 0o640 : 0o604);
      fs.utimesSync(photo, 1_100_000_000.25 + index, 1_000_000_000.123457 + index * 7);
    });
    await ingestFolders(fixture.temp.library, [photos]);
    new LabelsService(new LabelsRepository(fixture.temp.library.db)).labelPaths('cat', [copies]);
    const before = facts(all);
    const dbPath = fixture.temp.dbPath;
    const otherDevice = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev;
    const quarantine = otherDevice ? fs.mkdtempSync('/dev/shm/looktwice-originals-') : path.join(fixture.temp.dir, 'quarantine');
    scratch.push(quarantine);
    const out = path.join(fixture.temp.dir, 'dataset');
    fixture.temp.library.close();

    // 1. Apply, killed in the middle of a move (across devices: after the copy, before the unlink).
    child('test/curate/dedup-crash.fixture.ts', [dbPath, 'apply', quarantine], otherDevice ? 'move-before-unlink:1' : 'removal-after-move:1');
    library = openLibrary(dbPath);
    const applied = applyRemovals(library.db, await findDuplicateGroups(library.db, { dataDir: library.dataDir }), { method: 'quarantine', quarantineDir: quarantine });
    expect(applied.errors).toEqual([]);
    expect(library.db.prepare("SELECT count(*) FROM files WHERE status = 'removed'").pluck().get()).toBe(2);

    // 2. Export as hard links (they share the photos' inodes), then --force killed mid-swap, then recovered.
    await runExport(library.db, { out, format: 'imagefolder', mode: 'hardlink', duplicateGroups: [], dataDir: library.dataDir });
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    library.close();
    child('test/export/crash-export.fixture.ts', [dbPath, out, '0', 'force', 'csv'], 'export-before-second-rename');
    library = openLibrary(dbPath);
    await runExport(library.db, { out, format: 'jsonl', mode: 'symlink', duplicateGroups: [], force: true, dataDir: library.dataDir });
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
    library.close();

    // 3. Undo, killed right after its first move; the next undos finish it and the older removal.
    child('test/curate/dedup-crash.fixture.ts', [dbPath, 'undo'], 'undo-after-move:1');
    library = openLibrary(dbPath);
    const restored: string[] = [];
    for (let undone = undoLastApply(library.db); undone.batchId !== null; undone = undoLastApply(library.db)) {
      expect(undone.errors).toEqual([]);
      restored.push(...undone.restored.map((r) => r.to));
    }
    expect(restored).toHaveLength(2);

    // 4. One more export --force, a plain copy.
    await runExport(library.db, { out, format: 'imagefolder', duplicateGroups: [], force: true, dataDir: library.dataDir });

    expect(facts(all)).toEqual(before);
    expect(library.db.prepare("SELECT count(*) FROM files WHERE status = 'present'").pluck().get()).toBe(all.length);
    expect(fs.readdirSync(quarantine)).toEqual([]);
    expect(fs.readdirSync(fixture.temp.dir).filter((name) => name.includes('.looktwice-'))).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
