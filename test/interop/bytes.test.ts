/** The shared byte helpers of the interop formats: half floats and read errors that name the file. */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { halfToFloat, readFileBytes } from '../../core/interop/bytes.ts';

describe('interop bytes', () => {
  it('decodes IEEE half floats, subnormals, infinities and NaN included', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x8000)).toBe(-0);
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(halfToFloat(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('names the file it cannot read', () => {
    const missing = path.join(os.tmpdir(), 'looktwice-no-such-file.npy');
    expect(() => readFileBytes(missing)).toThrow(`cannot read ${missing}: ENOENT`);
  });
});
