import { describe, expect, it } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import { analyseImage } from '../../core/library/analyse-image.ts';
import { HASH_DECODE_SIZE_PX, dctHash, decodeGrey, differenceHash, hammingDistance, hashImage } from '../../core/library/perceptual-hash.ts';
import { encodeImage, renderPixels, seededRandom, tempLibrary, writeImage } from '../helpers/index.ts';

/** hashImage of the seed-4 'shapes' test image, as HASH_VERSION 2 defines it. */
const FROZEN_HASHES = { dhash: 'f7e1e19189470606', phash: '93a55a4ccd43787c', dhashMirror: '107878766e1d9d9f', phashMirror: 'c6f00f1d99172d69' };

describe('perceptual hashes', () => {
  it('dHash has closed-form values for flat and monotone rows', () => {
    expect(differenceHash(new Uint8Array(72).fill(100))).toBe('0000000000000000');
    // Bit 1 where the left pixel is brighter (the order curation's thresholds were calibrated on).
    const rising = new Uint8Array(72).map((_, i) => (i % 9) * 20);
    expect(differenceHash(rising)).toBe('0000000000000000');
    const falling = new Uint8Array(72).map((_, i) => 200 - (i % 9) * 20);
    expect(differenceHash(falling)).toBe('ffffffffffffffff');
    // Most significant bit first: only the first pair of the first row brighter on the left.
    const first = new Uint8Array(72).fill(10);
    first[0] = 20;
    expect(differenceHash(first)).toBe('8000000000000000');
  });

  it('pHash of a flat image keeps only the DC term; a reference DCT agrees on a random image', () => {
    expect(dctHash(new Uint8Array(1024).fill(77))).toBe('8000000000000000');
    // Slow reference: the full 32×32 DCT-II straight from its definition.
    const random = seededRandom(5);
    const grey = new Uint8Array(1024).map(() => Math.floor(random() * 256));
    const coefficients: number[] = [];
    for (let v = 0; v < 8; v++) {
      for (let u = 0; u < 8; u++) {
        let sum = 0;
        for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) sum += grey[y * 32 + x]! * Math.cos(((2 * x + 1) * u * Math.PI) / 64) * Math.cos(((2 * y + 1) * v * Math.PI) / 64);
        coefficients.push(sum);
      }
    }
    const sorted = [...coefficients].sort((a, b) => a - b);
    const median = (sorted[31]! + sorted[32]!) / 2;
    const bits = coefficients.map((c) => (c > median ? '1' : '0')).join('');
    const expected = BigInt(`0b${bits}`).toString(16).padStart(16, '0');
    expect(dctHash(grey)).toBe(expected);
  });

  it('decodeGrey orients, puts transparency on white and stays within the hash decode size', async () => {
    // A 2×1 image: transparent black on the left, opaque black on the right.
    const png = await sharp(Buffer.from([0, 0, 0, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    const small = await decodeGrey(png);
    expect([small.width, small.height, Array.from(small.grey)]).toEqual([2, 1, [255, 0]]);
    const large = await decodeGrey(await encodeImage({ width: 800, height: 400, format: 'png', pattern: 'gradient', seed: 2 }));
    expect([large.width, large.height, large.grey.length]).toEqual([HASH_DECODE_SIZE_PX, HASH_DECODE_SIZE_PX / 2, HASH_DECODE_SIZE_PX * HASH_DECODE_SIZE_PX / 2]);
    // EXIF orientation 6 (rotate 90° clockwise to view): a 40×20 stored image is 20×40 upright.
    const rotated = await sharp(await encodeImage({ width: 40, height: 20, format: 'png', pattern: 'shapes', seed: 3 })).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const upright = await decodeGrey(rotated);
    expect([upright.width, upright.height]).toEqual([20, 40]);
  });

  it('hashImage is frozen (HASH_VERSION 2): libraries store its output, so a change needs a new version', async () => {
    const png = await sharp(renderPixels({ width: 64, height: 48, pattern: 'shapes', seed: 4 }), { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
    const hashes = await hashImage(png);
    // Within 2 bits, so a libvips rounding change passes while any change of definition (bit
    // order, grey, resampling: tens of bits) fails.
    for (const key of ['dhash', 'phash', 'dhashMirror', 'phashMirror'] as const) expect(hammingDistance(hashes[key], FROZEN_HASHES[key]), key).toBeLessThanOrEqual(2);
    // The mirror hashes are the hashes of the left-right flipped image.
    const flipped = await hashImage(await sharp(png).flop().png().toBuffer());
    // (Within a bit or two: libvips' cubic kernel is not exactly symmetric at half-pixel offsets.)
    expect(hammingDistance(flipped.dhash, hashes.dhashMirror)).toBeLessThanOrEqual(2);
    expect(hammingDistance(flipped.phash, hashes.phashMirror)).toBeLessThanOrEqual(2);
    expect(hammingDistance(hashes.dhash, hashes.dhashMirror)).toBeGreaterThan(12);
  });

  it('hammingDistance counts differing bits', () => {
    expect(hammingDistance('0000000000000000', '0000000000000000')).toBe(0);
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
    expect(() => hammingDistance('abc', '0000000000000000')).toThrow(/16 hex/);
  });

  it('the same picture hashes alike in 16-bit, CMYK, greyscale and with an alpha channel', async () => {
    const raw = renderPixels({ width: 64, height: 48, pattern: 'shapes', seed: 4 });
    const image = () => sharp(raw, { raw: { width: 64, height: 48, channels: 3 } });
    const reference = await analyseImage(await image().png().toBuffer());
    const variants = [
      await image().toColourspace('rgb16').png().toBuffer(),
      await image().toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer(),
      await image().greyscale().png().toBuffer(),
      await image().ensureAlpha(1).webp({ lossless: true }).toBuffer(),
    ];
    for (const bytes of variants) {
      const analysed = await analyseImage(bytes);
      expect([analysed.width, analysed.height, analysed.thumbnail.width]).toEqual([64, 48, 64]);
      // Hashed from each one's lossy WebP thumbnail: a few bits of noise on a 64×48 image.
      expect(hammingDistance(analysed.phash, reference.phash)).toBeLessThanOrEqual(4);
      expect(hammingDistance(analysed.dhash, reference.dhash)).toBeLessThanOrEqual(4);
    }
  });

  it('near duplicates (rescaled, recompressed) are close; different photos are far', async () => {
    const temp = tempLibrary();
    try {
      const original = await analyseImage(await encodeImage({ width: 640, height: 480, format: 'png', pattern: 'shapes', seed: 11 }));
      const source = await sharp(await encodeImage({ width: 640, height: 480, format: 'png', pattern: 'shapes', seed: 11 })).resize(320).jpeg({ quality: 40 }).toBuffer();
      const nearDuplicate = await analyseImage(source);
      const other = await analyseImage(await sharp(await writeImage(path.join(temp.photosDir, 'o.png'), { width: 640, height: 480, pattern: 'shapes', seed: 12 })).toBuffer());
      expect(hammingDistance(original.dhash, nearDuplicate.dhash)).toBeLessThanOrEqual(6);
      expect(hammingDistance(original.phash, nearDuplicate.phash)).toBeLessThanOrEqual(6);
      expect(hammingDistance(original.dhash, other.dhash)).toBeGreaterThan(12);
      expect(hammingDistance(original.phash, other.phash)).toBeGreaterThan(12);
    } finally {
      temp.cleanup();
    }
  });
});
