/**
 * Exact and near-duplicate groups.
 *
 * Exact: several paths with the same content hash (one image row), or different files whose
 * decoded pixels are identical (same picture re-saved with other metadata/container).
 * Near: candidate pairs come from nearest-neighbour search on a tiny normalised grey descriptor
 * (and on the mirrored descriptor, so flips are found) and, when a trained model exists, on the
 * embeddings; each candidate is then judged on perceptual-hash distances (dHash, pHash; each
 * against the other's mirror too) and cosine similarities, with thresholds from
 * NEAR_DUPLICATE_THRESHOLDS (see there how they were calibrated). Pairs become groups by
 * union-find; each group gets a keeper (keeper.ts) and a one-line "why".
 */
import type { Db } from '../store/db.ts';
import { CurateRepository, type CatalogFile, type ImageFeatures } from '../store/curate.repository.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { DuplicateGroupsRepository } from '../store/duplicate-groups.repository.ts';
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { seededRandom } from '../common/random.ts';
import { decoderInput } from '../common/file-name-bytes.ts';
import { dot } from '../common/vectors.ts';
import { UnionFind } from './union-find.ts';
import { hammingWords, hexToWords } from '../library/perceptual-hash.ts';
import { chooseKeeper } from './keeper.ts';
import { ensureFeatures } from './features.service.ts';
import { DESCRIPTOR_SIDE, mirrorGrid, pixelHash } from './image-features.ts';
import { findNeighbours } from './neighbours.ts';
import { CANDIDATE_WINDOWS, cropTolerantSimilarity, windowDescriptor } from './crop-match.ts';

/** One duplicate group as the CLI (`dedup --json`), the UI and export see it. */
export interface DuplicateGroup {
  kind: 'exact' | 'near';
  /** Absolute path of the suggested copy to keep (also in members). */
  keep: string;
  /** Every present path in the group, keeper first, then alphabetical. */
  members: string[];
  /** Image ids of the group (one per distinct content), ascending. */
  imageIds: number[];
  keepImageId: number;
  /** 1 for exact groups; for near groups the weakest link's similarity (cosine, 0..1). */
  similarity: number;
  /** Why this keeper, in words. */
  why: string;
}

/**
 * Thresholds for "near duplicate", calibrated on `npm run bench:dedup-quality -- --calibrate`
 * (46 real wallpaper photos × 9 copies: re-encode, resize, two crops, brightness, flip, WebP,
 * 2° rotation; 1,656 same-photo pairs vs 83,835 unrelated pairs):
 * - unrelated pairs: pHash ≥ 14 bits always (1 % quantile 20), dHash 1 % quantile 13 bits, so
 *   "both hashes close" (≤ 12 and ≤ 14) never fired on them;
 * - descriptor cosine of unrelated pairs: 99 % quantile 0.80, maximum 0.906 (two different
 *   photos with the same light-top/dark-bottom layout, told apart by colour);
 * - crop-window correlation of unrelated pairs: 99 % quantile 0.92, maximum 0.943; crops of the
 *   same photo: median 0.995, 5 % quantile 0.93 — hence 0.95;
 * - mean-chroma distance: unrelated median 0.18, same photo 95 % quantile 0.075 — hence 0.08.
 * Result on that set (hashes only, features from the 256 px ingest thumbnails): precision 1.00,
 * recall 0.97 (dHash ≤ 10 alone: 0.41 / 0.50). Crop candidates come from k-NN against descriptors
 * of six fixed windows per image (crop-match.ts), then the crop check verifies them.
 * Rules are OR-ed; each needs two independent signals so one coincidence cannot merge photos.
 */
export const NEAR_DUPLICATE_THRESHOLDS = {
  /** pHash and dHash both within these many bits (of 64). */
  phashBits: 12,
  dhashBits: 14,
  /** Or: same colours (mean chroma within colourDistance) and descriptor cosine at least this… */
  colourDistance: 0.08,
  descriptorCosine: 0.9,
  /** …or same colours and a crop window correlating at least this (checked when cosine ≥ cropCandidateCosine). */
  cropCorrelation: 0.95,
  cropCandidateCosine: 0.3,
  /**
   * Or: same colours, embedding cosine at least this — raised to the library's own 99.9 %
   * quantile of random-pair cosines, so a weak or collapsed model cannot merge everything — and
   * descriptor cosine at least embeddingDescriptorCosine.
   */
  embeddingCosine: 0.95,
  embeddingDescriptorCosine: 0.75,
  /**
   * Tiny images (short side under tinyShortSidePx: icons, 28–32 px dataset images) carry too
   * little detail for the bars above: on 300 Fashion-MNIST test images — no true duplicates —
   * they linked 1,051 of 44,850 pairs (424 by hashes, 552 by descriptor, 75 by crop). For them
   * only near-identical pixels count: both hashes within tinyHashBits, or the same colours and
   * descriptor cosine at least tinyDescriptorCosine (or the embedding rule); no crop rule.
   */
  tinyShortSidePx: 64,
  tinyHashBits: 4,
  tinyDescriptorCosine: 0.99,
};
export type NearDuplicateThresholds = typeof NEAR_DUPLICATE_THRESHOLDS;

