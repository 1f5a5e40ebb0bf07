/**
 * Near-duplicate quality of `dedup` on real photos with known answers.
 *
 * Builds a test set from the photos of Debian wallpaper packages (install them first:
 *   apt-get install -y ukui-wallpapers mate-backgrounds lomiri-wallpapers-20.04 lomiri-wallpapers-16.04)
 * Each source photo becomes an "original" (≤ 1024 px JPEG q90) plus realistic edits: re-encode at
 * q50, 50 % resize, 80 % centre crop, 85 % corner crop, +30 % brightness, left-right flip, WebP,
 * 2° rotation. Ground truth: all copies of one source form one group. Reports pairwise precision
 * and recall (a pair is predicted when both images land in one group) for Looktwice's dedup
 * (hashes only; with embeddings when --embeddings-from DB is given) and for a dHash-only baseline.
 * With --calibrate it also prints the distance/similarity distributions used to set thresholds.
 *
 *   npm run bench:dedup-quality [-- --calibrate] [--out DIR] [--db PATH] [--approximate] [--explain]
 * With --db the library is kept: train and embed on it, rerun, and a second line reports
 * dedup with embeddings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import sharp, { type Sharp } from 'sharp';
import { openLibrary } from '../core/store/db.ts';
import { EmbeddingsRepository } from '../core/store/embeddings.repository.ts';
import { ingestFolders } from '../core/library/ingest.service.ts';
import { NEAR_DUPLICATE_THRESHOLDS, featureView, findDuplicateGroups, isNearDuplicate, pairEvidence, type PairEvidence } from '../core/curate/duplicates.ts';
import { ensureFeatures } from '../core/curate/features.service.ts';
import { hammingDistance as hamming } from '../core/library/perceptual-hash.ts';
import { UnionFind } from '../core/curate/union-find.ts';

const PACKAGES = ['ukui-wallpapers', 'mate-backgrounds', 'lomiri-wallpapers-20.04', 'lomiri-wallpapers-16.04'];
/** Sources that are themselves copies or colour variants of another source (would poison the truth). */
const EXCLUDED = [/^Elephants_\d+x\d+/, /^Ubuntu-Mate-(Cold|Dark|Radioactive)-no-logo/, /^MATE-Stripes-(Dark|Light)/];

const args = process.argv.slice(2);
const calibrate = args.includes('--calibrate');
const outIndex = args.indexOf('--out');
const outDir = path.resolve(outIndex >= 0 ? args[outIndex + 1]! : path.join(os.tmpdir(), 'looktwice-dedup-quality'));

function sourcePhotos(): string[] {
  const files: string[] = [];
  for (const name of PACKAGES) {
    let listing = '';
    try {
      listing = execFileSync('dpkg', ['-L', name], { encoding: 'utf8' });
    } catch {
      process.stderr.write(`package ${name} is not installed (apt-get install -y ${name}); skipping it\n`);
      continue;
    }
    for (const line of listing.split('\n')) {
      if (/\.(jpe?g|png)$/i.test(line) && fs.existsSync(line) && !EXCLUDED.some((re) => re.test(path.basename(line)))) files.push(line);
    }
  }
  return [...new Set(files)].sort();
}

type Edit = { suffix: string; make: (original: Sharp, width: number, height: number) => Sharp };
const EDITS: Edit[] = [
  { suffix: 'q50.jpg', make: (s) => s.jpeg({ quality: 50 }) },
  { suffix: 'small.jpg', make: (s, w) => s.resize(Math.round(w / 2)).jpeg({ quality: 85 }) },
  { suffix: 'crop.jpg', make: (s, w, h) => s.extract({ left: Math.round(w * 0.1), top: Math.round(h * 0.1), width: Math.round(w * 0.8), height: Math.round(h * 0.8) }).jpeg({ quality: 90 }) },
  { suffix: 'corner.jpg', make: (s, w, h) => s.extract({ left: 0, top: 0, width: Math.round(w * 0.85), height: Math.round(h * 0.85) }).jpeg({ quality: 90 }) },
  { suffix: 'bright.jpg', make: (s) => s.modulate({ brightness: 1.3 }).jpeg({ quality: 90 }) },
  { suffix: 'flip.jpg', make: (s) => s.flop().jpeg({ quality: 90 }) },
  { suffix: 'webp.webp', make: (s) => s.webp({ quality: 80 }) },
  { suffix: 'rot.jpg', make: (s, w, h) => s.rotate(2, { background: '#000' }).resize(w, h, { fit: 'cover' }).jpeg({ quality: 90 }) },
];

