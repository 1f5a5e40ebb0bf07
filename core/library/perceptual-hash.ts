/**
 * 64-bit perceptual hashes, as 16 hex digits (most significant bit = first pixel/coefficient),
 * and their Hamming distance: the one implementation in Looktwice.
 * - dHash, the difference hash (N. Krawetz, "Kind of Like That", The Hacker Factor blog, 2013):
 *   greyscale 9×8, one bit per horizontally adjacent pair, 1 when the left pixel is brighter
 *   (`imagehash.dhash` sets it when the right one is: Hamming distances are the same except on
 *   ties, e.g. clipped highlights, where this order is what the thresholds were calibrated on).
 * - pHash, the DCT hash (C. Zauner, "Implementation and Benchmarking of Perceptual Image Hash
 *   Functions", 2010; as in the `imagehash` library): greyscale 32×32, 2-D DCT-II, the 8×8
 *   lowest frequencies, 1 where a coefficient is above their median.
 * Both are robust to rescaling and recompression; near duplicates differ in a few bits.
 *
 * What is hashed: the image's catalogue thumbnail (≤ 256 px WebP), decoded to grey by libvips
 * (transparency on white) and resampled with a cubic kernel. Ingest hashes the thumbnail it has
 * just made and stores the result; curation reads the stored hashes and hashes the same
 * thumbnail only for the left-right mirror (flipped copies) — same bytes, same function, so the
 * two agree bit for bit. The near-duplicate thresholds (core/curate/duplicates.ts) were
 * calibrated on exactly these hashes. HASH_VERSION names this definition.
 */
import sharp from 'sharp';

/**
 * Version of the definition above. 2: the thumbnail's grey, cubic resampling, left-brighter dHash
 * bits. Libraries ingested before hold version 1 (BT.601 luma of ingest's decode, area
 * averaging, right-brighter dHash bits); curation replaces those when it rebuilds its cache (see
 * core/curate/features.service.ts).
 */
export const HASH_VERSION = 2;
/** Longest side of the grey decode the hashes (and curation's pixel features) start from. */
export const HASH_DECODE_SIZE_PX = 256;

/** Side of the greyscale square pHash works on. */
export const PHASH_INPUT_SIZE_PX = 32;
/** dHash input: 9 columns × 8 rows. */
export const DHASH_INPUT_WIDTH_PX = 9;
export const DHASH_INPUT_HEIGHT_PX = 8;