export interface FindDuplicatesOptions {
  /** The library's data folder, so features can be computed from thumbnails (faster). */
  dataDir?: string;
  /** Include groups the user marked "keep all" (export wants them, to keep splits leak-free). */
  includeDismissed?: boolean;
  /** Use embeddings of this run (default: the newest run with embeddings; false: hashes only). */
  embeddingRunId?: number | false;
  /** Neighbours examined per image (default 8). */
  neighbours?: number;
  /** How candidates are searched: 'auto' (exact, IVF for large libraries), 'exact', 'approximate'. */
  neighbourMode?: 'auto' | 'exact' | 'approximate';
  thresholds?: Partial<NearDuplicateThresholds>;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** The evidence about one pair of images. */
export interface PairEvidence {
  dhashBits: number;
  phashBits: number;
  descriptorCosine: number;
  /** Mean-chroma difference (L1 over r/g chromaticity of the whole frame), 0 = same colours. */
  colourDistance: number;
  /** Best window correlation when one may be a crop of the other (null: not needed/computed). */
  cropCorrelation: number | null;
  embeddingCosine: number | null;
  mirrored: boolean;
  /** One of the two is a tiny image (see NEAR_DUPLICATE_THRESHOLDS.tinyShortSidePx). */
  tiny: boolean;
}

/** What pair evidence is computed from, per image. */
export interface FeatureView {
  words: { d: [number, number]; dm: [number, number]; p: [number, number]; pm: [number, number] };
  descriptor: Float32Array;
  mirror: Float32Array;
  grid: Uint8Array;
  chroma: [number, number];
  aspect: number;
  /** The shorter side in pixels (after orientation). */
  shortSidePx: number;
  /** A near-uniform frame (blank, lens cap): its hashes carry no information. */
  uniform: boolean;
  brightness: number;
}

/** Prepares one image's features for pair comparisons; null when it has no usable features. */
export function featureView(f: ImageFeatures | undefined, width: number, height: number): FeatureView | null {
  if (!f?.dhash || !f.dhashMirror || !f.phash || !f.phashMirror || !f.descriptor || !f.grid || !f.colour) return null;
  let r = 0;
  let g = 0;
  let b = 0;
  for (let i = 0; i < f.colour.length; i += 3) {
    r += f.colour[i]!;
    g += f.colour[i + 1]!;
    b += f.colour[i + 2]!;
  }
  const cells = f.colour.length / 3;
  // Chromaticity with a small floor, so near-black frames do not get arbitrary hues.
  const floor = 0.02 * cells;
  const total = r + g + b + 3 * floor;
  r += floor;
  g += floor;
  return {
    words: { d: hexToWords(f.dhash), dm: hexToWords(f.dhashMirror), p: hexToWords(f.phash), pm: hexToWords(f.phashMirror) },
    descriptor: f.descriptor,
    mirror: mirrorGrid(f.descriptor, DESCRIPTOR_SIDE),
    grid: f.grid,
    chroma: [r / total, g / total],
    aspect: width / Math.max(1, height),
    shortSidePx: Math.min(width, height),
    uniform: f.descriptor.every((v) => v === 0),
    brightness: f.brightness ?? 0,
  };
}

/** The evidence about a pair; the crop check runs only when the cheap signals are undecided. */
export function pairEvidence(a: FeatureView, b: FeatureView, embeddingCosine: number | null, t: NearDuplicateThresholds = NEAR_DUPLICATE_THRESHOLDS): PairEvidence {
  const dim = a.descriptor.length;
  const colourDistance = Math.abs(a.chroma[0] - b.chroma[0]) + Math.abs(a.chroma[1] - b.chroma[1]);
  const tiny = Math.min(a.shortSidePx, b.shortSidePx) < t.tinyShortSidePx;
  if (a.uniform || b.uniform) {
    // Blank frames hash alike whatever their colour: only the same colour and exposure match.
    const same = a.uniform && b.uniform && colourDistance <= t.colourDistance / 4 && Math.abs(a.brightness - b.brightness) <= 8;
    return { dhashBits: same ? 0 : 64, phashBits: same ? 0 : 64, descriptorCosine: same ? 1 : 0, colourDistance, cropCorrelation: null, embeddingCosine, mirrored: false, tiny };
  }
  const direct = {
    dhashBits: hammingWords(a.words.d[0], a.words.d[1], b.words.d[0], b.words.d[1]),
    phashBits: hammingWords(a.words.p[0], a.words.p[1], b.words.p[0], b.words.p[1]),
    descriptorCosine: dot(a.descriptor, 0, b.descriptor, 0, dim),
  };
  const flipped = {
    dhashBits: hammingWords(a.words.d[0], a.words.d[1], b.words.dm[0], b.words.dm[1]),
    phashBits: hammingWords(a.words.p[0], a.words.p[1], b.words.pm[0], b.words.pm[1]),
    descriptorCosine: dot(a.descriptor, 0, b.mirror, 0, dim),
  };
  const score = (o: typeof direct): number => o.descriptorCosine - (o.phashBits + o.dhashBits) / 128;
  const best = score(flipped) > score(direct) ? { ...flipped, mirrored: true } : { ...direct, mirrored: false };
  const evidence: PairEvidence = { ...best, colourDistance, cropCorrelation: null, embeddingCosine, tiny };
  if (!tiny && !isNearDuplicate(evidence, t) && colourDistance <= t.colourDistance && best.descriptorCosine >= t.cropCandidateCosine) {
    evidence.cropCorrelation = cropTolerantSimilarity(
      { grid: a.grid, descriptor: a.descriptor, mirror: a.mirror, aspect: a.aspect },
      { grid: b.grid, descriptor: b.descriptor, mirror: b.mirror, aspect: b.aspect },
    );
  }
  return evidence;
}

/** Decides whether a pair's evidence makes it a near duplicate. */
export function isNearDuplicate(e: PairEvidence, t: NearDuplicateThresholds = NEAR_DUPLICATE_THRESHOLDS): boolean {
  const sameColours = e.colourDistance <= t.colourDistance;
  const byEmbedding = sameColours && e.embeddingCosine !== null && e.embeddingCosine >= t.embeddingCosine && e.descriptorCosine >= t.embeddingDescriptorCosine;
  if (e.tiny) {
    if (e.phashBits <= t.tinyHashBits && e.dhashBits <= t.tinyHashBits) return true;
    return (sameColours && e.descriptorCosine >= t.tinyDescriptorCosine) || byEmbedding;
  }
  if (e.phashBits <= t.phashBits && e.dhashBits <= t.dhashBits) return true;
  if (sameColours && e.descriptorCosine >= t.descriptorCosine) return true;
  if (sameColours && e.cropCorrelation !== null && e.cropCorrelation >= t.cropCorrelation) return true;
  return byEmbedding;
}

/**
 * The `quantile` of cosine similarity between random pairs of rows (up to 20,000 pairs, fixed
 * seed): how similar unrelated images look to this model.
 */
export function randomPairQuantile(vectors: Float32Array, dim: number, quantile: number): number {
  const n = vectors.length / dim;
  if (n < 2) return -1;
  const next = seededRandom(12345);
  const pairs = Math.min(20_000, (n * (n - 1)) / 2);
  const values = new Float64Array(pairs);
  for (let p = 0; p < pairs; p++) {
    const a = Math.floor(next() * n);
    let b = Math.floor(next() * (n - 1));
    if (b >= a) b++;
    values[p] = dot(vectors, a * dim, vectors, b * dim, dim);
  }
  values.sort();
  return values[Math.min(pairs - 1, Math.floor(quantile * pairs))]!;
}

interface ImageEntry {
  imageId: number;
  files: CatalogFile[];
  features: ImageFeatures | undefined;
  view: FeatureView | null;
}

/**
 * Finds exact and near-duplicate groups among present files. Computes missing pixel features
 * first (cached, incremental). Groups the user dismissed ("keep all", by the one rule:
 * DuplicateGroupsRepository.keptAllCheck) are left out unless includeDismissed. Stable:
 * groups ordered by their keeper's path.
 */
export async function findDuplicateGroups(db: Db, options: FindDuplicatesOptions = {}): Promise<DuplicateGroup[]> {
  const thresholds = { ...NEAR_DUPLICATE_THRESHOLDS, ...options.thresholds };
  const repository = new CurateRepository(db);
  const { features } = await ensureFeatures(db, { dataDir: options.dataDir, signal: options.signal, onProgress: options.onProgress });
  throwIfCancelled(options.signal);

  const byImage = new Map<number, CatalogFile[]>();
  for (const file of repository.presentFiles()) {
    const list = byImage.get(file.imageId);
    if (list) list.push(file);
    else byImage.set(file.imageId, [file]);
  }
  const images: ImageEntry[] = [...byImage.entries()].sort((a, b) => a[0] - b[0]).map(([imageId, files]) => {
    const f = features.get(imageId);
    return { imageId, files, features: f, view: featureView(f, files[0]!.width, files[0]!.height) };
  });
  const indexOfImage = new Map(images.map((entry, i) => [entry.imageId, i]));
  const count = images.length;
  const all = new UnionFind(count);
  const exactOnly = new UnionFind(count);
  const edgeSimilarity = new Map<number, number>(); // root-agnostic: min similarity per final group, filled later
  const edges: Array<{ a: number; b: number; similarity: number }> = [];

  // Descriptors [N, S²] and their mirrors; images without one get a zero row (never similar).
  const side = DESCRIPTOR_SIDE;
  const dim = side * side;
  const descriptors = new Float32Array(count * dim);
  const mirrored = new Float32Array(count * dim);
  images.forEach((entry, i) => {
    const d = entry.features?.descriptor;
    if (d && d.length === dim) {
      descriptors.set(d, i * dim);
      mirrored.set(mirrorGrid(d, side), i * dim);
    }
  });

  // Embeddings, when a trained model has embedded these images.
  let embeddingRows: Int32Array | null = null;
  let embeddingVectors: Float32Array | null = null;
  let embeddingDim = 0;
  if (options.embeddingRunId !== false) {
    const embeddings = new EmbeddingsRepository(db);
    const runId = options.embeddingRunId ?? embeddings.latestRunWithEmbeddings();
    if (runId !== null) {
      const matrix = embeddings.load(runId);
      embeddingDim = matrix.dim;
      embeddingRows = new Int32Array(count).fill(-1);
      embeddingVectors = matrix.vectors;
      matrix.imageIds.forEach((imageId, row) => {
        const i = indexOfImage.get(imageId);
        if (i !== undefined) embeddingRows![i] = row;
      });
      thresholds.embeddingCosine = Math.max(thresholds.embeddingCosine, randomPairQuantile(matrix.vectors, matrix.dim, 0.999));
    }
  }

  const evidence = (a: number, b: number): PairEvidence | null => {
    const va = images[a]!.view;
    const vb = images[b]!.view;
    if (!va || !vb) return null;
    let embeddingCosine: number | null = null;
    if (embeddingRows && embeddingVectors) {
      const ra = embeddingRows[a]!;
      const rb = embeddingRows[b]!;
      if (ra >= 0 && rb >= 0) embeddingCosine = dot(embeddingVectors, ra * embeddingDim, embeddingVectors, rb * embeddingDim, embeddingDim);
    }
    return pairEvidence(va, vb, embeddingCosine, thresholds);
  };

  // 1. Exact: the same content at several paths is one image (handled when building groups);
  //    different files with identical hashes and size may hold identical pixels.
  const byHashes = new Map<string, number[]>();
  images.forEach((entry, i) => {
    const f = entry.features;
    if (!f?.dhash || !f.phash) return;
    const first = entry.files[0]!;
    const key = `${f.dhash}:${f.phash}:${first.width}x${first.height}`;
    const list = byHashes.get(key);
    if (list) list.push(i);
    else byHashes.set(key, [i]);
  });
  for (const list of byHashes.values()) {
    if (list.length < 2) continue;
    const hashes: string[] = [];
    for (const i of list) {
      const entry = images[i]!;
      let hash = entry.features?.pixelHash ?? null;
      if (!hash) {
        try {
          hash = await pixelHash(await decoderInput(entry.files[0]!.path));
          repository.setPixelHash(entry.imageId, hash);
        } catch {
          hash = `unreadable:${entry.imageId}`;
        }
      }
      hashes.push(hash);
    }
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        if (hashes[x] === hashes[y]) {
          all.union(list[x]!, list[y]!);
          exactOnly.union(list[x]!, list[y]!);
          edges.push({ a: list[x]!, b: list[y]!, similarity: 1 });
        }
      }
    }
  }
  throwIfCancelled(options.signal);

  // 2. Near: candidates from neighbours in descriptor space (direct and mirrored) and embeddings.
  const k = Math.min(options.neighbours ?? 8, Math.max(1, count - 1));
  const candidates = new Set<number>(); // a * count + b with a < b
  const addCandidates = (indices: Int32Array, rowToImage: (row: number) => number, baseToImage: (row: number) => number): void => {
    for (let row = 0; row < indices.length / k; row++) {
      const a = rowToImage(row);
      for (let j = 0; j < k; j++) {
        const neighbour = indices[row * k + j]!;
        if (neighbour < 0) continue;
        const b = baseToImage(neighbour);
        if (a === b || b < 0 || a < 0) continue;
        candidates.add(a < b ? a * count + b : b * count + a);
      }
    }
  };
  if (count > 1) {
    const identity = (row: number): number => row;
    const direct = await findNeighbours(descriptors, descriptors, dim, k, { excludeSelf: true, mode: options.neighbourMode, signal: options.signal, onProgress: options.onProgress, phase: 'curate:neighbours' });
    addCandidates(direct.indices, identity, identity);
    const flips = await findNeighbours(mirrored, descriptors, dim, k, { excludeSelf: true, mode: options.neighbourMode, signal: options.signal, onProgress: options.onProgress, phase: 'curate:neighbours-mirrored' });
    addCandidates(flips.indices, identity, identity);
    // Crops: each image's descriptor against descriptors of windows of the others.
    const windowCount = CANDIDATE_WINDOWS.length;
    const windows = new Float32Array(count * windowCount * dim);
    images.forEach((entry, i) => {
      const grid = entry.view && !entry.view.uniform ? entry.view.grid : null;
      if (!grid) return;
      CANDIDATE_WINDOWS.forEach(([x0, y0, w, h], wi) => windows.set(windowDescriptor(grid, x0, y0, w, h), (i * windowCount + wi) * dim));
    });
    for (const queries of [descriptors, mirrored]) {
      const crops = await findNeighbours(queries, windows, dim, k, { mode: options.neighbourMode, signal: options.signal, onProgress: options.onProgress, phase: 'curate:neighbours-crops' });
      addCandidates(crops.indices, identity, (row) => Math.floor(row / windowCount));
    }
    if (embeddingRows && embeddingVectors) {
      const embedded = new Int32Array(count);
      let rows = 0;
      for (let i = 0; i < count; i++) if (embeddingRows[i]! >= 0) embedded[rows++] = i;
      const packed = new Float32Array(rows * embeddingDim);
      for (let r = 0; r < rows; r++) {
        const source = embeddingRows[embedded[r]!]!;
        packed.set(embeddingVectors.subarray(source * embeddingDim, (source + 1) * embeddingDim), r * embeddingDim);
      }
      if (rows > 1) {
        const kEmbedding = Math.min(k, rows - 1);
        const result = await findNeighbours(packed, packed, embeddingDim, kEmbedding, { excludeSelf: true, mode: options.neighbourMode, signal: options.signal, onProgress: options.onProgress, phase: 'curate:neighbours-embeddings' });
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < kEmbedding; j++) {
            const neighbour = result.indices[r * kEmbedding + j]!;
            if (neighbour < 0) continue;
            const a = embedded[r]!;
            const b = embedded[neighbour]!;
            if (a !== b) candidates.add(a < b ? a * count + b : b * count + a);
          }
        }
      }
    }
  }
  // Blank frames have no descriptor to search by: compare them with each other directly.
  const blanks = images.flatMap((entry, i) => (entry.view?.uniform ? [i] : []));
  if (blanks.length <= 2000) {
    for (let x = 0; x < blanks.length; x++) {
      for (let y = x + 1; y < blanks.length; y++) candidates.add(blanks[x]! * count + blanks[y]!);
    }
  }
  let checked = 0;
  for (const key of candidates) {
    if (++checked % 2000 === 0) {
      throwIfCancelled(options.signal);
      options.onProgress?.({ phase: 'curate:compare', done: checked, total: candidates.size });
    }
    const a = Math.floor(key / count);
    const b = key % count;
    if (exactOnly.find(a) === exactOnly.find(b)) continue;
    const e = evidence(a, b);
    if (!e || !isNearDuplicate(e, thresholds)) continue;
    all.union(a, b);
    edges.push({ a, b, similarity: Math.max(e.descriptorCosine, e.cropCorrelation ?? -1, e.embeddingCosine ?? -1) });
  }
  const grouped = splitChains(all, exactOnly, edges, count, (a, b) => {
    const e = evidence(a, b);
    return e !== null && isNearDuplicate(e, thresholds);
  });
  edgeSimilarity.clear();
  for (const edge of edges) {
    const root = grouped.find(edge.a);
    if (root !== grouped.find(edge.b)) continue;
    edgeSimilarity.set(root, Math.min(edgeSimilarity.get(root) ?? 1, edge.similarity));
  }

  // 3. Groups: components with ≥ 2 images, plus single images at several paths.
  const keptAll = options.includeDismissed ? () => false : new DuplicateGroupsRepository(db).keptAllCheck();
  const groups: DuplicateGroup[] = [];
  const components = grouped.groups(1);
  for (const component of components) {
    const files = component.flatMap((i) => images[i]!.files);
    if (files.length < 2) continue;
    const root = grouped.find(component[0]!);
    const exact = component.every((i) => exactOnly.find(i) === exactOnly.find(component[0]!));
    if (keptAll(files.map((f) => f.path))) continue;
    const { keep, why } = chooseKeeper(files);
    const members = [keep.path, ...files.map((f) => f.path).filter((p) => p !== keep.path).sort()];
    const similarity = exact ? 1 : Math.round((edgeSimilarity.get(root) ?? 1) * 1e4) / 1e4;
    groups.push({
      kind: exact ? 'exact' : 'near',
      keep: keep.path,
      members,
      imageIds: component.map((i) => images[i]!.imageId).sort((x, y) => x - y),
      keepImageId: keep.imageId,
      similarity,
      why,
    });
  }
  groups.sort((x, y) => (x.keep < y.keep ? -1 : x.keep > y.keep ? 1 : 0));
  return groups;
}

