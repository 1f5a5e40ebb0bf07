/**
 * Leak-free, stratified train/val/test splits. The unit of assignment is a near-duplicate group
 * (an image not in any group is a group of one), so two copies of one photo never land in
 * different splits — the classic train/test leak. Within that constraint, units are placed
 * greedily, largest first, into the split whose per-class counts lag furthest behind their
 * targets (fraction × class size): a group-aware variant of stratified sampling.
 */
import { seededRandom, shuffleInPlace } from '../common/random.ts';

export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface SplitItem {
  imageId: number;
  /** The stratum, usually the class name. */
  classKey: string;
}

/** Parses "0.8,0.1,0.1" (or percentages "80,10,10") into fractions summing to 1. */
export function parseSplitFractions(text: string): [number, number, number] {
  const parts = text.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 3 || parts.some((value) => !Number.isFinite(value) || value < 0)) {
    throw new Error(`--split needs three non-negative numbers "train,val,test", got "${text}"`);
  }
  const sum = parts[0]! + parts[1]! + parts[2]!;
  if (sum <= 0) throw new Error(`--split fractions sum to 0 in "${text}"`);
  return [parts[0]! / sum, parts[1]! / sum, parts[2]! / sum];
}

/**
 * Merges groups that share an image (a chain of near duplicates is one group). The keeper of a
 * merged group is the keeper of its first input group.
 */
export function mergeOverlappingGroups<T extends { imageIds: readonly number[]; keepImageId: number }>(groups: readonly T[]): Array<{ imageIds: number[]; keepImageId: number }> {
  const owner = new Map<number, number>(); // image id → merged group index
  const merged: Array<{ imageIds: Set<number>; keepImageId: number } | null> = [];
  for (const group of groups) {
    const touching = [...new Set(group.imageIds.map((id) => owner.get(id)).filter((index): index is number => index !== undefined))].sort((a, b) => a - b);
    let target: number;
    if (touching.length === 0) {
      target = merged.length;
      merged.push({ imageIds: new Set(), keepImageId: group.keepImageId });
    } else {
      target = touching[0]!;
      for (const other of touching.slice(1)) {
        for (const id of merged[other]!.imageIds) {
          merged[target]!.imageIds.add(id);
          owner.set(id, target);
        }
        merged[other] = null;
      }
    }
    for (const id of group.imageIds) {
      merged[target]!.imageIds.add(id);
      owner.set(id, target);
    }
  }
  return merged.filter((group) => group !== null).map((group) => ({ imageIds: [...group.imageIds].sort((a, b) => a - b), keepImageId: group.keepImageId }));
}

/**
 * Assigns every item to a split. `groups` are image-id groups (near duplicates); ids not among
 * the items are ignored, overlapping groups are merged. Deterministic for a seed.
 */
export function assignSplits(
  items: readonly SplitItem[],
  groups: ReadonlyArray<readonly number[]>,
  fractions: readonly [number, number, number],
  seed = 0,
): Map<number, SplitName> {
  const present = new Map(items.map((item) => [item.imageId, item.classKey]));
  // Union groups that share an image (a chain of near duplicates is one unit).
  const parent = new Map<number, number>();
  const find = (id: number): number => {
    let root = id;
    while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root)!;
    let node = id;
    while (node !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  for (const item of items) parent.set(item.imageId, item.imageId);
  for (const group of groups) {
    const members = group.filter((id) => present.has(id));
    for (let k = 1; k < members.length; k++) {
      const a = find(members[0]!), b = find(members[k]!);
      if (a !== b) parent.set(Math.max(a, b), Math.min(a, b));
    }
  }
  const units = new Map<number, number[]>();
  for (const item of items) {
    const root = find(item.imageId);
    const unit = units.get(root);
    if (unit) unit.push(item.imageId);
    else units.set(root, [item.imageId]);
  }

  const classTotals = new Map<string, number>();
  for (const item of items) classTotals.set(item.classKey, (classTotals.get(item.classKey) ?? 0) + 1);
  const placed = new Map<string, [number, number, number]>();
  for (const key of classTotals.keys()) placed.set(key, [0, 0, 0]);

  // Shuffle first, then a stable sort by size: big units are hardest to place, ties are random.
  const order = shuffleInPlace([...units.values()].sort((a, b) => a[0]! - b[0]!), seededRandom(seed)).sort((a, b) => b.length - a.length);
  const out = new Map<number, SplitName>();
  for (const unit of order) {
    const perClass = new Map<string, number>();
    for (const id of unit) perClass.set(present.get(id)!, (perClass.get(present.get(id)!) ?? 0) + 1);
    let best = 0;
    let bestScore = -Infinity;
    for (let split = 0; split < 3; split++) {
      if (fractions[split]! <= 0) continue;
      // How far this split lags behind its target for the unit's classes, after placing the unit.
      let score = 0;
      for (const [key, n] of perClass) {
        const target = fractions[split]! * classTotals.get(key)!;
        score += n * (target - placed.get(key)![split]! - n / 2);
      }
      // Ties go to the larger split (train first), so tiny classes fill train before val/test.
      if (score > bestScore + 1e-9 || (Math.abs(score - bestScore) <= 1e-9 && fractions[split]! > fractions[best]!)) {
        bestScore = score;
        best = split;
      }
    }
    for (const [key, n] of perClass) placed.get(key)![best]! += n;
    for (const id of unit) out.set(id, SPLITS[best]!);
  }
  return out;
}
