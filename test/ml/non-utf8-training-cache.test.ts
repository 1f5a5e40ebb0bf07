/**
 * The training cache for photos whose names are not valid UTF-8 (Linux names are bytes, kept
 * losslessly in the catalogue: core/common/file-name-bytes.ts): decoded from the original by its
 * bytes when the thumbnail is too small or broken, to the same pixels as the same file under a
 * plain name. Real files made with Buffer paths, the real ingest and sharp.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { loadTrainingImages } from '../../core/ml/training-cache.ts';
import { TrainingImagesRepository } from '../../core/store/training-images.repository.ts';
import { nameBytes } from '../../core/common/file-name-bytes.ts';
import { encodeImage, ingestFolder, tempLibrary, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary('looktwice-bytes-cache-');
});
afterEach(() => temp.cleanup());

describe('training cache for names that are not UTF-8', () => {
  it('decodes the original by its bytes (no usable thumbnail, or a broken one), like a plain name', async () => {
    const jpeg = await encodeImage({ width: 60, height: 44, pattern: 'shapes', seed: 11, format: 'jpeg' });
    const png = await encodeImage({ width: 44, height: 60, pattern: 'gradient', seed: 12, format: 'png' });
    const byteName = Buffer.concat([Buffer.from(`${temp.photosDir}/f`), Buffer.from([0xff]), Buffer.from('o.jpg')]);
    fs.writeFileSync(byteName, jpeg);
    fs.writeFileSync(path.join(temp.photosDir, 'plain.png'), png);
    expect((await ingestFolder(temp)).added).toBe(2);
    const sources = new TrainingImagesRepository(temp.library.db).list();
    const byBytes = sources.find((source) => nameBytes(source.path).equals(byteName))!;
    expect(byBytes).toBeDefined();

    // Without a thumbnail the original is decoded.
    const fromOriginal = await loadTrainingImages(temp.library.dataDir, sources.map((s) => ({ ...s, thumbnailRelpath: null })), 16);
    expect(fromOriginal).toMatchObject({ count: 2, decoded: 2, failed: [] });

    // The same bytes under a plain name give the same pixels.
    const plainCopy = path.join(temp.dir, 'plain-copy.jpg');
    fs.writeFileSync(plainCopy, jpeg);
    const reference = await loadTrainingImages(path.join(temp.dir, 'reference'), [{ ...byBytes, path: plainCopy, thumbnailRelpath: null }], 16);
    const index = fromOriginal.imageIds.indexOf(byBytes.imageId);
    const bytesPerImage = 16 * 16 * 3;
    expect(Buffer.from(fromOriginal.pixels.subarray(index * bytesPerImage, (index + 1) * bytesPerImage)).equals(Buffer.from(reference.pixels))).toBe(true);

    // A broken thumbnail falls back to the original, here too.
    fs.rmSync(path.join(temp.library.dataDir, 'cache'), { recursive: true });
    const thumbnail = path.join(temp.library.dataDir, ...byBytes.thumbnailRelpath!.split('/'));
    fs.writeFileSync(thumbnail, 'not an image');
    const fallback = await loadTrainingImages(temp.library.dataDir, [byBytes], 16);
    expect(fallback).toMatchObject({ count: 1, decoded: 1, failed: [] });
    expect(Buffer.from(fallback.pixels).equals(Buffer.from(reference.pixels))).toBe(true);
  });
});
