import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { ensureFeatures } from '../../core/curate/features.service.ts';
import { hammingDistance, hashImage } from '../../core/library/perceptual-hash.ts';
import { ImagesRepository } from '../../core/store/images.repository.ts';
import { FilesRepository } from '../../core/store/files.repository.ts';
import { CurateRepository } from '../../core/store/curate.repository.ts';

let temp: TempLibrary | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

/** The image id ingest gave the file at `filePath`. */
function imageIdOf(t: TempLibrary, filePath: string): number {
  const row = new FilesRepository(t.library.db).byPath(filePath);
  if (!row) throw new Error(`${filePath} was not ingested`);
  return row.imageId;
}

describe('perceptual hashes: what ingest stores is what curation compares', () => {
  it('curation uses the stored hashes, and its mirror hashes share their bit order', async () => {
    temp = tempLibrary('looktwice-hashes-');
    const original = await writeImage(path.join(temp.photosDir, 'photo.jpg'), { width: 400, height: 300, pattern: 'shapes', seed: 31, quality: 95 });
    const flipped = path.join(temp.photosDir, 'photo-flipped.jpg');
    await sharp(original).flop().jpeg({ quality: 95 }).toFile(flipped);
    await ingestFolder(temp);
    const images = new ImagesRepository(temp.library.db);
    const a = imageIdOf(temp, original);
    const b = imageIdOf(temp, flipped);
    const storedA = images.perceptualHashes(a)!;
    const storedB = images.perceptualHashes(b)!;

    for (const dataDir of [temp.library.dataDir, undefined]) {
      const { features } = await ensureFeatures(temp.library.db, { dataDir });
      const fa = features.get(a)!;
      const fb = features.get(b)!;
      // The image's own hashes are exactly the stored ones, not a second computation.
      expect([fa.dhash, fa.phash]).toEqual([storedA.dhash, storedA.phash]);
      expect([fb.dhash, fb.phash]).toEqual([storedB.dhash, storedB.phash]);
      // Ingest hashed the thumbnail; hashing the thumbnail file again gives the same bits.
      const thumbnail = new CurateRepository(temp.library.db).largestThumbnail(a)!;
      expect(await hashImage(path.join(temp.library.dataDir, thumbnail.relpath))).toMatchObject(storedA);
      // A flipped copy: its mirror hashes match the original's stored hashes. With dHash bits in
      // opposite directions (as the two implementations had) this distance was ~60 of 64 bits.
      expect(hammingDistance(storedA.dhash, fb.dhashMirror!)).toBeLessThanOrEqual(4);
      expect(hammingDistance(storedA.phash, fb.phashMirror!)).toBeLessThanOrEqual(4);
      expect(hammingDistance(storedB.dhash, fa.dhashMirror!)).toBeLessThanOrEqual(4);
      expect(hammingDistance(storedB.phash, fa.phashMirror!)).toBeLessThanOrEqual(4);
      // …while the picture and its mirror are far apart (the mirror hash is really mirrored).
      expect(hammingDistance(storedA.dhash, fa.dhashMirror!)).toBeGreaterThan(12);
      // Recompute from the file (no thumbnail) on the second pass.
      temp.library.db.prepare('DELETE FROM curate_features').run();
    }
  });

  it('a library whose stored hashes have the old definition gets them replaced when curation rebuilds its cache', async () => {
    temp = tempLibrary('looktwice-hashes-old-');
    const file = await writeImage(path.join(temp.photosDir, 'photo.jpg'), { width: 400, height: 300, pattern: 'shapes', seed: 32 });
    await ingestFolder(temp);
    const images = new ImagesRepository(temp.library.db);
    const id = imageIdOf(temp, file);
    const current = images.perceptualHashes(id)!;
    // What HASH_VERSION 1 stored: dHash bits the other way round (close to the complement).
    const complement = (hex: string): string => [...hex].map((digit) => (15 - parseInt(digit, 16)).toString(16)).join('');
    images.upsertPerceptualHashes(id, { dhash: complement(current.dhash), phash: current.phash });
    temp.library.db.prepare('UPDATE curate_features SET version = 2').run(); // a cache from before
    const { features } = await ensureFeatures(temp.library.db, { dataDir: temp.library.dataDir });
    expect(images.perceptualHashes(id)).toEqual(current);
    expect(features.get(id)!.dhash).toBe(current.dhash);
  });
});
