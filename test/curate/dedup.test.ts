import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ingestFolder, runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { findDuplicateGroups } from '../../core/curate/duplicates.ts';
import { applyRemovals, keepAll, undoLastApply } from '../../core/curate/dedup.service.ts';
import { moveToTrash, restoreFile } from '../../core/curate/trash.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';

let temp: TempLibrary | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

/** Three distinct photos-like images, one with exact copies and edited near copies. */
async function makeLibrary(): Promise<{ temp: TempLibrary; dir: string; original: string }> {
  const t = tempLibrary('looktwice-dedup-');
  const dir = t.photosDir;
  const original = await writeImage(path.join(dir, 'beach.jpg'), { width: 320, height: 240, pattern: 'shapes', seed: 101, quality: 95 });
  fs.mkdirSync(path.join(dir, 'backup'));
  fs.copyFileSync(original, path.join(dir, 'backup', 'beach.jpg')); // exact: same bytes
  await sharp(original).resize(160).jpeg({ quality: 70 }).toFile(path.join(dir, 'beach-small.jpg'));
  await sharp(original).flop().jpeg({ quality: 90 }).toFile(path.join(dir, 'beach-flipped.jpg'));
  await sharp(original).modulate({ brightness: 1.25 }).jpeg({ quality: 90 }).toFile(path.join(dir, 'beach-bright.jpg'));
  await sharp(original).extract({ left: 24, top: 18, width: 272, height: 204 }).jpeg({ quality: 90 }).toFile(path.join(dir, 'beach-crop.jpg'));
  await sharp(original).png().toFile(path.join(dir, 'beach-lossless.png')); // same pixels, other container
  for (const seed of [202, 303, 404, 505]) await writeImage(path.join(dir, `other-${seed}.jpg`), { width: 320, height: 240, pattern: 'shapes', seed });
  await ingestFolder(t);
  return { temp: t, dir, original };
}

describe('duplicates', () => {
  it('finds exact and near copies (resize, flip, brightness, crop) and nothing else', async () => {
    const made = await makeLibrary();
    temp = made.temp;
    const groups = await findDuplicateGroups(temp.library.db, { dataDir: temp.library.dataDir });
    expect(groups).toHaveLength(1);
    const [group] = groups;
    const names = group!.members.map((m) => path.relative(made.dir, m)).sort();
    expect(names).toEqual(['backup/beach.jpg', 'beach-bright.jpg', 'beach-crop.jpg', 'beach-flipped.jpg', 'beach-lossless.png', 'beach-small.jpg', 'beach.jpg']);
    expect(group!.kind).toBe('near');
    expect(group!.members[0]).toBe(group!.keep);
    // Full resolution, lossless at equal resolution: the PNG.
    expect(path.basename(group!.keep)).toBe('beach-lossless.png');
    expect(group!.why).toMatch(/lossless/);
    expect(group!.similarity).toBeGreaterThan(0.5);
    expect(group!.similarity).toBeLessThanOrEqual(1);
  });

  it('reports pixel-identical files and same-bytes copies as exact groups', async () => {
    temp = tempLibrary('looktwice-exact-');
    const a = await writeImage(path.join(temp.photosDir, 'a.png'), { width: 64, height: 48, pattern: 'shapes', seed: 5 });
    fs.copyFileSync(a, path.join(temp.photosDir, 'a-copy.png'));
    // Same pixels in another container: lossless WebP decodes to the same pixels.
    await sharp(a).webp({ lossless: true }).toFile(path.join(temp.photosDir, 'a.webp'));
    await writeImage(path.join(temp.photosDir, 'b.png'), { width: 64, height: 48, pattern: 'shapes', seed: 6 });
    await ingestFolder(temp);
    const groups = await findDuplicateGroups(temp.library.db, { dataDir: temp.library.dataDir });
    expect(groups).toHaveLength(1);
    expect(groups[0]!.kind).toBe('exact');
    expect(groups[0]!.similarity).toBe(1);
    expect(groups[0]!.members.map((m) => path.basename(m)).sort()).toEqual(['a-copy.png', 'a.png', 'a.webp']);
  });

  it('a collapsed model (every embedding alike) does not merge different photos', async () => {
    temp = tempLibrary('looktwice-collapsed-');
    for (const seed of [11, 12, 13, 14, 15]) await writeImage(path.join(temp.photosDir, `p${seed}.jpg`), { width: 96, height: 72, pattern: 'shapes', seed });
    await ingestFolder(temp);
    const db = temp.library.db;
    const runId = Number(db.prepare("INSERT INTO runs (status, config_json, backend, device) VALUES ('completed', '{}', 'cpu', 'cpu')").run().lastInsertRowid);
    const ids = db.prepare('SELECT id FROM images').pluck().all() as number[];
    new EmbeddingsRepository(db).upsertMany(runId, ids.map((imageId) => ({ imageId, vector: Float32Array.from([1, 0, 0, 0]) })));
    expect(await findDuplicateGroups(db)).toEqual([]);
  });

  it('blank frames match only blank frames of the same colour', async () => {
    temp = tempLibrary('looktwice-blank-');
    await writeImage(path.join(temp.photosDir, 'black.png'), { width: 64, height: 48, pattern: 'solid', color: [0, 0, 0] });
    await writeImage(path.join(temp.photosDir, 'black-large.png'), { width: 128, height: 96, pattern: 'solid', color: [1, 1, 1] });
    await writeImage(path.join(temp.photosDir, 'white.png'), { width: 64, height: 48, pattern: 'solid', color: [255, 255, 255] });
    await writeImage(path.join(temp.photosDir, 'red.png'), { width: 64, height: 48, pattern: 'solid', color: [200, 20, 20] });
    await ingestFolder(temp);
    const groups = await findDuplicateGroups(temp.library.db);
    expect(groups.map((g) => g.members.map((m) => path.basename(m)).sort())).toEqual([['black-large.png', 'black.png']]);
  });

  it('a group marked "keep all" does not come back, but the export view still sees it', async () => {
    temp = tempLibrary('looktwice-keepall-');
    const a = await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 120, height: 90, pattern: 'shapes', seed: 8 });
    fs.copyFileSync(a, path.join(temp.photosDir, 'a2.jpg'));
    await ingestFolder(temp);
    const [group] = await findDuplicateGroups(temp.library.db);
    keepAll(temp.library.db, group!);
    expect(await findDuplicateGroups(temp.library.db)).toEqual([]);
    expect(await findDuplicateGroups(temp.library.db, { includeDismissed: true })).toHaveLength(1);
  });
});

