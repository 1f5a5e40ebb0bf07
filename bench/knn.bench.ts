/**
 * All-pairs top-10 neighbours over L2-normalised 128-d vectors, as curation runs it.
 *   npm run bench:knn [-- --n 100000 --threads 2 --skip-usearch]
 * Prints JSON lines:
 * - exact-js: the blocked exact kernel (knn.ts) on worker threads, measured at --exact-n
 *   (default 20k) and extrapolated to n and 1M (cost grows with N²);
 * - ivf-js: the inverted-file search (ivf.ts) at n, on "clustered" vectors (a mixture of 1,000
 *   Gaussian clusters — embedding-like) and on "random" ones (i.i.d. Gaussian, the worst case
 *   for any approximate method), with recall@10 against exact search on 1,000 sampled queries;
 *   1M extrapolated (cost ∝ N^1.5 at a fixed number of probes with √N lists);
 * - usearch-hnsw: usearch 2.25.3 HNSW on the same data at --usearch-n (default 20k), for comparison.
 * Also prints wall and CPU seconds and the machine's load average: on a shared machine wall
 * time overstates the cost; CPU seconds / threads is the uncontended estimate.
 */
import os from 'node:os';
import usearch from 'usearch';
import { knnSearch } from '../core/curate/knn.ts';
import { normaliseRows } from '../core/common/vectors.ts';
import { findNeighbours } from '../core/curate/neighbours.ts';
import { ivfParameters, ivfSearch } from '../core/curate/ivf.ts';
import { seededRandom } from '../core/common/random.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const n = option('n', 100_000);
const exactN = option('exact-n', 20_000);
const usearchN = option('usearch-n', 20_000);
const threads = option('threads', 2);
const dim = 128;
const k = 10;
const recallQueries = 1000;

function dataset(kind: 'clustered' | 'random', count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const vectors = new Float32Array(count * dim);
  if (kind === 'random') {
    for (let i = 0; i < vectors.length; i++) vectors[i] = gauss();
  } else {
    const clusters = 1000;
    const centres = new Float32Array(clusters * dim);
    for (let i = 0; i < centres.length; i++) centres[i] = gauss();
    for (let i = 0; i < count; i++) {
      const c = Math.floor(random() * clusters);
      for (let d = 0; d < dim; d++) vectors[i * dim + d] = centres[c * dim + d]! + 0.6 * gauss();
    }
  }
  return normaliseRows(vectors, dim);
}

async function timed<T>(run: () => Promise<T> | T): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await run();
  const used = process.cpuUsage(cpu);
  return { value, seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** Recall@k of `found` rows against exact search for the first `queries` rows. */
function recall(vectors: Float32Array, found: { indices: Int32Array | BigUint64Array }, stride: number, queries: number, skipSelf: boolean): number {
  const exact = knnSearch(vectors, vectors, dim, k, { excludeSelf: true, queryEnd: queries });
  let hits = 0;
  for (let q = 0; q < queries; q++) {
    const truth = new Set(Array.from(exact.indices.subarray(q * k, (q + 1) * k)));
    const row = Array.from(found.indices.subarray(q * stride, (q + 1) * stride), Number).filter((i) => !(skipSelf && i === q)).slice(0, k);
    for (const i of row) if (truth.has(i)) hits++;
  }
  return hits / (queries * k);
}

const common = { dim, k, threads, cores: os.cpus().length, loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100 };
const print = (line: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'knn', ...common, ...line }));

// Exact, measured at exactN and extrapolated.
{
  const vectors = dataset('random', exactN, 1);
  const run = await timed(() => findNeighbours(vectors, vectors, dim, k, { excludeSelf: true, threads, mode: 'exact' }));
  const macs = exactN * exactN * dim;
  print({ method: 'exact-js', n: exactN, seconds: run.seconds, cpuSeconds: run.cpuSeconds, gmacPerCpuSecond: macs / run.cpuSeconds / 1e9 });
  for (const target of [n, 1_000_000]) {
    const scale = (target / exactN) ** 2;
    print({ method: 'exact-js', n: target, extrapolated: true, seconds: run.seconds * scale, uncontendedSeconds: (run.cpuSeconds * scale) / threads });
  }
}

// IVF at n, on both kinds of data.
for (const kind of ['clustered', 'random'] as const) {
  const vectors = dataset(kind, n, 2);
  const run = await timed(() => ivfSearch(vectors, vectors, dim, k, { excludeSelf: true, threads }));
  const { lists, probes } = ivfParameters(n);
  const r = recall(vectors, run.value, k, Math.min(recallQueries, n), false);
  print({ method: 'ivf-js', data: kind, n, lists, probes, seconds: run.seconds, cpuSeconds: run.cpuSeconds, uncontendedSeconds: run.cpuSeconds / threads, recallAt10: r });
  const scale = (1_000_000 / n) ** 1.5;
  print({ method: 'ivf-js', data: kind, n: 1_000_000, extrapolated: true, note: 'fixed probes with √N lists; recall at 1M not measured', seconds: run.seconds * scale, uncontendedSeconds: (run.cpuSeconds * scale) / threads });
}

// usearch HNSW for comparison.
if (!args.includes('--skip-usearch')) {
  for (const kind of ['clustered', 'random'] as const) {
    const vectors = dataset(kind, usearchN, 2);
    const index = new usearch.Index({ dimensions: dim, metric: 'ip' as never, quantization: 'f32' as never, connectivity: 16, expansion_add: 128, expansion_search: 64, multi: false });
    const keys = new BigUint64Array(usearchN);
    for (let i = 0; i < usearchN; i++) keys[i] = BigInt(i);
    const build = await timed(() => index.add(keys, vectors, threads));
    const search = await timed(() => index.search(vectors, k + 1, threads) as unknown as { keys: BigUint64Array });
    const r = recall(vectors, { indices: search.value.keys }, k + 1, Math.min(recallQueries, usearchN), true);
    print({ method: 'usearch-hnsw', data: kind, n: usearchN, connectivity: 16, expansionAdd: 128, expansionSearch: 64, buildSeconds: build.seconds, searchSeconds: search.seconds, seconds: build.seconds + search.seconds, recallAt10: r });
  }
}
