/**
 * What the binary interop formats (.npy, safetensors, Parquet) share: reading a whole file with
 * an error that names it, and decoding IEEE half-precision floats, which NumPy ('<f2') and
 * safetensors (F16) both store.
 */
import fs from 'node:fs';

/** The bytes of `file`, or an error naming the file and why it cannot be read. */
export function readFileBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** IEEE 754 half (binary16, as its 16 bits) → number; subnormals, infinities and NaN included. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