async function buildSet(): Promise<Array<{ path: string; group: number }>> {
  const photosDir = path.join(outDir, 'photos');
  fs.mkdirSync(photosDir, { recursive: true });
  const out: Array<{ path: string; group: number }> = [];
  const sources = sourcePhotos();
  for (const [group, source] of sources.entries()) {
    const stem = path.basename(source).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]/g, '_');
    const originalPath = path.join(photosDir, `${stem}.jpg`);
    if (!fs.existsSync(originalPath)) {
      await sharp(source).rotate().flatten({ background: '#fff' }).resize(1024, 1024, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 90 }).toFile(originalPath);
    }
    // Transparent-background artwork flattens to a near-blank page: not a photo, skip it.
    const stats = await sharp(originalPath).greyscale().stats();
    if ((stats.channels[0]?.stdev ?? 0) < 12) {
      process.stderr.write(`skipping ${path.basename(source)}: nearly uniform after flattening\n`);
      continue;
    }
    out.push({ path: originalPath, group });
    const { width = 0, height = 0 } = await sharp(originalPath).metadata();
    for (const edit of EDITS) {
      const editPath = path.join(photosDir, `${stem}-${edit.suffix}`);
      if (!fs.existsSync(editPath)) await edit.make(sharp(originalPath), width, height).toFile(editPath);
      out.push({ path: editPath, group });
    }
  }
  return out;
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`;
}

function score(predicted: Set<string>, truth: Set<string>): { precision: number; recall: number; truePairs: number; predictedPairs: number } {
  let hits = 0;
  for (const pair of predicted) if (truth.has(pair)) hits++;
  return {
    precision: predicted.size ? hits / predicted.size : 1,
    recall: truth.size ? hits / truth.size : 1,
    truePairs: truth.size,
    predictedPairs: predicted.size,
  };
}

function pairsOfGroups(groups: string[][]): Set<string> {
  const pairs = new Set<string>();
  for (const group of groups) for (let i = 0; i < group.length; i++) for (let j = i + 1; j < group.length; j++) pairs.add(pairKey(group[i]!, group[j]!));
  return pairs;
}

const startedMs = performance.now();
const set = await buildSet();
// Anything in the folder that is not part of this set (an older run's files) goes away first.
const wanted = new Set(set.map((item) => item.path));
for (const name of fs.readdirSync(path.join(outDir, 'photos'))) {
  const file = path.join(outDir, 'photos', name);
  if (!wanted.has(file)) fs.rmSync(file);
}
// --db PATH keeps (and reuses) the library, so train + embed can run on it between two runs.
const dbIndex = args.indexOf('--db');
const keepDb = dbIndex >= 0;
const dbPath = keepDb ? path.resolve(args[dbIndex + 1]!) : path.join(outDir, `bench-${process.pid}.db`);
const library = openLibrary(dbPath);
const ingestStartedMs = performance.now();
const ingest = await ingestFolders(library, [path.join(outDir, 'photos')]); // real ingest: thumbnails, hashes
if (ingest.failed.length) process.stderr.write(`ingest failed for ${ingest.failed.length} file(s)\n`);
const ingestSeconds = (performance.now() - ingestStartedMs) / 1000;
const truthGroups = new Map<number, string[]>();
for (const item of set) truthGroups.set(item.group, [...(truthGroups.get(item.group) ?? []), item.path]);
const truth = pairsOfGroups([...truthGroups.values()]);

const dedupStartedMs = performance.now();
// --approximate: candidates from IVF instead of exact search, as libraries above ~14k images get.
const neighbourMode = args.includes('--approximate') ? 'approximate' as const : 'auto' as const;
const groups = await findDuplicateGroups(library.db, { dataDir: library.dataDir, embeddingRunId: false, neighbourMode });
const dedup = score(pairsOfGroups(groups.map((g) => g.members)), truth);
console.log(JSON.stringify({
  bench: 'dedup-quality', method: 'looktwice-hashes', neighbourMode, images: set.length, sources: truthGroups.size, ...dedup,
  ingestSeconds, dedupSeconds: (performance.now() - dedupStartedMs) / 1000, totalSeconds: (performance.now() - startedMs) / 1000,
}));
if (args.includes('--explain')) {
  // Which copies ended up apart from their original's group.
  const groupOfMember = new Map<string, number>();
  groups.forEach((g, i) => g.members.forEach((m) => groupOfMember.set(m, i)));
  for (const members of truthGroups.values()) {
    const original = members[0]!;
    const apart = members.filter((m) => groupOfMember.get(m) === undefined || groupOfMember.get(m) !== groupOfMember.get(original));
    if (apart.length) process.stderr.write(`apart from ${path.basename(original)}: ${apart.map((m) => path.basename(m)).join(' ')}\n`);
  }
}
const embeddingRun = new EmbeddingsRepository(library.db).latestRunWithEmbeddings();
if (embeddingRun !== null) {
  const withEmbeddings = await findDuplicateGroups(library.db, { dataDir: library.dataDir, embeddingRunId: embeddingRun });
  console.log(JSON.stringify({ bench: 'dedup-quality', method: 'looktwice-hashes+embeddings', run: embeddingRun, images: set.length, ...score(pairsOfGroups(withEmbeddings.map((g) => g.members)), truth) }));
}

// Baseline: dHash alone, union-find over pairs within a Hamming threshold.
const { features } = await ensureFeatures(library.db);
const rows = library.db.prepare("SELECT f.path, f.image_id AS imageId FROM files f WHERE f.status = 'present' ORDER BY f.path").all() as Array<{ path: string; imageId: number }>;
for (const bits of [6, 10]) {
  const unionFind = new UnionFind(rows.length);
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const a = features.get(rows[i]!.imageId)?.dhash;
      const b = features.get(rows[j]!.imageId)?.dhash;
      if (a && b && hamming(a, b) <= bits) unionFind.union(i, j);
    }
  }
  const baseline = score(pairsOfGroups(unionFind.groups().map((g) => g.map((i) => rows[i]!.path))), truth);
  console.log(JSON.stringify({ bench: 'dedup-quality', method: `dhash-only<=${bits}`, images: set.length, ...baseline }));
}

if (calibrate) {
  // Distributions over every pair: positives (same source) and negatives, per signal.
  const groupOf = new Map(set.map((item) => [item.path, item.group]));
  const dims = library.db.prepare('SELECT f.path, i.width, i.height FROM files f JOIN images i ON i.id = f.image_id').all() as Array<{ path: string; width: number; height: number }>;
  const sizeOf = new Map(dims.map((d) => [d.path, d]));
  const views = rows.map((row) => featureView(features.get(row.imageId), sizeOf.get(row.path)!.width, sizeOf.get(row.path)!.height));
  const positives: PairEvidence[] = [];
  const negatives: PairEvidence[] = [];
  const labels: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const va = views[i];
      const vb = views[j];
      if (!va || !vb) continue;
      // Force the crop check on every pair above the candidate floor, to see its distribution.
      const e = pairEvidence(va, vb, null, { ...NEAR_DUPLICATE_THRESHOLDS, phashBits: -1, descriptorCosine: 2, colourDistance: 9 });
      if (groupOf.get(rows[i]!.path) === groupOf.get(rows[j]!.path)) {
        positives.push(e);
        if (!isNearDuplicate(e)) labels.push(`missed ${path.basename(rows[i]!.path)} ~ ${path.basename(rows[j]!.path)} ${JSON.stringify(e)}`);
      } else {
        negatives.push(e);
        if (isNearDuplicate(e)) labels.push(`false ${path.basename(rows[i]!.path)} ~ ${path.basename(rows[j]!.path)} ${JSON.stringify(e)}`);
      }
    }
  }
  const quantiles = (values: number[], qs: number[]): number[] => {
    const sorted = [...values].sort((a, b) => a - b);
    return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  };
  const qs = [0, 0.001, 0.01, 0.05, 0.5, 0.95, 0.99, 1];
  for (const [name, list] of [['positives', positives], ['negatives', negatives]] as const) {
    console.log(JSON.stringify({
      bench: 'dedup-calibration', pairs: name, count: list.length, quantiles: qs,
      phashBits: quantiles(list.map((e) => e.phashBits), qs),
      dhashBits: quantiles(list.map((e) => e.dhashBits), qs),
      descriptorCosine: quantiles(list.map((e) => e.descriptorCosine), qs),
      colourDistance: quantiles(list.map((e) => e.colourDistance), qs),
      cropCorrelation: quantiles(list.filter((e) => e.cropCorrelation !== null).map((e) => e.cropCorrelation!), qs),
      cropChecked: list.filter((e) => e.cropCorrelation !== null).length,
    }));
  }
  const falseFirst = [...labels.filter((l) => l.startsWith('false')), ...labels.filter((l) => l.startsWith('missed'))];
  for (const line of falseFirst.slice(0, 60)) process.stderr.write(`${line}\n`);
  const groupOfPath = new Map(set.map((item) => [item.path, item.group]));
  for (const g of groups) {
    const sources = new Set(g.members.map((m) => groupOfPath.get(m)));
    if (sources.size > 1) process.stderr.write(`mixed group: ${g.members.map((m) => path.basename(m)).join(' ')}\n`);
  }
}
library.close();
if (keepDb) {
  process.stderr.write(`library kept at ${dbPath}; for the embeddings line: looktwice train --db ${dbPath} && looktwice embed --db ${dbPath}, then rerun\n`);
} else {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${dbPath}${suffix}`, { force: true });
  fs.rmSync(path.join(path.dirname(dbPath), `${path.basename(dbPath, '.db')}-files`), { recursive: true, force: true });
}
