import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { runExport, planExport, type ExportGroup } from '../../core/export/export.service.ts';
import { LabelsService } from '../../core/label/labels.service.ts';
import { LabelsRepository } from '../../core/store/labels.repository.ts';
import { ingestFolders } from '../../core/library/ingest.service.ts';
import { writeImage } from '../helpers/index.ts';
import { labelFixture, type LabelFixture } from '../label/library-fixture.ts';
import { labeledLibrary, listFiles, sha256 } from './export-fixture.ts';

let fixture: LabelFixture | null = null;
afterEach(() => {
  fixture?.temp.cleanup();
  fixture = null;
});

describe('export', () => {
  it('writes an ImageFolder dataset with stratified splits and a manifest, leaving the photos untouched', async () => {
    fixture = await labeledLibrary({ cat: 20, dog: 10, bird: 30 });
    const before = new Map(fixture.images.map((image) => [image.path, sha256(image.path)]));
    const out = path.join(fixture.temp.dir, 'dataset');
    const result = await runExport(fixture.temp.library.db, { out, format: 'imagefolder', split: [0.6, 0.2, 0.2], seed: 3, duplicateGroups: [] });
    expect(result).toMatchObject({ exported: 60, out, classes: { cat: 20, dog: 10, bird: 30 } });
    expect(result.splits.train + result.splits.val + result.splits.test).toBe(60);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    for (const [name, total] of [['cat', 20], ['dog', 10], ['bird', 30]] as const) {
      const counts = manifest.counts.classes[name];
      // Per-class proportions follow the split within one image.
      expect(Math.abs(counts.train - 0.6 * total)).toBeLessThanOrEqual(1);
      expect(Math.abs(counts.val - 0.2 * total)).toBeLessThanOrEqual(1);
      expect(Math.abs(counts.test - 0.2 * total)).toBeLessThanOrEqual(1);
      for (const split of ['train', 'val', 'test']) {
        expect(fs.readdirSync(path.join(out, split, name))).toHaveLength(counts[split]);
      }
    }
    expect(manifest).toMatchObject({ tool: 'looktwice', format: 'imagefolder', classes: ['bird', 'cat', 'dog'], settings: { seed: 3, mode: 'copy', dedup: false } });
    // Every file is a byte-identical copy; the originals did not change.
    const files = listFiles(out).filter((p) => p !== 'manifest.json');
    expect(files).toHaveLength(60);
    for (const relative of files) expect(relative).toMatch(/^(train|val|test)\/(cat|dog|bird)\/(cat|dog|bird)-\d+\.png$/);
    for (const [file, hash] of before) expect(sha256(file)).toBe(hash);
    // Nothing temporary is left next to the output.
    expect(fs.readdirSync(fixture.temp.dir).filter((name) => name.includes('looktwice-partial'))).toEqual([]);
  });

  it('keeps every near-duplicate group inside one split, and --dedup keeps only the keeper', async () => {
    fixture = await labeledLibrary({ cat: 24, dog: 24 });
    const ids = fixture.images.map((image) => image.imageId);
    // Groups of 2–4 images, some spanning classes.
    const groups: ExportGroup[] = [];
    for (let start = 0, size = 2; start + size <= ids.length; start += size + 3, size = (size % 4) + 2) {
      groups.push({ imageIds: ids.slice(start, start + size), keepImageId: ids[start + 1]! });
    }
    groups.push({ imageIds: [ids[22]!, ids[34]!], keepImageId: ids[34]! }); // spans cat and dog, disjoint from the others
    const plan = await planExport(fixture.temp.library.db, { split: [0.5, 0.25, 0.25], duplicateGroups: groups, seed: 7 });
    const splitOf = new Map(plan.images.map((image) => [image.imageId, image.split]));
    for (const group of groups) expect(new Set(group.imageIds.map((id) => splitOf.get(id))).size).toBe(1);
    expect(plan.images).toHaveLength(48);
    for (const split of ['train', 'val', 'test'] as const) expect(plan.splits[split]).toBeGreaterThan(0);

    const out = path.join(fixture.temp.dir, 'dedup');
    const result = await runExport(fixture.temp.library.db, { out, format: 'jsonl', duplicateGroups: groups, dedup: true });
    const grouped = groups.reduce((n, group) => n + group.imageIds.length, 0);
    expect(result.exported).toBe(48 - grouped + groups.length);
    const rows = fs.readFileSync(path.join(out, 'labels.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const exportedHashes = new Set(rows.map((row) => row.content_hash));
    const hashOf = new Map(fixture.temp.library.db.prepare('SELECT id, content_hash FROM images').all().map((r) => [(r as { id: number }).id, (r as { content_hash: string }).content_hash]));
    for (const group of groups) {
      const kept = group.imageIds.filter((id) => exportedHashes.has(hashOf.get(id)!));
      expect(kept).toEqual([group.keepImageId]);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.skipped.duplicate_not_keeper).toBe(grouped - groups.length);

    // Overlapping groups (a chain) are one group: one split, one keeper.
    const chain = [{ imageIds: [ids[0]!, ids[2]!], keepImageId: ids[0]! }, { imageIds: [ids[2]!, ids[3]!], keepImageId: ids[3]! }];
    const chained = await planExport(fixture.temp.library.db, { duplicateGroups: chain, dedup: true });
    expect(chained.groups).toBe(1);
    expect(chained.images.filter((image) => [ids[0], ids[2], ids[3]].includes(image.imageId)).map((image) => image.imageId)).toEqual([ids[0]]);
  });

  it('finds real duplicate groups itself: a re-saved copy of a photo lands in the same split', async () => {
    fixture = await labeledLibrary({ cat: 6, dog: 6 });
    // The same pixels as cat-0, saved as PNG elsewhere: an exact (pixel) duplicate.
    const copy = path.join(fixture.temp.photosDir, 'copies', 'cat-0-copy.png');
    const original = fixture.images[0]!;
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    await sharp(original.path).png({ compressionLevel: 1 }).withMetadata({ density: 300 }).toFile(copy);
    await ingestFolders(fixture.temp.library, [fixture.temp.photosDir]);
    const labels = new LabelsService(new LabelsRepository(fixture.temp.library.db));
    labels.labelPaths('cat', [copy]);
    const copyId = labels.resolvePaths([copy]).imageIds[0]!;
    expect(copyId).not.toBe(original.imageId); // different bytes, so a different image row
    for (const seed of [0, 1, 2, 3]) {
      const plan = await planExport(fixture.temp.library.db, { split: [0.4, 0.3, 0.3], seed, dataDir: fixture.temp.library.dataDir });
      expect(plan.groups).toBeGreaterThanOrEqual(1);
      const splitOf = new Map(plan.images.map((image) => [image.imageId, image.split]));
      expect(splitOf.get(copyId)).toBe(splitOf.get(original.imageId));
    }
  });

  it('writes CSV and JSONL rows with path, class, split, source, confidence and content hash', async () => {
    fixture = await labeledLibrary({ cat: 4, dog: 4 });
    const outCsv = path.join(fixture.temp.dir, 'csv');
    await runExport(fixture.temp.library.db, { out: outCsv, format: 'csv', duplicateGroups: [] });
    const [header, ...lines] = fs.readFileSync(path.join(outCsv, 'labels.csv'), 'utf8').trim().split('\n');
    expect(header).toBe('path,class,split,source,confidence,content_hash,original_path');
    expect(lines).toHaveLength(8);
    for (const line of lines) {
      const [relative, className, split, source, confidence, hash] = line.split(',');
      expect(fs.existsSync(path.join(outCsv, relative!))).toBe(true);
      expect(relative).toBe(`images/${className}/${path.basename(relative!)}`);
      expect(['train', 'val', 'test']).toContain(split);
      expect(source).toBe('user');
      expect(Number(confidence)).toBe(1);
      expect(hash).toMatch(/^[0-9a-f]{16,}$/);
    }
  });

  it('resolves name collisions: two different images with one base name in one class both survive', async () => {
    fixture = await labeledLibrary({ cat: 2 });
    const a = path.join(fixture.temp.photosDir, 'camera-a', 'IMG_0001.png');
    const b = path.join(fixture.temp.photosDir, 'camera-b', 'img_0001.PNG');
    await writeImage(a, { width: 20, height: 20, pattern: 'noise', seed: 101 });
    await writeImage(b, { width: 20, height: 20, pattern: 'noise', seed: 202, format: 'png' });
    await ingestFolders(fixture.temp.library, [fixture.temp.photosDir]);
    new LabelsService(new LabelsRepository(fixture.temp.library.db)).labelPaths('cat', [a, b]);
    const out = path.join(fixture.temp.dir, 'collide');
    const result = await runExport(fixture.temp.library.db, { out, format: 'imagefolder', split: [1, 0, 0], duplicateGroups: [] });
    expect(result.exported).toBe(4);
    const names = fs.readdirSync(path.join(out, 'train', 'cat'));
    expect(names).toHaveLength(4);
    expect(names.filter((name) => name.toLowerCase().startsWith('img_0001'))).toHaveLength(2);
    const hashes = new Set(names.map((name) => sha256(path.join(out, 'train', 'cat', name))));
    expect(hashes).toEqual(new Set([sha256(a), sha256(b), ...fixture.images.map((i) => sha256(i.path))]));
  });

  it('gives classes that differ only in case their own folders (case-insensitive disks)', async () => {
    fixture = await labelFixture({ cat: 2, dog: 2 });
    const labels = new LabelsService(new LabelsRepository(fixture.temp.library.db));
    labels.labelPaths('cat', fixture.images.slice(0, 2).map((i) => i.path));
    labels.labelPaths('Cat', fixture.images.slice(2, 4).map((i) => i.path));
    const out = path.join(fixture.temp.dir, 'cases');
    await runExport(fixture.temp.library.db, { out, format: 'imagefolder', split: [1, 0, 0], duplicateGroups: [] });
    expect(fs.readdirSync(path.join(out, 'train')).sort()).toEqual(['Cat', 'cat-2']);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.class_folders).toEqual({ Cat: 'Cat', cat: 'cat-2' });
    expect(manifest.class_to_idx).toEqual({ Cat: 0, 'cat-2': 1 });
  });

  it('refuses a non-empty folder without --force; --force replaces an old export and keeps foreign files aside', async () => {
    fixture = await labeledLibrary({ cat: 3, dog: 3 });
    const out = path.join(fixture.temp.dir, 'taken');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'precious.txt'), 'mine');
    await expect(runExport(fixture.temp.library.db, { out, format: 'imagefolder', duplicateGroups: [] })).rejects.toThrow(/is not empty.*--force/);
    expect(fs.readdirSync(out)).toEqual(['precious.txt']);
    const replaced = await runExport(fixture.temp.library.db, { out, format: 'imagefolder', duplicateGroups: [], force: true });
    expect(replaced.exported).toBe(6);
    const kept = fs.readdirSync(fixture.temp.dir).find((name) => name.startsWith('taken.looktwice-replaced-'));
    expect(kept).toBeDefined();
    expect(fs.readFileSync(path.join(fixture.temp.dir, kept!, 'precious.txt'), 'utf8')).toBe('mine');
    expect(replaced.warnings.join(' ')).toContain('kept in');
    // An old Looktwice export is simply replaced.
    const again = await runExport(fixture.temp.library.db, { out, format: 'csv', duplicateGroups: [], force: true });
    expect(again.exported).toBe(6);
    expect(fs.existsSync(path.join(out, 'labels.csv'))).toBe(true);
    expect(fs.readdirSync(fixture.temp.dir).filter((name) => name.startsWith('taken.looktwice-replaced-'))).toEqual([kept]);
    // An empty existing folder is fine without --force.
    const empty = path.join(fixture.temp.dir, 'empty');
    fs.mkdirSync(empty);
    expect((await runExport(fixture.temp.library.db, { out: empty, format: 'imagefolder', duplicateGroups: [] })).exported).toBe(6);
  });

  it('is atomic: a cancelled export leaves no target and no temp folder', async () => {
    fixture = await labeledLibrary({ cat: 5, dog: 5 });
    const out = path.join(fixture.temp.dir, 'cancelled');
    const controller = new AbortController();
    await expect(runExport(fixture.temp.library.db, {
      out, format: 'imagefolder', duplicateGroups: [], signal: controller.signal,
      onProgress: (progress) => progress.done === 4 && controller.abort(),
    })).rejects.toThrow(/cancelled/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(fixture.temp.dir).filter((name) => name.startsWith('cancelled'))).toEqual([]);
  });

  it('is atomic: a process killed mid-export leaves only a clearly named partial folder, which the next export removes', async () => {
    fixture = await labeledLibrary({ cat: 5, dog: 5 });
    const out = path.join(fixture.temp.dir, 'crashed');
    fixture.temp.library.close(); // the child opens the library itself
    const child = spawnSync(process.execPath, ['bin/run-ts.mjs', 'test/export/crash-export.fixture.ts', fixture.temp.dbPath, out, '4'], { encoding: 'utf8', timeout: 60_000 });
    expect(child.signal).toBe('SIGKILL');
    expect(fs.existsSync(out)).toBe(false);
    const partial = fs.readdirSync(fixture.temp.dir).filter((name) => name.startsWith('crashed.looktwice-partial-'));
    expect(partial).toHaveLength(1);
    expect(listFiles(path.join(fixture.temp.dir, partial[0]!)).length).toBeGreaterThanOrEqual(3);
    // The next export to the same folder cleans up and succeeds.
    const { openLibrary } = await import('../../core/store/db.ts');
    const library = openLibrary(fixture.temp.dbPath);
    try {
      const result = await runExport(library.db, { out, format: 'imagefolder', duplicateGroups: [] });
      expect(result.exported).toBe(10);
      expect(result.warnings.join(' ')).toMatch(/did not finish/);
      expect(fs.readdirSync(fixture.temp.dir).filter((name) => name.includes('looktwice-partial'))).toEqual([]);
    } finally {
      library.close();
    }
  });

  it('hard-links, symlinks, or resizes instead of copying', async () => {
    fixture = await labeledLibrary({ cat: 2, dog: 2 });
    const db = fixture.temp.library.db;
    const hard = path.join(fixture.temp.dir, 'hard');
    await runExport(db, { out: hard, format: 'imagefolder', split: [1, 0, 0], mode: 'hardlink', duplicateGroups: [] });
    const source = fixture.images[0]!.path;
    expect(fs.statSync(path.join(hard, 'train', 'cat', path.basename(source))).ino).toBe(fs.statSync(source).ino);
    const soft = path.join(fixture.temp.dir, 'soft');
    await runExport(db, { out: soft, format: 'imagefolder', split: [1, 0, 0], mode: 'symlink', duplicateGroups: [] });
    const link = path.join(soft, 'train', 'cat', path.basename(source));
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toBe(source);
    const small = path.join(fixture.temp.dir, 'small');
    await runExport(db, { out: small, format: 'imagefolder', split: [1, 0, 0], resizePx: 10, duplicateGroups: [] });
    const metadata = await sharp(path.join(small, 'train', 'cat', path.basename(source))).metadata();
    expect(Math.max(metadata.width!, metadata.height!)).toBe(10);
    await expect(runExport(db, { out: path.join(fixture.temp.dir, 'bad'), format: 'imagefolder', resizePx: 10, mode: 'symlink' })).rejects.toThrow(/needs --mode copy/);
  });

  it('leaves out unsure predictions and non-user labels on request, and reports missing files without stopping', async () => {
    fixture = await labelFixture({ cat: 6, dog: 6 });
    const repository = new LabelsRepository(fixture.temp.library.db);
    const labels = new LabelsService(repository);
    labels.labelPaths('cat', fixture.images.slice(0, 3).map((i) => i.path));
    labels.labelPaths('dog', fixture.images.slice(6, 9).map((i) => i.path));
    const { ProbeService } = await import('../../core/label/probe.service.ts');
    const { EmbeddingsRepository } = await import('../../core/store/embeddings.repository.ts');
    new ProbeService(repository, new EmbeddingsRepository(fixture.temp.library.db)).run({ unsureBelow: 0.5 });
    const predictions = repository.predictions();
    const confident = predictions.filter((p) => p.confidence >= 0.8).length;
    const all = await planExport(fixture.temp.library.db, { minConfidence: 0.8, duplicateGroups: [] });
    expect(all.images).toHaveLength(6 + confident);
    expect(all.images.filter((i) => i.predicted)).toHaveLength(confident);
    const userOnly = await planExport(fixture.temp.library.db, { onlyUserLabels: true, duplicateGroups: [] });
    expect(userOnly.images.every((i) => i.source === 'user')).toBe(true);
    expect(userOnly.skipped.not_a_user_label).toBe(6);

    // A photo that vanished since the last scan: reported, the rest still exported.
    const gone = fixture.images[0]!.path;
    fs.renameSync(gone, `${gone}.moved`);
    const out = path.join(fixture.temp.dir, 'partial-read');
    const result = await runExport(fixture.temp.library.db, { out, format: 'imagefolder', onlyUserLabels: true, duplicateGroups: [] });
    expect(result.exported).toBe(5);
    expect(result.errors).toEqual([{ path: gone, reason: expect.stringMatching(/ENOENT|no such file/) }]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')).errors).toHaveLength(1);
  });
});
