/**
 * bench:ingest — images/s of a full ingest of a folder of ~12-megapixel JPEGs, next to the
 * limit: sharp alone decoding + thumbnailing the same files with the same parallelism.
 * Prints JSON lines (one per measurement, then the ratio). Target: ingest ≥ 85 % of the limit.
 *
 *   npm run bench:ingest [-- --files 40 --repeats 3 --concurrency 3]
 *
 * The JPEGs are generated once (smooth shapes + fine grain, 4000×3000, EXIF like a camera's)
 * and cached in the OS temp folder. Each ingest starts from an empty library; the files are
 * read once beforehand so both sides run from the page cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
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

/** The limit: sharp decode + thumbnail of each file alone (same size and encoder settings). */
async function limitRun(files: readonly string[]): Promise<number> {
  const seconds = await timed(files, concurrency, (file) =>
    sharp(file, { autoOrient: true }).resize(THUMBNAIL_SIZE_PX, THUMBNAIL_SIZE_PX, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80, effort: 2 }).toBuffer());
  return files.length / seconds;
}

async function ingestRun(dir: string, fileTotal: number): Promise<number> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-bench-lib-'));
  const library = openLibrary(path.join(scratch, 'library.db'));
  try {
    const report = await ingestFolders(library, [dir], { concurrency });
    if (report.added !== fileTotal || report.failed.length > 0) throw new Error(`bench ingest went wrong: ${JSON.stringify(report)}`);
    return fileTotal / (report.elapsedMs / 1000);
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

const limits: number[] = [];
const ingests: number[] = [];
for (let r = 0; r < repeats; r++) {
  const limit = await limitRun(files);
  limits.push(limit);
  emit({ what: 'limit', run: r + 1, imagesPerS: +limit.toFixed(2) });
  const ingest = await ingestRun(dir, files.length);
  ingests.push(ingest);
  emit({ what: 'ingest', run: r + 1, imagesPerS: +ingest.toFixed(2) });
}
const best = (xs: number[]): number => Math.max(...xs);
emit({
  what: 'ratio',
  limitImagesPerS: +best(limits).toFixed(2),
  ingestImagesPerS: +best(ingests).toFixed(2),
  ratio: +(best(ingests) / best(limits)).toFixed(3),
  target: 0.85,
  note: 'best of repeats on each side; other processes share the CPU',
  loadAverage1m: +os.loadavg()[0]!.toFixed(2),
});
