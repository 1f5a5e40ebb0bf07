/**
 * 64-bit perceptual hashes, as 16 hex digits (most significant bit = first pixel/coefficient):
 * - dHash, the difference hash (N. Krawetz, "Kind of Like That", The Hacker Factor blog, 2013):
 *   greyscale 9×8, one bit per horizontally adjacent pair, 1 when the right pixel is brighter.
 * - pHash, the DCT hash (C. Zauner, "Implementation and Benchmarking of Perceptual Image Hash
 *   Functions", 2010; as in the `imagehash` library): greyscale 32×32, 2-D DCT-II, the 8×8
 *   lowest frequencies, 1 where a coefficient is above their median.
 * Both are robust to rescaling and recompression; near duplicates differ in a few bits.
 */

/** Side of the greyscale square pHash works on. */
export const PHASH_INPUT_SIZE_PX = 32;
/** dHash input: 9 columns × 8 rows. */
export const DHASH_INPUT_WIDTH_PX = 9;
export const DHASH_INPUT_HEIGHT_PX = 8;

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

/** Number of differing bits between two 16-hex-digit hashes (0 = same, 64 = opposite). */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== 16 || b.length !== 16) throw new Error(`perceptual hashes are 16 hex digits, got "${a}" and "${b}"`);
  let distance = 0;
  for (let i = 0; i < 16; i += 1) {
    let x = parseInt(a[i]!, 16) ^ parseInt(b[i]!, 16);
    while (x) {
      distance += x & 1;
      x >>= 1;
    }
  }
  return distance;
}
