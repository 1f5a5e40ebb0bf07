/**
 * 64-bit perceptual hashes, as 16 hex digits (most significant bit = first pixel/coefficient),
 * and their Hamming distance. The one implementation in Looktwice: ingest computes both hashes
 * from its decode and stores them (perceptual_hashes); curation reads those and computes only the
 * hashes of the left-right mirror, with hashPixels() on the same kind of decode.
 * - dHash, the difference hash (N. Krawetz, "Kind of Like That", The Hacker Factor blog, 2013):
 *   greyscale 9×8, one bit per horizontally adjacent pair, 1 when the right pixel is brighter
 *   (as `imagehash.dhash`).
 * - pHash, the DCT hash (C. Zauner, "Implementation and Benchmarking of Perceptual Image Hash
 *   Functions", 2010; as in the `imagehash` library): greyscale 32×32, 2-D DCT-II, the 8×8
 *   lowest frequencies, 1 where a coefficient is above their median.
 * Both are robust to rescaling and recompression; near duplicates differ in a few bits.
 * Stored hashes are compared with freshly computed ones, so the definition (bit order included)
 * is frozen: changing it needs a migration that recomputes every stored hash.
 */

/** Side of the greyscale square pHash works on. */
export const PHASH_INPUT_SIZE_PX = 32;
/** dHash input: 9 columns × 8 rows. */
export const DHASH_INPUT_WIDTH_PX = 9;
export const DHASH_INPUT_HEIGHT_PX = 8;

/**
 * Greyscale (ITU-R BT.601 luma, as PIL's 'L' mode that `imagehash` uses) of interleaved pixels
 * with 1–4 channels; transparent pixels are composited onto white. One value per pixel.
 */
export function luma(pixels: Uint8Array, pixelCount: number, channels: number): Float32Array {
  const out = new Float32Array(pixelCount);
  const hasAlpha = channels === 2 || channels === 4;
  for (let i = 0, o = 0; i < pixelCount; i += 1, o += channels) {
    let value = channels >= 3 ? 0.299 * pixels[o]! + 0.587 * pixels[o + 1]! + 0.114 * pixels[o + 2]! : pixels[o]!;
    if (hasAlpha) {
      const alpha = pixels[o + channels - 1]! / 255;
      value = value * alpha + 255 * (1 - alpha);
    }
    out[i] = value;
  }
  return out;
}

/** For each output cell, the input indices it covers and their weights (summing to 1). */
function boxWeights(inputSize: number, outputSize: number): { start: Int32Array; count: Int32Array; weights: Float32Array; stride: number } {
  const scale = inputSize / outputSize;
  const stride = Math.ceil(scale) + 2;
  const start = new Int32Array(outputSize);
  const count = new Int32Array(outputSize);
  const weights = new Float32Array(outputSize * stride);
  for (let out = 0; out < outputSize; out += 1) {
    const from = out * scale;
    const to = from + scale;
    const first = Math.floor(from);
    start[out] = first;
    let n = 0;
    for (let i = first; i < Math.min(inputSize, Math.ceil(to)); i += 1) {
      const weight = Math.min(to, i + 1) - Math.max(from, i);
      if (weight > 0) weights[out * stride + (i - first)] = weight / scale;
      n = i - first + 1;
    }
    count[out] = n;
  }
  return { start, count, weights, stride };
}

/**
 * Greyscale values (from luma()) resampled to width×height by area averaging: each output
 * pixel is the mean of the input area it covers. Done here rather than as more sharp calls:
 * on a 256 px thumbnail it takes a fraction of a millisecond.
 */
export function resampleGrey(grey: Float32Array, inputWidth: number, inputHeight: number, width: number, height: number): Uint8Array {
  const columns = boxWeights(inputWidth, width);
  const rows = boxWeights(inputHeight, height);
  const horizontal = new Float32Array(width * inputHeight);
  for (let y = 0; y < inputHeight; y += 1) {
    const row = y * inputWidth;
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      const first = row + columns.start[x]!;
      const base = x * columns.stride;
      for (let k = 0; k < columns.count[x]!; k += 1) sum += grey[first + k]! * columns.weights[base + k]!;
      horizontal[y * width + x] = sum;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const first = rows.start[y]!;
    const base = y * rows.stride;
    for (let x = 0; x < width; x += 1) {
      let sum = 0;
      for (let k = 0; k < rows.count[y]!; k += 1) sum += horizontal[(first + k) * width + x]! * rows.weights[base + k]!;
      out[y * width + x] = Math.max(0, Math.min(255, Math.round(sum)));
    }
  }
  return out;
}

/** luma() then resampleGrey(): greyscale pixels of an RGB(A) image at width×height. */
export function greyResample(pixels: Uint8Array, inputWidth: number, inputHeight: number, channels: number, width: number, height: number): Uint8Array {
  return resampleGrey(luma(pixels, inputWidth * inputHeight, channels), inputWidth, inputHeight, width, height);
}

function bitsToHex(bits: readonly boolean[]): string {
  let hex = '';
  for (let i = 0; i < bits.length; i += 4) {
    const nibble = (bits[i] ? 8 : 0) | (bits[i + 1] ? 4 : 0) | (bits[i + 2] ? 2 : 0) | (bits[i + 3] ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/** dHash of 9×8 greyscale pixels (row-major, one byte each). */
export function differenceHash(grey: Uint8Array): string {
  if (grey.length !== DHASH_INPUT_WIDTH_PX * DHASH_INPUT_HEIGHT_PX) throw new Error(`dHash needs 9×8 = 72 grey pixels, got ${grey.length}`);
  const bits: boolean[] = [];
  for (let y = 0; y < DHASH_INPUT_HEIGHT_PX; y += 1) {
    for (let x = 0; x < DHASH_INPUT_WIDTH_PX - 1; x += 1) {
      const row = y * DHASH_INPUT_WIDTH_PX;
      bits.push(grey[row + x + 1]! > grey[row + x]!);
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

/** Reverses each row of a row-major grid in place: the grid of the left-right mirrored image. */
function mirrorRows(grid: Uint8Array, width: number): Uint8Array {
  for (let row = 0; row < grid.length; row += width) grid.subarray(row, row + width).reverse();
  return grid;
}

/**
 * dHash and pHash of decoded pixels (interleaved sRGB(A) or grey, 1–4 channels, row-major): the
 * way every part of Looktwice hashes an image — luma(), then area averaging to 9×8 and 32×32.
 * With `mirrored`, the hashes of the left-right mirror of the image (for flipped copies); area
 * averaging is symmetric, so mirroring the small grids equals hashing a mirrored decode.
 */
export function hashPixels(pixels: Uint8Array, width: number, height: number, channels: number, options: { mirrored?: boolean } = {}): PerceptualHashes {
  const grey = luma(pixels, width * height, channels);
  const dhashGrey = resampleGrey(grey, width, height, DHASH_INPUT_WIDTH_PX, DHASH_INPUT_HEIGHT_PX);
  const phashGrey = resampleGrey(grey, width, height, PHASH_INPUT_SIZE_PX, PHASH_INPUT_SIZE_PX);
  if (options.mirrored) {
    mirrorRows(dhashGrey, DHASH_INPUT_WIDTH_PX);
    mirrorRows(phashGrey, PHASH_INPUT_SIZE_PX);
  }
  return { dhash: differenceHash(dhashGrey), phash: dctHash(phashGrey) };
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