/** A greyscale image: one byte per pixel, row-major. */
export interface GreyImage {
  grey: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decodes an image (path or encoded bytes) to grey at ≤ HASH_DECODE_SIZE_PX: EXIF orientation
 * applied, transparency composited onto white. Throws when sharp cannot decode it.
 */
export async function decodeGrey(input: string | Buffer): Promise<GreyImage> {
  const { data, info } = await sharp(input, { failOn: 'none' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(HASH_DECODE_SIZE_PX, HASH_DECODE_SIZE_PX, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey = new Uint8Array(info.width * info.height);
  // sharp can hand back more than one channel for grey output; the first one is the grey.
  for (let i = 0; i < grey.length; i++) grey[i] = data[i * info.channels]!;
  return { grey, width: info.width, height: info.height };
}

/** Resamples a grey image to width × height bytes (cubic, aspect ignored). */
export async function resampleGrey(image: GreyImage, width: number, height: number): Promise<Uint8Array> {
  const data = await sharp(image.grey, { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .extractChannel(0) // sharp would otherwise hand back sRGB (3 channels) for 1-channel input
    .raw()
    .toBuffer();
  if (data.length !== width * height) throw new Error(`resampled grey image has ${data.length} bytes, expected ${width * height}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function bitsToHex(bits: readonly boolean[]): string {
  let hex = '';
  for (let i = 0; i < bits.length; i += 4) {
    const nibble = (bits[i] ? 8 : 0) | (bits[i + 1] ? 4 : 0) | (bits[i + 2] ? 2 : 0) | (bits[i + 3] ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/** dHash of 9×8 greyscale pixels (row-major, one byte each): bit 1 where the left pixel is brighter. */
export function differenceHash(grey: Uint8Array): string {
  if (grey.length !== DHASH_INPUT_WIDTH_PX * DHASH_INPUT_HEIGHT_PX) throw new Error(`dHash needs 9×8 = 72 grey pixels, got ${grey.length}`);
  const bits: boolean[] = [];
  for (let y = 0; y < DHASH_INPUT_HEIGHT_PX; y += 1) {
    for (let x = 0; x < DHASH_INPUT_WIDTH_PX - 1; x += 1) {
      const row = y * DHASH_INPUT_WIDTH_PX;
      bits.push(grey[row + x]! > grey[row + x + 1]!);
    }
  }
  return bitsToHex(bits);
}

/** cos((2x + 1) u π / 2N) for the 1-D DCT-II, [u][x]. */
const DCT_COSINES: Float64Array = (() => {
  const n = PHASH_INPUT_SIZE_PX;
  const table = new Float64Array(n * n);
  for (let u = 0; u < n; u += 1) {
    for (let x = 0; x < n; x += 1) table[u * n + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * n));
  }
  return table;
})();

/** pHash of 32×32 greyscale pixels (row-major, one byte each). */
export function dctHash(grey: Uint8Array): string {
  const n = PHASH_INPUT_SIZE_PX;
  const keep = 8;
  if (grey.length !== n * n) throw new Error(`pHash needs 32×32 = 1024 grey pixels, got ${grey.length}`);
  // Separable 2-D DCT, only the 8 lowest frequencies are needed in each direction.
  const rows = new Float64Array(n * keep); // [y][u]: DCT along x of each row
  for (let y = 0; y < n; y += 1) {
    for (let u = 0; u < keep; u += 1) {
      let sum = 0;
      for (let x = 0; x < n; x += 1) sum += grey[y * n + x]! * DCT_COSINES[u * n + x]!;
      rows[y * keep + u] = sum;
    }
  }
  const coefficients = new Float64Array(keep * keep); // [v][u]
  for (let v = 0; v < keep; v += 1) {
    for (let u = 0; u < keep; u += 1) {
      let sum = 0;
      for (let y = 0; y < n; y += 1) sum += rows[y * keep + u]! * DCT_COSINES[v * n + y]!;
      // Rounding noise (~1e-10) must not decide bits: a flat image has exactly zero AC energy.
      coefficients[v * keep + u] = Math.abs(sum) < 1e-6 ? 0 : sum;
    }
  }
  const sorted = Array.from(coefficients).sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  return bitsToHex(Array.from(coefficients, (c) => c > median));
}

/** The two hashes of one image. */
export interface PerceptualHashes {
  dhash: string;
  phash: string;
}

/** The hashes of an image and of its left-right mirror. */
export interface ImageHashes extends PerceptualHashes {
  dhashMirror: string;
  phashMirror: string;
}

/** Reverses each row of a row-major grid: the grid of the left-right mirrored image. */
function mirrorRows(grid: Uint8Array, width: number): Uint8Array {
  const out = grid.slice();
  for (let row = 0; row < out.length; row += width) out.subarray(row, row + width).reverse();
  return out;
}

/** dHash and pHash of a grey image (decodeGrey()), and of its mirror. */
export async function hashesOfGrey(image: GreyImage): Promise<ImageHashes> {
  const dhashGrey = await resampleGrey(image, DHASH_INPUT_WIDTH_PX, DHASH_INPUT_HEIGHT_PX);
  const phashGrey = await resampleGrey(image, PHASH_INPUT_SIZE_PX, PHASH_INPUT_SIZE_PX);
  return {
    dhash: differenceHash(dhashGrey),
    phash: dctHash(phashGrey),
    dhashMirror: differenceHash(mirrorRows(dhashGrey, DHASH_INPUT_WIDTH_PX)),
    phashMirror: dctHash(mirrorRows(phashGrey, PHASH_INPUT_SIZE_PX)),
  };
}

/** The hashes of an image given as its thumbnail (path or bytes): decodeGrey() then hashesOfGrey(). */
export async function hashImage(input: string | Buffer): Promise<ImageHashes> {
  return hashesOfGrey(await decodeGrey(input));
}

/** A 16-hex-digit hash as two unsigned 32-bit halves [high, low] (for fast Hamming distances). */
export function hexToWords(hex: string): [number, number] {
  if (!/^[0-9a-f]{16}$/i.test(hex)) throw new Error(`perceptual hashes are 16 hex digits, got "${hex}"`);
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8), 16) >>> 0];
}

function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of differing bits between two hashes given as words (hexToWords). */
export function hammingWords(aHigh: number, aLow: number, bHigh: number, bLow: number): number {
  return popcount32((aHigh ^ bHigh) >>> 0) + popcount32((aLow ^ bLow) >>> 0);
}

/** Number of differing bits between two 16-hex-digit hashes (0 = same, 64 = opposite). */
export function hammingDistance(a: string, b: string): number {
  const [aHigh, aLow] = hexToWords(a);
  const [bHigh, bLow] = hexToWords(b);
  return hammingWords(aHigh, aLow, bHigh, bLow);
}
