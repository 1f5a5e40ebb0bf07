import { describe, expect, it } from 'vitest';
import { dot, dotVectors, normaliseRows, normalisedRows } from '../../core/common/vectors.ts';

describe('vector maths', () => {
  it('dot takes rows at offsets of row-major matrices; dotVectors checks lengths', () => {
    const matrix = Float32Array.from([1, 2, 3, 4, 5, 6]); // [2, 3]
    expect(dot(matrix, 0, matrix, 3, 3)).toBe(1 * 4 + 2 * 5 + 3 * 6);
    expect(dotVectors([1, 0, -1], Float64Array.from([2, 5, 2]))).toBe(0);
    expect(() => dotVectors([1, 2], [1, 2, 3])).toThrow(/lengths 2 and 3/);
  });

  it('normaliseRows scales rows to unit length in place and leaves zero rows zero', () => {
    const rows = Float32Array.from([3, 4, 0, 0, 0, 2]); // [3, 2]
    expect(normaliseRows(rows, 2)).toBe(rows);
    expect(Array.from(rows)).toEqual([0.6000000238418579, 0.800000011920929, 0, 0, 0, 1]);
    expect(dot(rows, 0, rows, 0, 2)).toBeCloseTo(1, 6);
  });

  it('normalisedRows copies the chosen rows, unit length, without touching the input', () => {
    const input = Float32Array.from([3, 4, 0, 5, 6, 8]);
    const picked = normalisedRows(input, 2, [2, 0]);
    expect(Array.from(picked)).toEqual(Array.from(Float32Array.from([0.6, 0.8, 0.6, 0.8])));
    expect(Array.from(input)).toEqual([3, 4, 0, 5, 6, 8]);
    expect(normalisedRows(input, 2).length).toBe(6);
  });
});