/** Components up to this size are split by checking every member against its leader directly. */
const CHAIN_CHECK_MAX_COMPONENT = 400;

/**
 * Near-duplicate links are not transitive: A~B and B~C do not make A~C. Look-alike photos (a
 * burst of product shots, tiny images of one kind) can chain into one large "group" of different
 * photos, and a user would trash real photos on its advice. So each component of the link graph
 * is split around leaders: the member with most links leads and keeps the members that are
 * near duplicates of it directly (or pixel-identical to one of those); the rest repeat. A photo
 * and its edits (resize, crop, re-encode, flip) all match the original, so real groups stay whole.
 * Returns the final grouping as a new UnionFind over the same indices.
 */
export function splitChains(
  linked: UnionFind,
  exact: UnionFind,
  edges: ReadonlyArray<{ a: number; b: number }>,
  count: number,
  isDuplicate: (a: number, b: number) => boolean,
): UnionFind {
  const result = new UnionFind(count);
  const neighbours = new Map<number, Set<number>>();
  const link = (a: number, b: number): void => {
    const list = neighbours.get(a);
    if (list) list.add(b);
    else neighbours.set(a, new Set([b]));
  };
  for (const { a, b } of edges) {
    link(a, b);
    link(b, a);
  }
  for (const component of linked.groups(2)) {
    if (component.length === 2) {
      result.union(component[0]!, component[1]!);
      continue;
    }
    const remaining = new Set(component);
    while (remaining.size > 0) {
      let leader = -1;
      let leaderDegree = -1;
      for (const i of remaining) {
        let degree = 0;
        for (const j of neighbours.get(i) ?? []) if (remaining.has(j)) degree += 1;
        if (degree > leaderDegree) {
          leader = i;
          leaderDegree = degree;
        }
      }
      remaining.delete(leader);
      const direct = neighbours.get(leader) ?? new Set<number>();
      const checkAll = component.length <= CHAIN_CHECK_MAX_COMPONENT;
      for (const i of [...remaining]) {
        const sameContent = exact.find(i) === exact.find(leader);
        if (sameContent || direct.has(i) || (checkAll && isDuplicate(leader, i))) {
          result.union(leader, i);
          remaining.delete(i);
        }
      }
    }
  }
  return result;
}