describe('removal and undo', () => {
  it('moves extra copies to the freedesktop trash with .trashinfo, undo restores the exact bytes', async () => {
    const made = await makeLibrary();
    temp = made.temp;
    const env = { ...process.env, XDG_DATA_HOME: path.join(temp.dir, 'xdg') };
    const before = new Map<string, Buffer>();
    const groups = await findDuplicateGroups(temp.library.db, { dataDir: temp.library.dataDir });
    for (const m of groups[0]!.members) before.set(m, fs.readFileSync(m));
    const result = applyRemovals(temp.library.db, groups, { method: 'trash', env, platform: 'linux' });
    expect(result.errors).toEqual([]);
    expect(result.moved).toHaveLength(6);
    const trash = path.join(temp.dir, 'xdg', 'Trash');
    for (const moved of result.moved) {
      expect(fs.existsSync(moved.from)).toBe(false);
      expect(moved.to.startsWith(path.join(trash, 'files'))).toBe(true);
      const info = fs.readFileSync(path.join(trash, 'info', `${path.basename(moved.to)}.trashinfo`), 'utf8');
      expect(info).toContain(`Path=${moved.from.split('/').map(encodeURIComponent).join('/')}`);
      expect(info).toMatch(/DeletionDate=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    }
    // Two files named beach.jpg: the second gets a free name in the trash.
    expect(new Set(result.moved.map((m) => m.to)).size).toBe(6);
    const statuses = temp.library.db.prepare("SELECT count(*) FROM files WHERE status = 'removed'").pluck().get();
    expect(statuses).toBe(6);
    expect(await findDuplicateGroups(temp.library.db)).toEqual([]);

    const undone = undoLastApply(temp.library.db);
    expect(undone.errors).toEqual([]);
    expect(undone.restored).toHaveLength(6);
    for (const [file, bytes] of before) expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.readdirSync(path.join(trash, 'info'))).toEqual([]);
    expect(temp.library.db.prepare("SELECT count(*) FROM files WHERE status = 'removed'").pluck().get()).toBe(0);
    expect(undoLastApply(temp.library.db).batchId).toBeNull();
  });

  it('quarantine folder: never overwrites on restore, picks a free name instead', async () => {
    temp = tempLibrary('looktwice-quarantine-');
    const a = await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 120, height: 90, pattern: 'shapes', seed: 9 });
    const copy = path.join(temp.photosDir, 'z-copy.jpg');
    fs.copyFileSync(a, copy);
    await ingestFolder(temp);
    const groups = await findDuplicateGroups(temp.library.db);
    const quarantine = path.join(temp.dir, 'quarantine');
    const result = applyRemovals(temp.library.db, groups, { method: 'quarantine', quarantineDir: quarantine });
    expect(result.moved).toEqual([{ from: copy, to: path.join(quarantine, 'z-copy.jpg') }]);
    fs.writeFileSync(copy, 'something new the user put there');
    const undone = undoLastApply(temp.library.db);
    expect(undone.restored[0]!.to).toBe(path.join(temp.photosDir, 'z-copy (restored).jpg'));
    expect(fs.readFileSync(copy, 'utf8')).toBe('something new the user put there');
    expect(fs.readFileSync(undone.restored[0]!.to).equals(fs.readFileSync(a))).toBe(true);
  });

  it('on macOS moves to ~/.Trash; Windows falls back to the quarantine folder and says so', async () => {
    temp = tempLibrary('looktwice-platform-');
    const file = path.join(temp.dir, 'x.jpg');
    fs.writeFileSync(file, 'x');
    const moved = moveToTrash(file, { HOME: temp.dir }, 'darwin');
    expect(moved.movedTo).toBe(path.join(temp.dir, '.Trash', 'x.jpg'));
    expect(restoreFile(moved.movedTo, file, null)).toBe(file);
    const a = await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 60, height: 40, pattern: 'shapes', seed: 10 });
    fs.copyFileSync(a, path.join(temp.photosDir, 'b.jpg'));
    await ingestFolder(temp);
    const result = applyRemovals(temp.library.db, await findDuplicateGroups(temp.library.db), {
      method: 'trash', platform: 'win32', fallbackQuarantineDir: path.join(temp.dir, 'q'),
    });
    expect(result.method).toBe('quarantine');
    expect(result.note).toMatch(/quarantine/);
    expect(result.moved).toHaveLength(1);
  });
});

