/**
 * Active learning: which images the user should label next. Three regimes:
 *   - cold start (no labels): the most *typical* image of each k-means group of the library — the
 *     sample nearest each centroid (TypiClust, Hacohen et al. 2022: with very few labels, typical
 *     beats uncertain);
 *   - labels but no probe yet (one class): k-center greedy (Sener & Savarese 2018) — the images
 *     farthest from everything labeled;
 *   - with a probe: cluster-margin (after Citovsky et al. 2021). The most uncertain images by
 *     margin (top-1 − top-2 calibrated probability, Scheffer et al. 2001) are clustered, and each
 *     cluster gives its most uncertain typical member, so one batch is not twenty near-copies and
 *     not a set of outliers. (The first version scored uncertainty × k-center distance; on
 *     Fashion-MNIST pixels it picked outliers and lost 9–16 points to random labels at 5–10 per
 *     class. It stays available as strategy 'margin-kcenter'.) An optional share of the batch
 *     explores groups far from every label (default 0: it did not help on Fashion-MNIST).
 * Every pick carries a reason in user words.
 */
import { throwIfCancelled } from '../common/progress.ts';
import { randomInt, seededRandom, type RandomSource } from '../common/random.ts';
import { dot, normalisedRows } from '../common/vectors.ts';

export interface SuggestInput {
  /** Candidate (unlabeled) embeddings [N, dim]. */
  features: Float32Array;
  dim: number;
  /** Calibrated probe probabilities for the candidates [N, C], or null when there is no probe. */
  probabilities?: Float32Array | null;
  classNames?: readonly string[];
  /** Embeddings already labeled [M, dim] (diversity is measured against them too). */
  labeledFeatures?: Float32Array | null;
  /** How many suggestions. */
  count: number;
  /** Uncertain images considered for the diversity pass (default max(20 × count, 1,000)). */
  poolSize?: number;
  /** With a probe: 'cluster-margin' (default) or 'margin-kcenter' (see the module header). */
  strategy?: 'cluster-margin' | 'margin-kcenter';
  /** With a probe: share of picks spent exploring groups with no label nearby (default 0). */
  exploreFraction?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface SuggestionPick {
  /** Row of the candidate in `features`. */
  index: number;
  kind: 'typical' | 'unexplored' | 'uncertain';
  /** 1 − margin, or null without a probe. */
  uncertainty: number | null;
  /** Cosine distance to the nearest labeled or previously picked image (NaN when none). */
  distance: number;
  predictedClass: number | null;
  confidence: number | null;
  reason: string;
}

/** Dot product of row aRow of a and row bRow of b ([rows, dim] each): cosine for unit rows. */
function dotRows(a: Float32Array, aRow: number, b: Float32Array, bRow: number, dim: number): number {
  return dot(a, aRow * dim, b, bRow * dim, dim);
}

/** For each row of `pool` [P, D], the cosine distance to its nearest row of `centres` [M, D]. */
function nearestDistances(pool: Float32Array, centres: Float32Array, dim: number, signal?: AbortSignal): Float64Array {
  const poolCount = pool.length / dim;
  const centreCount = centres.length / dim;
  const out = new Float64Array(poolCount).fill(Infinity);
  for (let i = 0; i < poolCount; i++) {
    if (i % 1024 === 0) throwIfCancelled(signal);
    let best = Infinity;
    for (let m = 0; m < centreCount; m++) best = Math.min(best, 1 - dotRows(pool, i, centres, m, dim));
    out[i] = best;
  }
  return out;
}

function percent(value: number): string {
  return `${Math.round(value * 100)} %`;
}

/** Spherical k-means (k-means++ seeding, 10 Lloyd rounds) on unit rows [N, D]: cluster per row and unit centres [k, D]. */
function kMeans(unit: Float32Array, dim: number, clusterCount: number, random: RandomSource, signal?: AbortSignal): { assignment: Int32Array; centres: Float32Array; k: number } {
  const total = unit.length / dim;
  const k = Math.min(clusterCount, total);
  const centres = new Float32Array(k * dim);
  // k-means++ seeding: each next centre drawn with probability ∝ squared distance.
  const nearest = new Float64Array(total).fill(Infinity);
  let chosen = randomInt(random, total);
  for (let c = 0; c < k; c++) {
    centres.set(unit.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
    let sum = 0;
    for (let i = 0; i < total; i++) {
      const distance = Math.max(0, 1 - dotRows(unit, i, centres, c, dim));
      nearest[i] = Math.min(nearest[i]!, distance * distance);
      sum += nearest[i]!;
    }
    let target = random() * sum;
    chosen = total - 1;
    for (let i = 0; i < total; i++) {
      target -= nearest[i]!;
      if (target <= 0) {
        chosen = i;
        break;
      }
    }
  }
  const assignment = new Int32Array(total);
  for (let iteration = 0; iteration < 10; iteration++) {
    throwIfCancelled(signal);
    for (let i = 0; i < total; i++) {
      let best = 0, bestSimilarity = -Infinity;
      for (let c = 0; c < k; c++) {
        const similarity = dotRows(unit, i, centres, c, dim);
        if (similarity > bestSimilarity) {
          bestSimilarity = similarity;
          best = c;
        }
      }
      assignment[i] = best;
    }
    centres.fill(0);
    for (let i = 0; i < total; i++) {
      const c = assignment[i]!;
      for (let d = 0; d < dim; d++) centres[c * dim + d]! += unit[i * dim + d]!;
    }
    for (let c = 0; c < k; c++) {
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += centres[c * dim + d]! ** 2;
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let d = 0; d < dim; d++) centres[c * dim + d]! *= scale;
    }
  }
  return { assignment, centres, k };
}

/**
 * One row per cluster, the one maximising `score(row) × similarity to its centre` (score 1 =
 * plain typicality), with the cluster size; largest clusters first.
 */
function bestPerCluster(unit: Float32Array, dim: number, clusters: ReturnType<typeof kMeans>, score: (row: number) => number): Array<{ row: number; size: number }> {
  const { assignment, centres, k } = clusters;
  const best = new Int32Array(k).fill(-1);
  const bestValue = new Float64Array(k).fill(-Infinity);
  const sizes = new Int32Array(k);
  for (let i = 0; i < assignment.length; i++) {
    const c = assignment[i]!;
    sizes[c]! += 1;
    const value = score(i) * Math.max(0, dotRows(unit, i, centres, c, dim));
    if (value > bestValue[c]!) {
      bestValue[c] = value;
      best[c] = i;
    }
  }
  const picks: Array<{ row: number; size: number }> = [];
  for (let c = 0; c < k; c++) if (best[c]! >= 0) picks.push({ row: best[c]!, size: sizes[c]! });
  return picks.sort((a, b) => b.size - a.size || a.row - b.row);
}

/** The most typical member (nearest its centre) of each of `count` clusters, largest first. */
function typicalPicks(unit: Float32Array, dim: number, count: number, random: RandomSource, signal?: AbortSignal): Array<{ row: number; size: number }> {
  return bestPerCluster(unit, dim, kMeans(unit, dim, count, random, signal), () => 1);
}

/**
 * Picks up to `count` candidates to label next, best first, each with its reason.
 * Deterministic for a seed.
 */
export function suggestForLabeling(input: SuggestInput): SuggestionPick[] {
  const { features, dim, count } = input;
  const total = dim > 0 ? features.length / dim : 0;
  if (count <= 0 || total === 0) return [];
  const random = seededRandom(input.seed ?? 0);
  const labeledUnit = input.labeledFeatures && input.labeledFeatures.length > 0 ? normalisedRows(input.labeledFeatures, dim) : null;
  const probabilities = input.probabilities ?? null;
  const names = input.classNames ?? [];
  const className = (c: number) => names[c] ?? `class ${c}`;

  if (!probabilities) {
    if (!labeledUnit) {
      // Cold start: cluster a sample of the library and take the most typical image of each group.
      const sampleRows = total > 20_000 ? Array.from({ length: 20_000 }, () => randomInt(random, total)) : undefined;
      const unit = normalisedRows(features, dim, sampleRows);
      const sampleCount = unit.length / dim;
      return typicalPicks(unit, dim, count, random, input.signal).map(({ row, size }) => ({
        index: sampleRows ? sampleRows[row]! : row,
        kind: 'typical' as const,
        uncertainty: null,
        distance: NaN,
        predictedClass: null,
        confidence: null,
        reason: `typical of a group of about ${percent(size / sampleCount)} of the unlabeled images`,
      }));
    }
  }

  // Pool: the most uncertain candidates (or a random sample when there is no probe).
  const classCount = probabilities ? probabilities.length / total : 0;
  const top1 = new Int32Array(total), top2 = new Int32Array(total);
  const uncertainty = new Float64Array(total).fill(1);
  if (probabilities) {
    for (let i = 0; i < total; i++) {
      let a = 0, b = -1;
      for (let c = 1; c < classCount; c++) {
        const p = probabilities[i * classCount + c]!;
        if (p > probabilities[i * classCount + a]!) {
          b = a;
          a = c;
        } else if (b < 0 || p > probabilities[i * classCount + b]!) b = c;
      }
      top1[i] = a;
      top2[i] = b;
      const margin = probabilities[i * classCount + a]! - (b >= 0 ? probabilities[i * classCount + b]! : 0);
      uncertainty[i] = 1 - margin;
    }
  }
  if (probabilities && (input.strategy ?? 'cluster-margin') === 'cluster-margin') {
    return clusterMargin(input, { total, classCount, top1, top2, uncertainty, labeledUnit, random, className });
  }
  const poolSize = Math.min(total, input.poolSize ?? Math.max(20 * count, 1000));
  let pool: number[];
  if (probabilities) {
    pool = Array.from({ length: total }, (_, i) => i).sort((a, b) => uncertainty[b]! - uncertainty[a]! || a - b).slice(0, poolSize);
  } else {
    pool = total <= poolSize ? Array.from({ length: total }, (_, i) => i) : Array.from({ length: poolSize }, () => randomInt(random, total));
    pool = [...new Set(pool)];
  }
  const unit = normalisedRows(features, dim, pool);
  const distance = labeledUnit ? nearestDistances(unit, labeledUnit, dim, input.signal) : new Float64Array(pool.length).fill(1);
  let maxDistance = 0;
  for (const d of distance) if (Number.isFinite(d)) maxDistance = Math.max(maxDistance, d);
  const distanceScale = maxDistance > 0 ? 1 / maxDistance : 1;

  const picks: SuggestionPick[] = [];
  const taken = new Uint8Array(pool.length);
  for (let round = 0; round < Math.min(count, pool.length); round++) {
    throwIfCancelled(input.signal);
    let best = -1, bestScore = -Infinity;
    for (let k = 0; k < pool.length; k++) {
      if (taken[k]) continue;
      const score = uncertainty[pool[k]!]! * Math.min(1, distance[k]! * distanceScale);
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    if (best < 0) break;
    taken[best] = 1;
    const index = pool[best]!;
    const nearestDistance = distance[best]!;
    const far = nearestDistance * distanceScale > 0.75;
    let reason: string;
    if (probabilities) {
      const p1 = probabilities[index * classCount + top1[index]!]!;
      const p2 = top2[index]! >= 0 ? probabilities[index * classCount + top2[index]!]! : 0;
      reason = top2[index]! >= 0
        ? `the probe is unsure: ${className(top1[index]!)} ${percent(p1)} vs ${className(top2[index]!)} ${percent(p2)}`
        : `the probe is unsure: ${className(top1[index]!)} ${percent(p1)}`;
      if (far) reason += '; unlike anything labeled so far';
    } else {
      reason = 'unlike anything labeled so far';
    }
    picks.push({
      index,
      kind: probabilities ? 'uncertain' : 'unexplored',
      uncertainty: probabilities ? uncertainty[index]! : null,
      distance: Number.isFinite(nearestDistance) ? nearestDistance : NaN,
      predictedClass: probabilities ? top1[index]! : null,
      confidence: probabilities ? probabilities[index * classCount + top1[index]!]! : null,
      reason,
    });
    // k-center update: distances now also count the image just picked.
    for (let k = 0; k < pool.length; k++) {
      if (taken[k]) continue;
      const d = 1 - dotRows(unit, k, unit, best, dim);
      if (d < distance[k]!) distance[k] = d;
    }
  }
  return picks;
}

interface MarginState {
  total: number;
  classCount: number;
  top1: Int32Array;
  top2: Int32Array;
  uncertainty: Float64Array;
  labeledUnit: Float32Array | null;
  random: RandomSource;
  className: (c: number) => string;
}

/**
 * Cluster-margin (after Citovsky et al. 2021): the most uncertain candidates are clustered and
 * each cluster gives its most uncertain *typical* member (uncertainty × similarity to the
 * cluster centre), largest clusters first — uncertain, diverse, and not outliers. A share of the
 * batch explores instead: the typical image of big groups that lie far from every label, so
 * classes the user has not labeled yet get found.
 */
function clusterMargin(input: SuggestInput, state: MarginState): SuggestionPick[] {
  const { features, dim, count } = input;
  const probabilities = input.probabilities!;
  const { total, classCount, top1, top2, uncertainty, labeledUnit, random, className } = state;
  const picks: SuggestionPick[] = [];
  const chosen = new Set<number>();
  const pickDistance = (index: number) => (labeledUnit ? nearestDistances(normalisedRows(features, dim, [index]), labeledUnit, dim)[0]! : NaN);
  const pick = (index: number, kind: SuggestionPick['kind'], reason: string): SuggestionPick => ({
    index,
    kind,
    uncertainty: uncertainty[index]!,
    distance: pickDistance(index),
    predictedClass: top1[index]!,
    confidence: probabilities[index * classCount + top1[index]!]!,
    reason,
  });

  const exploreCount = count >= 3 ? Math.floor(count * (input.exploreFraction ?? 0)) : 0;
  if (exploreCount > 0 && labeledUnit) {
    const sampleSize = Math.min(total, 5000);
    const sampleRows = total > sampleSize ? [...new Set(Array.from({ length: sampleSize }, () => randomInt(random, total)))] : Array.from({ length: total }, (_, i) => i);
    const unit = normalisedRows(features, dim, sampleRows);
    const clusters = kMeans(unit, dim, Math.max(4 * exploreCount, 10), random, input.signal);
    const centreDistance = nearestDistances(clusters.centres, labeledUnit, dim, input.signal);
    const groups = bestPerCluster(unit, dim, clusters, () => 1).map((group) => ({ ...group, cluster: clusters.assignment[group.row]! }));
    groups.sort((a, b) => b.size * centreDistance[b.cluster]! - a.size * centreDistance[a.cluster]! || a.row - b.row);
    for (const group of groups.slice(0, exploreCount)) {
      const index = sampleRows[group.row]!;
      chosen.add(index);
      picks.push(pick(index, 'unexplored', `typical of a group of about ${percent(group.size / sampleRows.length)} of the unlabeled images with no label nearby`));
    }
  }

  const need = count - picks.length;
  // The uncertain pool: 10 candidates per pick, at least 500, but never more than the uncertain
  // half of a small library (else k-means would also hand out picks from confident groups).
  const poolSize = Math.min(total, input.poolSize ?? Math.max(10 * need, Math.min(500, Math.ceil(total / 2))));
  const pool = Array.from({ length: total }, (_, i) => i)
    .filter((i) => !chosen.has(i))
    .sort((a, b) => uncertainty[b]! - uncertainty[a]! || a - b)
    .slice(0, poolSize);
  const unit = normalisedRows(features, dim, pool);
  const clusters = kMeans(unit, dim, need, random, input.signal);
  for (const group of bestPerCluster(unit, dim, clusters, (row) => uncertainty[pool[row]!]!).slice(0, need)) {
    const index = pool[group.row]!;
    const p1 = probabilities[index * classCount + top1[index]!]!;
    const second = top2[index]!;
    const p2 = second >= 0 ? probabilities[index * classCount + second]! : 0;
    const versus = second >= 0 ? ` vs ${className(second)} ${percent(p2)}` : '';
    picks.push(pick(index, 'uncertain', (p1 >= 0.9
      ? `the probe says ${className(top1[index]!)} ${percent(p1)}${versus}, but no label covers this group yet`
      : `the probe is unsure: ${className(top1[index]!)} ${percent(p1)}${versus}`) + (group.size > 1 ? ` (stands for ${group.size} similar images)` : '')));
  }
  return picks;
}
