import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ingestFolders } from '../../core/library/ingest.service.ts';
import { FilesRepository } from '../../core/store/files.repository.ts';
import { ImagesRepository } from '../../core/store/images.repository.ts';
import { ingestFolder, normalisedDump, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary();
});
afterEach(() => temp.cleanup());

const count = (sql: string): number => temp.library.db.prepare(sql).pluck().get() as number;
const pathsOf = (status: string): string[] => temp.library.db.prepare('SELECT path FROM files WHERE status = ? ORDER BY path').pluck().all(status) as string[];

describe('ingest', () => {
  it('catalogues every format with content hash, dimensions, thumbnail and both perceptual hashes', async () => {
    const formats = ['jpg', 'png', 'webp', 'tiff', 'gif', 'avif'];
    for (const [i, ext] of formats.entries()) await writeImage(path.join(temp.photosDir, 'nested', `photo-${i}.${ext}`), { width: 300 + i, height: 200, seed: i });
    const report = await ingestFolder(temp);
    expect(report).toMatchObject({ added: 6, updated: 0, unchanged: 0, moved: 0, missing: 0, failed: [], cancelled: false });
    const images = temp.library.db.prepare('SELECT * FROM images ORDER BY width').all() as Array<Record<string, unknown>>;
    expect(images.map((i) => i.format)).toEqual(['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif']);
    for (const [i, image] of images.entries()) {
      expect(image.content_hash).toMatch(/^[0-9a-f]{64}$/);
      expect([image.width, image.height]).toEqual([300 + i, 200]);
      const thumbnail = new ImagesRepository(temp.library.db).thumbnail(image.id as number, 256)!;
      expect(thumbnail.relpath).toBe(`thumbnails/${(image.content_hash as string).slice(0, 2)}/${image.content_hash}.webp`);
      const onDisk = await sharp(path.join(temp.library.dataDir, thumbnail.relpath)).metadata();
      expect(onDisk.format).toBe('webp');
      expect([onDisk.width, thumbnail.width]).toEqual([256, 256]);
      expect(Math.abs(onDisk.height! - (200 * 256) / (300 + i))).toBeLessThanOrEqual(1);
      const hashes = new ImagesRepository(temp.library.db).perceptualHashes(image.id as number)!;
      expect(hashes.dhash).toMatch(/^[0-9a-f]{16}$/);
      expect(hashes.phash).toMatch(/^[0-9a-f]{16}$/);
    }
    const folders = new FilesRepository(temp.library.db).folders();
    expect(folders.map((f) => f.path)).toEqual([fs.realpathSync(temp.photosDir)]);
    expect(folders[0]!.lastScanAt).not.toBeNull();
  });

  it('decodes HEIC from phones (libheif as WebAssembly, in a worker thread)', async () => {
    // Fixture: a 96×64 JPEG with EXIF (Apple, iPhone 12, 2022:07:14 18:30:00) → heif-enc -q 70.
    const heic = path.join(temp.photosDir, 'IMG_0001.HEIC');
    fs.copyFileSync(path.join(import.meta.dirname, 'fixtures', 'iphone-like.heic'), heic);
    const source = await writeImage(path.join(temp.dir, 'source.jpg'), { width: 96, height: 64, pattern: 'shapes', seed: 21, quality: 95 });
    expect(await ingestFolder(temp)).toMatchObject({ added: 1, failed: [] });
    const image = temp.library.db.prepare('SELECT * FROM images').get() as Record<string, unknown>;
    expect(image).toMatchObject({ format: 'heic', width: 96, height: 64, camera_make: 'Apple', camera_model: 'iPhone 12', taken_at: '2022-07-14T18:30:00' });
    const hashes = new ImagesRepository(temp.library.db).perceptualHashes(image.id as number)!;
    const { analyseImage } = await import('../../core/library/analyse-image.ts');
    const { hammingDistance } = await import('../../core/library/perceptual-hash.ts');
    const fromSource = await analyseImage(fs.readFileSync(source));
    expect(hammingDistance(hashes.phash, fromSource.phash)).toBeLessThanOrEqual(6);
    const thumbnail = new ImagesRepository(temp.library.db).thumbnail(image.id as number, 256)!;
    expect(fs.existsSync(path.join(temp.library.dataDir, thumbnail.relpath))).toBe(true);
  });

  it('a second run skips everything by size + mtime and changes nothing', async () => {
    for (let i = 0; i < 5; i++) await writeImage(path.join(temp.photosDir, `${i}.jpg`), { width: 64, height: 48, seed: i });
    await ingestFolder(temp);
    const before = normalisedDump(temp.library);
    const second = await ingestFolder(temp);
    expect(second).toMatchObject({ added: 0, updated: 0, unchanged: 5, moved: 0, missing: 0, failed: [] });
    expect(normalisedDump(temp.library)).toEqual(before);
  });

  it('recognises moves and renames by content: same image row and file row, new path', async () => {
    const a = await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 64, height: 48, seed: 1 });
    await writeImage(path.join(temp.photosDir, 'b.jpg'), { width: 64, height: 48, seed: 2 });
    await ingestFolder(temp);
    const row = new FilesRepository(temp.library.db).byPath(a)!;
    fs.mkdirSync(path.join(temp.photosDir, 'moved'));
    const renamed = path.join(temp.photosDir, 'moved', 'renamed.jpg');
    fs.renameSync(a, renamed);
    const report = await ingestFolder(temp);
    expect(report).toMatchObject({ added: 0, updated: 0, unchanged: 1, moved: 1, missing: 0, failed: [] });
    const after = new FilesRepository(temp.library.db).byPath(renamed)!;
    expect(after.id).toBe(row.id);
    expect(after.imageId).toBe(row.imageId);
    expect(count('SELECT count(*) FROM images')).toBe(2);
    expect(count('SELECT count(*) FROM files')).toBe(2);
  });

  it('marks deleted files missing, brings them back when they reappear, and a move from missing', async () => {
    const a = await writeImage(path.join(temp.photosDir, 'a.png'), { width: 40, height: 40, seed: 1 });
    const b = await writeImage(path.join(temp.photosDir, 'b.png'), { width: 40, height: 40, seed: 2 });
    await ingestFolder(temp);
    const aBytes = fs.readFileSync(a);
    const aStat = fs.statSync(a);
    fs.rmSync(a);
    fs.renameSync(b, path.join(temp.dir, 'b-away.png'));
    expect(await ingestFolder(temp)).toMatchObject({ added: 0, unchanged: 0, missing: 2, failed: [] });
    expect(pathsOf('missing')).toEqual([a, b]);
    expect(count('SELECT count(*) FROM images')).toBe(2); // nothing deleted
    // a comes back untouched (same size and mtime); b turns up under a new name.
    fs.writeFileSync(a, aBytes);
    fs.utimesSync(a, aStat.atime, aStat.mtime);
    fs.renameSync(path.join(temp.dir, 'b-away.png'), path.join(temp.photosDir, 'b-new.png'));
    expect(await ingestFolder(temp)).toMatchObject({ added: 1, moved: 1, missing: 0, failed: [] });
    expect(pathsOf('present')).toEqual([a, path.join(temp.photosDir, 'b-new.png')]);
    expect(pathsOf('missing')).toEqual([]);
  });

  it('re-processes an edited file: the path points to the new content, the old image row stays', async () => {
    const a = await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 64, height: 48, seed: 1 });
    await ingestFolder(temp);
    const oldImageId = new FilesRepository(temp.library.db).byPath(a)!.imageId;
    await writeImage(a, { width: 80, height: 60, seed: 9 });
    fs.utimesSync(a, new Date(), new Date(Date.now() + 5000));
    expect(await ingestFolder(temp)).toMatchObject({ added: 0, updated: 1, unchanged: 0, failed: [] });
    const row = new FilesRepository(temp.library.db).byPath(a)!;
    expect(row.imageId).not.toBe(oldImageId);
    expect(new ImagesRepository(temp.library.db).byId(row.imageId)).toMatchObject({ width: 80, height: 60 });
    expect(new ImagesRepository(temp.library.db).presentImageIds()).toEqual([row.imageId]);
    // Touching a file without changing it re-hashes it and finds the same content.
    fs.utimesSync(a, new Date(), new Date(Date.now() + 10000));
    expect(await ingestFolder(temp)).toMatchObject({ updated: 0, unchanged: 1 });
  });

  it('the same bytes at two paths are one image with two files; a copy is added, not moved', async () => {
    const a = await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 64, height: 48, seed: 1 });
    await ingestFolder(temp);
    fs.copyFileSync(a, path.join(temp.photosDir, 'copy of a.jpg'));
    expect(await ingestFolder(temp)).toMatchObject({ added: 1, moved: 0, unchanged: 1 });
    expect(count('SELECT count(*) FROM images')).toBe(1);
    expect(count("SELECT count(*) FROM files WHERE status = 'present'")).toBe(2);
  });

  it('clears an ingest error once the file ingests fine', async () => {
    const bad = path.join(temp.photosDir, 'later.jpg');
    fs.writeFileSync(bad, 'not yet an image');
    expect((await ingestFolder(temp)).failed).toEqual([{ path: bad, reason: expect.stringMatching(/not an image/) }]);
    expect(count('SELECT count(*) FROM ingest_errors')).toBe(1);
    await writeImage(bad, { width: 30, height: 30, seed: 4 });
    expect(await ingestFolder(temp)).toMatchObject({ added: 1, failed: [] });
    expect(count('SELECT count(*) FROM ingest_errors')).toBe(0);
  });

  it('skips hidden files and folders and never ingests its own thumbnail cache', async () => {
    await writeImage(path.join(temp.photosDir, 'seen.jpg'), { width: 30, height: 30, seed: 1 });
    await writeImage(path.join(temp.photosDir, '.hidden.jpg'), { width: 30, height: 30, seed: 2 });
    await writeImage(path.join(temp.photosDir, '.thumbs', 'x.jpg'), { width: 30, height: 30, seed: 3 });
    await writeImage(path.join(temp.photosDir, '@eaDir', 'x.jpg'), { width: 30, height: 30, seed: 4 });
    fs.writeFileSync(path.join(temp.photosDir, 'notes.txt'), 'ignored: not an image name');
    // A library whose database lives inside the photo folder: its thumbnails must not be ingested.
    const inside = tempLibrary();
    const nested = { ...inside, library: (await import('../../core/store/db.ts')).openLibrary(path.join(temp.photosDir, 'lib.db')) };
    try {
      expect(await ingestFolders(nested.library, [temp.photosDir])).toMatchObject({ added: 1, failed: [] });
      expect(fs.readdirSync(path.join(temp.photosDir, 'lib-files', 'thumbnails')).length).toBe(1);
      expect(await ingestFolders(nested.library, [temp.photosDir])).toMatchObject({ added: 0, unchanged: 1, failed: [] });
    } finally {
      nested.library.close();
      inside.cleanup();
    }
  });

  it('stops at a safe point when cancelled, keeps what was committed, and resumes', async () => {
    for (let i = 0; i < 24; i++) await writeImage(path.join(temp.photosDir, `${String(i).padStart(2, '0')}.jpg`), { width: 96, height: 64, seed: i });
    const controller = new AbortController();
    const first = await ingestFolder(temp, undefined, {
      signal: controller.signal,
      concurrency: 2,
      batchSize: 4,
      onProgress: (p) => {
        if (p.phase === 'ingest:process' && p.done >= 6) controller.abort();
      },
    });
    expect(first.cancelled).toBe(true);
    const committed = count('SELECT count(*) FROM files');
    expect(committed).toBeGreaterThanOrEqual(6);
    expect(committed).toBeLessThan(24);
    expect(first.missing).toBe(0);
    const second = await ingestFolder(temp);
    expect(second).toMatchObject({ cancelled: false, added: 24 - committed, unchanged: committed, failed: [] });

    const clean = tempLibrary();
    try {
      await ingestFolders(clean.library, [temp.photosDir]);
      expect(normalisedDump(temp.library)).toEqual(normalisedDump(clean.library));
    } finally {
      clean.cleanup();
    }
  });
});
