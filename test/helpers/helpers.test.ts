import { describe, expect, it } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import { tempLibrary, writeImage } from './index.ts';

describe('test helpers', () => {
  it('tempLibrary opens a migrated library and cleans up', () => {
    const temp = tempLibrary();
    const tables = temp.library.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toContain('images');
    temp.cleanup();
    temp.cleanup();
  });

  it('writeImage writes real, deterministic images in every format', async () => {
    const temp = tempLibrary();
    try {
      for (const ext of ['jpg', 'png', 'webp', 'tiff', 'gif', 'avif']) {
        const file = await writeImage(path.join(temp.photosDir, `a.${ext}`), { width: 40, height: 30, pattern: 'shapes', seed: 7 });
        const metadata = await sharp(file).metadata();
        expect([metadata.width, metadata.height]).toEqual([40, 30]);
      }
      const a = await sharp(await writeImage(path.join(temp.dir, 'x.png'), { width: 16, height: 16, pattern: 'noise', seed: 2 })).raw().toBuffer();
      const b = await sharp(await writeImage(path.join(temp.dir, 'y.png'), { width: 16, height: 16, pattern: 'noise', seed: 2 })).raw().toBuffer();
      const c = await sharp(await writeImage(path.join(temp.dir, 'z.png'), { width: 16, height: 16, pattern: 'noise', seed: 3 })).raw().toBuffer();
      expect(a.equals(b)).toBe(true);
      expect(a.equals(c)).toBe(false);
    } finally {
      temp.cleanup();
    }
  });
});
