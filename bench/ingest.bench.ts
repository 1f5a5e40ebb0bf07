/**
 * bench:ingest — images/s of a full ingest of a folder of ~12-megapixel JPEGs, next to the
 * limit: sharp alone decoding + thumbnailing the same files with the same parallelism.
 * Prints JSON lines (one per measurement, then the ratio). Target: ingest ≥ 85 % of the limit.
 *
 *   npm run bench:ingest [-- --files 40 --repeats 3 --concurrency 3 --variants no]
 *
 * The JPEGs are generated once (smooth shapes + fine grain, 4000×3000, EXIF like a camera's)
 * and cached in the OS temp folder. Each ingest starts from an empty library; the files are
 * read once beforehand so both sides run from the page cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { THUMBNAIL_SIZE_PX } from '../core/library/analyse-image.ts';
import { ingestFolders } from '../core/library/ingest.service.ts';
import { openLibrary } from '../core/store/db.ts';
import { renderPixels } from '../test/helpers/images.ts';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '40' },
    repeats: { type: 'string', default: '3' },
    concurrency: { type: 'string' },
    width: { type: 'string', default: '4000' },
    height: { type: 'string', default: '3000' },
    variants: { type: 'string', default: 'yes' },
  },
});
const fileCount = Number(values.files);
const repeats = Number(values.repeats);
const width = Number(values.width);
const height = Number(values.height);
const concurrency = values.concurrency ? Number(values.concurrency) : Math.max(2, os.availableParallelism() + 1);

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'ingest', ...record })}\n`);
}

/** A photo-like JPEG: smooth shapes upscaled, with fine gaussian grain, quality 90. */
async function photoLikeJpeg(seed: number): Promise<Buffer> {
  const smallWidth = Math.round(width / 10);
  const smallHeight = Math.round(height / 10);
  const base = await sharp(renderPixels({ width: smallWidth, height: smallHeight, pattern: 'shapes', seed }), { raw: { width: smallWidth, height: smallHeight, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .png({ compressionLevel: 0 })
    .toBuffer();
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 18 } } }).png({ compressionLevel: 0 }).toBuffer();
  return sharp(base)
    .composite([{ input: grain, blend: 'soft-light' }])
    .jpeg({ quality: 90 })
    .withExifMerge({ IFD0: { Make: 'Looktwice', Model: 'Bench 12MP' }, IFD2: { DateTimeOriginal: `2024:06:${String(1 + (seed % 28)).padStart(2, '0')} 10:00:00` } })
    .toBuffer();
}

async function ensureFiles(): Promise<string> {
  const dir = path.join(os.tmpdir(), `looktwice-bench-ingest-${width}x${height}-v1`);
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < fileCount; i++) {
    const file = path.join(dir, `photo-${String(i).padStart(3, '0')}.jpg`);
    if (fs.existsSync(file)) continue;
    const temp = `${file}.partial`;
    fs.writeFileSync(temp, await photoLikeJpeg(i + 1));
    fs.renameSync(temp, file);
  }
  return dir;
}

/** Runs `task` over `items` with `parallel` in flight; returns elapsed seconds. */
async function timed<T>(items: readonly T[], parallel: number, task: (item: T) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
  return (performance.now() - started) / 1000;
}

interface Measured {
  imagesPerS: number;
  /** CPU time of the whole process (all threads) per image: robust when others share the CPU. */
  cpuMsPerImage: number;
}

async function measure(images: number, run: () => Promise<unknown>): Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { imagesPerS: +(images / seconds).toFixed(2), cpuMsPerImage: +((cpu.user + cpu.system) / 1000 / images).toFixed(1) };
}

/** The limit: sharp decode + thumbnail of each file alone (same size and encoder settings). */
function limitRun(files: readonly string[]): Promise<Measured> {
  return measure(files.length, () => timed(files, concurrency, (file) =>
    sharp(file, { autoOrient: true }).resize(THUMBNAIL_SIZE_PX, THUMBNAIL_SIZE_PX, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80, effort: 2 }).toBuffer()));
}

/**
 * The alternative design: a pool of worker threads, each reading, hashing and analysing whole
 * files (what ingest's main thread hands to libuv's pool instead). Processing only, no DB.
 */
