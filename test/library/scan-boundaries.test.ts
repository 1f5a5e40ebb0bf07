/**
 * The scanner stays inside the library: the library's own data folder (thumbnails, caches) is
 * never catalogued, however it is reached; system pseudo-filesystems (/proc, /sys, /dev) are
 * never entered; a symbolic link that leaves the added folders is reported, and followed only
 * when asked (followExternalLinks, `ingest --follow-external-links`). Real folders, real links,
 * the real ingest.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { scanFolders } from '../../core/library/scan.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import { ingestFolder, runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary();
});
afterEach(() => temp.cleanup());

function imageCount(): number {
  return temp.library.db.prepare('SELECT count(*) FROM images').pluck().get() as number;
}

async function threePhotos(): Promise<void> {
  for (let i = 0; i < 3; i++) await writeImage(path.join(temp.photosDir, `p${i}.jpg`), { width: 40, height: 30, pattern: 'shapes', seed: i });
}

describe("the library's own data folder", () => {
  it('a link to the folder holding the database does not make ingest catalogue its own thumbnails', async () => {
    await threePhotos();
    fs.symlinkSync(temp.dir, path.join(temp.photosDir, 'to-library'));
    for (let run = 0; run < 3; run++) {
      const report = await ingestFolder(temp);
      expect(report.failed).toEqual([{ path: path.join(temp.photosDir, 'to-library'), reason: expect.stringMatching(/outside the added folders: not followed/) }]);
      expect(imageCount()).toBe(3);
    }
    // Asked to follow links out, it still never enters the data folder.
    for (let run = 0; run < 2; run++) {
      const report = await ingestFolder(temp, [temp.photosDir], { followExternalLinks: true });
      expect(report.failed).toEqual([]);
      expect(imageCount()).toBe(3);
    }
  });

  it('a link straight to the data folder is not walked either', async () => {
    await threePhotos();
    await ingestFolder(temp);
    fs.symlinkSync(temp.library.dataDir, path.join(temp.photosDir, 'thumbs'));
    await ingestFolder(temp, [temp.photosDir], { followExternalLinks: true });
    await ingestFolder(temp, [temp.photosDir], { followExternalLinks: true });
    expect(imageCount()).toBe(3);
  });
});

describe('pseudo-filesystems', () => {
  for (const root of ['/proc', '/sys', '/dev']) {
    it(`${root} as a folder is refused at once with the reason`, async () => {
      const result = await scanFolders([root], { signal: AbortSignal.timeout(5000) });
      expect(result.files).toEqual([]);
      expect(result.rootExists).toEqual([false]);
      expect(result.problems).toEqual([{ path: root, reason: expect.stringMatching(/system pseudo-filesystem .*not scanned/) }]);
    });
  }

  it('adding /proc or /sys to the library is refused at once (400 over the API)', async () => {
    temp.library.close();
    const service = LooktwiceService.open(temp.dbPath);
    try {
      for (const folder of ['/proc', '/sys/kernel']) {
        await expect(service.addFolder({ path: folder })).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/is a system pseudo-filesystem/) });
      }
      expect(await service.listFolders()).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('a link to /proc inside a photo folder is not entered, even when following links', async () => {
    await threePhotos();
    fs.symlinkSync('/proc', path.join(temp.photosDir, 'proc'));
    fs.symlinkSync('/sys/kernel', path.join(temp.photosDir, 'kernel'));
    const result = await scanFolders([temp.photosDir], { followExternalLinks: true, signal: AbortSignal.timeout(5000) });
    expect(result.files.map((f) => path.basename(f.path))).toEqual(['p0.jpg', 'p1.jpg', 'p2.jpg']);
    expect(result.problems).toEqual([
      { path: path.join(temp.photosDir, 'kernel'), reason: expect.stringMatching(/system pseudo-filesystem/) },
      { path: path.join(temp.photosDir, 'proc'), reason: expect.stringMatching(/system pseudo-filesystem/) },
    ]);
  });
});

describe('links that leave the added folders', () => {
  it('are reported with the reason and followed only with the option (folders and files)', async () => {
    const elsewhere = path.join(temp.dir, 'elsewhere');
    await writeImage(path.join(elsewhere, 'e.png'), { width: 20, height: 20, seed: 5 });
    await writeImage(path.join(temp.photosDir, 'own.png'), { width: 20, height: 20, seed: 6 });
    fs.symlinkSync(elsewhere, path.join(temp.photosDir, 'folder-link'));
    fs.symlinkSync(path.join(elsewhere, 'e.png'), path.join(temp.photosDir, 'file-link.png'));
    fs.symlinkSync(path.join(temp.photosDir, 'own.png'), path.join(temp.photosDir, 'inside-link.png'));

    const plain = await scanFolders([temp.photosDir]);
    expect(plain.files.map((f) => path.basename(f.path))).toEqual(['inside-link.png', 'own.png']);
    expect(plain.problems).toEqual([
      { path: path.join(temp.photosDir, 'file-link.png'), reason: `a symbolic link to ${path.join(elsewhere, 'e.png')}, outside the added folders: not followed (add that folder, or ingest with --follow-external-links)` },
      { path: path.join(temp.photosDir, 'folder-link'), reason: `a symbolic link to ${elsewhere}, outside the added folders: not followed (add that folder, or ingest with --follow-external-links)` },
    ]);

    const followed = await scanFolders([temp.photosDir], { followExternalLinks: true });
    expect(followed.files.map((f) => path.relative(temp.photosDir, f.path))).toEqual(['file-link.png', path.join('folder-link', 'e.png'), 'inside-link.png', 'own.png']);
    expect(followed.problems).toEqual([]);
  });

  it('`looktwice ingest --follow-external-links` follows them; without it the summary names them', async () => {
    const elsewhere = path.join(temp.dir, 'elsewhere');
    await writeImage(path.join(elsewhere, 'e.png'), { width: 20, height: 20, seed: 5 });
    fs.symlinkSync(elsewhere, path.join(temp.photosDir, 'folder-link'));
    const dbPath = path.join(temp.dir, 'cli.db');
    const plain = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json']);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ added: 0, failed: [{ path: path.join(temp.photosDir, 'folder-link'), reason: expect.stringMatching(/outside the added folders/) }] });
    const followed = await runCli(['ingest', temp.photosDir, '--db', dbPath, '--json', '--follow-external-links']);
    expect(followed.code).toBe(0);
    expect(JSON.parse(followed.stdout)).toMatchObject({ added: 1, failed: [] });
  });
});
