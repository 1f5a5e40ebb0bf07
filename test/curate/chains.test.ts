import { describe, expect, it } from 'vitest';
import { isNearDuplicate, splitChains } from '../../core/curate/duplicates.ts';
import { UnionFind } from '../../core/curate/union-find.ts';

/** Links a, b in both the link graph and the edge list. */
function graph(count: number, pairs: Array<[number, number]>, exactPairs: Array<[number, number]> = []) {
  const linked = new UnionFind(count);
  const exact = new UnionFind(count);
  const edges = [...pairs, ...exactPairs].map(([a, b]) => ({ a, b }));
  for (const [a, b] of [...pairs, ...exactPairs]) linked.union(a, b);
  for (const [a, b] of exactPairs) exact.union(a, b);
  return { linked, exact, edges };
}

describe('splitChains', () => {
  it('breaks a chain of look-alikes: A~B~C~D~E does not make A a duplicate of E', () => {
    // Images on a line: each is a duplicate only of its immediate neighbours.
    const { linked, exact, edges } = graph(5, [[0, 1], [1, 2], [2, 3], [3, 4]]);
    const grouped = splitChains(linked, exact, edges, 5, (a, b) => Math.abs(a - b) <= 1);
    const groups = grouped.groups(1).map((g) => g.length).sort();
    expect(Math.max(...groups)).toBeLessThanOrEqual(3);
    for (const group of grouped.groups(2)) {
      // Every member of a group is a direct duplicate of some member that leads it.
      expect(Math.max(...group) - Math.min(...group)).toBeLessThanOrEqual(2);
    }
  });

  it('keeps a photo and all its edits together even when the edits do not match each other', () => {
    // 0 is the original; 1..5 are edits (crop, flip, …) that each match only the original.
    const { linked, exact, edges } = graph(6, [[0, 1], [0, 2], [0, 3], [0, 4], [0, 5]]);
    const grouped = splitChains(linked, exact, edges, 6, (a, b) => a === 0 || b === 0);
    expect(grouped.groups(2)).toEqual([[0, 1, 2, 3, 4, 5]]);
  });

  it('keeps pixel-identical copies with their twin', () => {
    // 0 leads; 1 matches 0; 2 is pixel-identical to 0 (exact) but was never compared.
    const { linked, exact, edges } = graph(4, [[0, 1], [1, 3]], [[0, 2]]);
    const grouped = splitChains(linked, exact, edges, 4, (a, b) => (a === 0 && b === 1) || (a === 1 && b === 0) || (a === 1 && b === 3) || (a === 3 && b === 1));
    const withZero = grouped.groups(2).find((g) => g.includes(0))!;
    expect(withZero).toEqual(expect.arrayContaining([0, 2]));
  });
});

describe('tiny images', () => {
  const base = { dhashBits: 10, phashBits: 10, descriptorCosine: 0.95, colourDistance: 0, cropCorrelation: null, embeddingCosine: null, mirrored: false };
  it('close hashes and a similar layout make a near duplicate of two photos…', () => {
    expect(isNearDuplicate({ ...base, tiny: false })).toBe(true);
  });
  it('…but not of two 28 px images, where unrelated items look that alike; near-identical ones still match', () => {
    expect(isNearDuplicate({ ...base, tiny: true })).toBe(false);
    expect(isNearDuplicate({ ...base, tiny: true, dhashBits: 2, phashBits: 3 })).toBe(true);
    expect(isNearDuplicate({ ...base, tiny: true, descriptorCosine: 0.995 })).toBe(true);
  });
});
