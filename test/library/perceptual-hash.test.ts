import { describe, expect, it } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import { analyseImage } from '../../core/library/analyse-image.ts';
import { dctHash, differenceHash, greyResample, hammingDistance, hashPixels } from '../../core/library/perceptual-hash.ts';
import { encodeImage, renderPixels, seededRandom, tempLibrary, writeImage } from '../helpers/index.ts';

describe('perceptual hashes', () => {
  it('dHash has closed-form values for flat and monotone rows', () => {
    expect(differenceHash(new Uint8Array(72).fill(100))).toBe('0000000000000000');
    const rising = new Uint8Array(72).map((_, i) => (i % 9) * 20);
    expect(differenceHash(rising)).toBe('ffffffffffffffff');
    const falling = new Uint8Array(72).map((_, i) => 200 - (i % 9) * 20);
    expect(differenceHash(falling)).toBe('0000000000000000');
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

  it('greyResample averages areas, weighs luma like BT.601 and puts transparency on white', () => {
    // 4×2 grey → 2×1: each output is the mean of a 2×2 block.
    expect(Array.from(greyResample(new Uint8Array([0, 10, 100, 100, 20, 30, 200, 0]), 4, 2, 1, 2, 1))).toEqual([15, 100]);
    // 3 → 2 columns: fractional coverage (1.5 input pixels per output pixel).
    expect(Array.from(greyResample(new Uint8Array([0, 90, 180]), 3, 1, 1, 2, 1))).toEqual([30, 150]);
    // Pure red, green, blue → 0.299, 0.587, 0.114 of 255.
    expect(Array.from(greyResample(new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]), 3, 1, 3, 3, 1))).toEqual([76, 150, 29]);
    // Fully transparent black is white; opaque black stays black.
    expect(Array.from(greyResample(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 255]), 2, 1, 4, 2, 1))).toEqual([255, 0]);
    // Upsampling a single pixel fills the output.
    expect(Array.from(greyResample(new Uint8Array([42]), 1, 1, 1, 3, 2))).toEqual([42, 42, 42, 42, 42, 42]);
  });

  it('hashPixels is frozen: libraries store its output, so a change in bit order would need a migration', () => {
    // Values of the implementation every stored hash was made with (dHash bit = right brighter).
    const pixels = new Uint8Array(renderPixels({ width: 64, height: 48, pattern: 'shapes', seed: 4 }));
    expect(hashPixels(pixels, 64, 48, 3)).toEqual({ dhash: '0818187e76b8b8f0', phash: '93a55a4ccd4a787c' });
    // The mirrored hashes are those of the left-right flipped pixels.
    const flipped = new Uint8Array(pixels.length);
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) flipped.set(pixels.subarray((y * 64 + 63 - x) * 3, (y * 64 + 64 - x) * 3), (y * 64 + x) * 3);
    expect(hashPixels(pixels, 64, 48, 3, { mirrored: true })).toEqual(hashPixels(flipped, 64, 48, 3));
    expect(hashPixels(pixels, 64, 48, 3, { mirrored: true })).toEqual({ dhash: 'ef87878181e0e0e0', phash: 'c6f00f19981f2d79' });
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
      expect(hammingDistance(analysed.phash, reference.phash)).toBeLessThanOrEqual(3);
      expect(hammingDistance(analysed.dhash, reference.dhash)).toBeLessThanOrEqual(3);
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
