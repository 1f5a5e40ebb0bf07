import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { CancelledError } from '../../core/common/progress.ts';
import { scanFolders } from '../../core/library/scan.ts';
import { tempLibrary, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary();
});
afterEach(() => temp.cleanup());

function touch(file: string, bytes = 'x'): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return file;
}

describe('scanFolders', () => {
  it('lists image files by extension (any case), recursively, sorted, with size and mtime', async () => {
    const a = touch(path.join(temp.photosDir, 'b', 'IMG_0001.JPG'), 'abc');
    const b = touch(path.join(temp.photosDir, 'a.heic'));
    const c = touch(path.join(temp.photosDir, 'b', 'c', 'd.TIFF'));
    touch(path.join(temp.photosDir, 'readme.txt'));
    touch(path.join(temp.photosDir, 'movie.mp4'));
    touch(path.join(temp.photosDir, 'Thumbs.db'));
    touch(path.join(temp.photosDir, '$RECYCLE.BIN', 'x.jpg'));
    const result = await scanFolders([temp.photosDir]);
    expect(result.files.map((f) => f.path)).toEqual([b, a, c]);
    expect(result.files[1]).toMatchObject({ size: 3, mtimeMs: Math.trunc(fs.statSync(a).mtimeMs), rootIndex: 0 });
    expect(result.problems).toEqual([]);
    expect(result.rootExists).toEqual([true]);
  });

  it('follows links to folders elsewhere, walks a folder reached twice only once', async () => {
    const elsewhere = path.join(temp.dir, 'elsewhere');
    touch(path.join(elsewhere, 'e.png'));
    fs.symlinkSync(elsewhere, path.join(temp.photosDir, 'link-1'));
    fs.symlinkSync(elsewhere, path.join(temp.photosDir, 'link-2'));
    const result = await scanFolders([temp.photosDir, elsewhere]);
    expect(result.files.map((f) => f.path)).toEqual([path.join(temp.photosDir, 'link-1', 'e.png')]);
    expect(result.problems).toEqual([]);
  });

  it('never descends into excluded folders (the library data folder)', async () => {
    touch(path.join(temp.photosDir, 'lib-files', 'thumbnails', 'ab', 'x.webp'));
    touch(path.join(temp.photosDir, 'keep.webp'));
    const result = await scanFolders([temp.photosDir], { exclude: [path.join(temp.photosDir, 'lib-files')] });
    expect(result.files.map((f) => path.basename(f.path))).toEqual(['keep.webp']);
  });

  it('reports a root that is a file, and stops when cancelled', async () => {
    const file = touch(path.join(temp.dir, 'single.jpg'));
    const result = await scanFolders([file]);
    expect(result.problems).toEqual([{ path: file, reason: 'is not a folder' }]);
    const controller = new AbortController();
    controller.abort();
    await expect(scanFolders([temp.photosDir], { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});
