/**
 * 64-bit perceptual hashes from a greyscale image, and their Hamming distance.
 * - dHash (difference hash, Krawetz 2013): 9×8 grey, one bit per horizontally adjacent pair.
 * - pHash (DCT hash, Zauner 2010): 32×32 grey, 2-D DCT-II, the 8×8 lowest frequencies compared
 *   with their median (DC excluded from the median).
 * Hashes are 16 hex digits, bit 63 first (row-major), the format perceptual_hashes uses.
 */

/** Packs 64 booleans (row-major) into 16 hex digits. */
export function bitsToHex(bits: ArrayLike<number>): string {
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let b = 0; b < 4; b++) value = (value << 1) | (bits[nibble * 4 + b] ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/** A hex hash as two unsigned 32-bit halves [high, low]. */
export function hexToWords(hex: string): [number, number] {
  if (!/^[0-9a-f]{16}$/i.test(hex)) throw new Error(`not a 64-bit hex hash: "${hex}"`);
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8), 16) >>> 0];
}

function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of differing bits between two 64-bit hashes given as words. */
export function hammingWords(aHigh: number, aLow: number, bHigh: number, bLow: number): number {
  return popcount32((aHigh ^ bHigh) >>> 0) + popcount32((aLow ^ bLow) >>> 0);
}

/** Number of differing bits between two hex hashes. */
export function hamming(a: string, b: string): number {
  const [ah, al] = hexToWords(a);
  const [bh, bl] = hexToWords(b);
  return hammingWords(ah, al, bh, bl);
}

/** dHash of a 9-wide × 8-high greyscale image (row-major bytes). */
export function dhashFromGrey9x8(grey: ArrayLike<number>): string {
  const bits = new Uint8Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) bits[y * 8 + x] = grey[y * 9 + x]! > grey[y * 9 + x + 1]! ? 1 : 0;
  }
  return bitsToHex(bits);
}

const DCT_SIZE = 32;
const DCT_KEEP = 8;
// cosines[u][x] = cos((2x+1)uπ / 2N) for the 8 lowest frequencies.
const cosines: Float64Array[] = Array.from({ length: DCT_KEEP }, (_, u) => {
  const row = new Float64Array(DCT_SIZE);
  for (let x = 0; x < DCT_SIZE; x++) row[x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * DCT_SIZE));
  return row;
});

/** pHash of a 32×32 greyscale image (row-major bytes). */
export function phashFromGrey32(grey: ArrayLike<number>): string {
  // Separable DCT: rows first ([32 rows, 8 freqs]), then columns ([8, 8]).
  const rowPass = new Float64Array(DCT_SIZE * DCT_KEEP);
  for (let y = 0; y < DCT_SIZE; y++) {
    for (let u = 0; u < DCT_KEEP; u++) {
      const c = cosines[u]!;
      let sum = 0;
      for (let x = 0; x < DCT_SIZE; x++) sum += grey[y * DCT_SIZE + x]! * c[x]!;
      rowPass[y * DCT_KEEP + u] = sum;
    }
  }
  const coefficients = new Float64Array(DCT_KEEP * DCT_KEEP); // [v, u]
  for (let v = 0; v < DCT_KEEP; v++) {
    const c = cosines[v]!;
    for (let u = 0; u < DCT_KEEP; u++) {
      let sum = 0;
      for (let y = 0; y < DCT_SIZE; y++) sum += rowPass[y * DCT_KEEP + u]! * c[y]!;
      coefficients[v * DCT_KEEP + u] = sum;
    }
  }
  const sorted = Array.from(coefficients.subarray(1)).sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  const bits = new Uint8Array(64);
  for (let i = 0; i < 64; i++) bits[i] = coefficients[i]! > median ? 1 : 0;
  return bitsToHex(bits);
}