async function workerPoolRun(files: readonly string[], workers: number): Promise<Measured> {
  // A plain ESM bootstrap that registers tsx, so the worker can import the TypeScript engine.
  const url = (file: string): string => JSON.stringify(pathToFileURL(path.resolve(file)).href);
  const bootstrap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-bench-worker-')), 'worker.mjs');
  fs.writeFileSync(bootstrap, `
    import { parentPort } from 'node:worker_threads';
    import fs from 'node:fs';
    import { register } from ${url('node_modules/tsx/dist/esm/api/index.mjs')};
    register();
    const { analyseImage } = await import(${url('core/library/analyse-image.ts')});
    const { readAndHash } = await import(${url('core/library/read-file.ts')});
    parentPort.on('message', async (file) => {
      const stat = fs.statSync(file);
      const content = await readAndHash(file, { size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs) });
      await analyseImage(file, { head: content.head });
      parentPort.postMessage('done');
    });
    parentPort.postMessage('ready');`);
  const pool = await Promise.all(Array.from({ length: workers }, () => new Promise<Worker>((resolve) => {
    const worker = new Worker(bootstrap);
    worker.once('message', () => resolve(worker));
  })));
  const measured = await measure(files.length, () => timed(files, workers, (file) => new Promise((resolve) => {
    const worker = pool.pop()!;
    worker.once('message', () => {
      pool.push(worker);
      resolve(undefined);
    });
    worker.postMessage(file);
  })));
  await Promise.all(pool.map((worker) => worker.terminate()));
  return measured;
}

async function ingestRun(dir: string, fileTotal: number, parallel = concurrency): Promise<Measured> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-bench-lib-'));
  const library = openLibrary(path.join(scratch, 'library.db'));
  try {
    return await measure(fileTotal, async () => {
      const report = await ingestFolders(library, [dir], { concurrency: parallel });
      if (report.added !== fileTotal || report.failed.length > 0) throw new Error(`bench ingest went wrong: ${JSON.stringify(report)}`);
    });
  } finally {
    library.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const dir = await ensureFiles();
const files = fs.readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort().slice(0, fileCount).map((n) => path.join(dir, n));
const bytes = files.reduce((sum, file) => sum + fs.readFileSync(file).length, 0); // also warms the page cache
emit({ what: 'setup', files: files.length, megapixels: (width * height) / 1e6, meanFileMB: +(bytes / files.length / 1e6).toFixed(2), concurrency, cpus: os.availableParallelism(), libvipsThreadsPerImage: sharp.concurrency(), uvThreadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4), loadAverage1m: +os.loadavg()[0]!.toFixed(2) });
await limitRun(files.slice(0, 4)); // warm-up

const limits: Measured[] = [];
const ingests: Measured[] = [];
for (let r = 0; r < repeats; r++) {
  const limit = await limitRun(files);
  limits.push(limit);
  emit({ what: 'limit', run: r + 1, ...limit });
  const ingest = await ingestRun(dir, files.length);
  ingests.push(ingest);
  emit({ what: 'ingest', run: r + 1, ...ingest });
}
const bestRate = (xs: Measured[]): number => Math.max(...xs.map((x) => x.imagesPerS));
const bestCpu = (xs: Measured[]): number => Math.min(...xs.map((x) => x.cpuMsPerImage));
if (values.variants !== 'no') {
  // Which way of using the cores is fastest: one file at a time (libvips 1 thread), one file
  // at a time with libvips using every core, files in flight on libuv's pool (the default), or a
  // pool of worker threads each doing whole files.
  emit({ what: 'variant', variant: 'ingest, 1 file in flight', ...(await ingestRun(dir, files.length, 1)) });
  const threads = sharp.concurrency();
  sharp.concurrency(os.availableParallelism());
  emit({ what: 'variant', variant: `ingest, 1 file in flight, libvips ${sharp.concurrency()} threads per image`, ...(await ingestRun(dir, files.length, 1)) });
  sharp.concurrency(threads);
  emit({ what: 'variant', variant: `ingest, ${concurrency} files in flight (default)`, ...(await ingestRun(dir, files.length)) });
  const workers = os.availableParallelism();
  emit({ what: 'variant', variant: `${workers} worker threads, read+hash+analyse only (no DB)`, ...(await workerPoolRun(files, workers)) });
}
emit({
  what: 'ratio',
  limitImagesPerS: bestRate(limits),
  ingestImagesPerS: bestRate(ingests),
  ratio: +(bestRate(ingests) / bestRate(limits)).toFixed(3),
  limitCpuMsPerImage: bestCpu(limits),
  ingestCpuMsPerImage: bestCpu(ingests),
  cpuRatio: +(bestCpu(limits) / bestCpu(ingests)).toFixed(3),
  target: 0.85,
  note: 'best of repeats on each side; cpuRatio (limit CPU per image / ingest CPU per image) is what the throughput ratio tends to on an idle machine',
  loadAverage1m: +os.loadavg()[0]!.toFixed(2),
});