describe('dedup CLI', () => {
  it('ingest → dedup → --apply --quarantine → --undo → --keep-all, all through the real CLI', async () => {
    temp = tempLibrary('looktwice-dedup-cli-');
    const a = await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 160, height: 120, pattern: 'shapes', seed: 21 });
    await sharp(a).resize(80).jpeg({ quality: 80 }).toFile(path.join(temp.photosDir, 'a-small.jpg'));
    await writeImage(path.join(temp.photosDir, 'b.jpg'), { width: 160, height: 120, pattern: 'shapes', seed: 22 });
    const bytes = fs.readFileSync(path.join(temp.photosDir, 'a-small.jpg'));
    temp.library.close();
    const db = ['--db', temp.dbPath];
    expect((await runCli(['ingest', temp.photosDir, ...db, '--json'])).code).toBe(0);
    const listed = await runCli(['dedup', ...db, '--json']);
    expect(listed.code).toBe(0);
    const { groups } = JSON.parse(listed.stdout) as { groups: Array<{ kind: string; keep: string; members: string[]; similarity: number; why: string }> };
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ kind: 'near', keep: path.join(temp.photosDir, 'a.jpg') });
    expect(groups[0]!.why).toMatch(/highest resolution \(160×120 vs 80×60\)/);
    const quarantine = path.join(temp.dir, 'quarantine');
    const applied = await runCli(['dedup', '--apply', '--quarantine', quarantine, ...db, '--json']);
    expect(JSON.parse(applied.stdout)).toMatchObject({ method: 'quarantine', moved: [{ from: path.join(temp.photosDir, 'a-small.jpg'), to: path.join(quarantine, 'a-small.jpg') }], errors: [] });
    expect(JSON.parse((await runCli(['dedup', ...db, '--json'])).stdout)).toEqual({ groups: [] });
    const undone = await runCli(['dedup', '--undo', ...db, '--json']);
    expect(JSON.parse(undone.stdout).restored).toHaveLength(1);
    expect(fs.readFileSync(path.join(temp.photosDir, 'a-small.jpg')).equals(bytes)).toBe(true);
    expect((await runCli(['dedup', '--keep-all', path.join(temp.photosDir, 'a.jpg'), ...db])).code).toBe(0);
    expect(JSON.parse((await runCli(['dedup', ...db, '--json'])).stdout)).toEqual({ groups: [] });
    const wrong = await runCli(['dedup', '--undo', '--apply', ...db]);
    expect(wrong.code).toBe(2);
  });
});
