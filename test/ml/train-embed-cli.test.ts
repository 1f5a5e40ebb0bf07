// The real CLI end to end on a real library: ingest generated images, `train` (wasm, tiny), then
// `embed`; JSON contracts, the runs table, stored embeddings, incremental embed, clear errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { openLibrary } from '../../core/store/db.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';

let temp: TempLibrary;
const IMAGE_COUNT = 12;

beforeAll(async () => {
  temp = tempLibrary('looktwice-train-cli-');
  temp.library.close();
  const patterns = ['gradient', 'noise', 'shapes', 'solid'] as const;
  for (let i = 0; i < IMAGE_COUNT; i++) {
    await writeImage(path.join(temp.photosDir, `photo-${i}.jpg`), { width: 40 + i * 3, height: 30 + i * 2, pattern: patterns[i % 4]!, seed: i + 1, color: [i * 20, 255 - i * 20, 128] });
  }
  // A file that is not an image at all: ingest reports it, training never sees it.
  fs.writeFileSync(path.join(temp.photosDir, 'broken.jpg'), 'not a jpeg');
  const ingest = await runCli(['ingest', temp.photosDir, '--db', temp.dbPath, '--json']);
  expect(ingest.code, ingest.stderr).toBe(0);
});

afterAll(() => temp.cleanup());

describe('looktwice train / embed', () => {
  it('embed before any training explains what to do', async () => {
    const result = await runCli(['embed', '--db', temp.dbPath, '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/looktwice train/);
    expect(result.stdout).toBe('');
  });

  it('trains, records the run, and prints exactly the JSON contract', async () => {
    const result = await runCli(['train', '--db', temp.dbPath, '--backend', 'wasm', '--size', '16', '--batch', '8', '--steps', '4', '--checkpoint-every', '2', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(summary)).toEqual(['run', 'backend', 'device', 'steps', 'final_loss', 'images_per_s', 'gauge']);
    // This library is under 160 images: no images are held out for the gauge.
    expect(summary.gauge).toBeNull();
    expect(summary).toMatchObject({ backend: 'wasm', steps: 4 });
    expect(summary.final_loss).toEqual(expect.any(Number));
    expect(summary.images_per_s as number).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/backend: wasm · device: /);

    const library = openLibrary(temp.dbPath);
    try {
      const run = new RunsRepository(library.db).byId(summary.run as number)!;
      expect(run).toMatchObject({ status: 'completed', backend: 'wasm', stepsDone: 4, stepsTotal: 4 });
      expect(run.config).toMatchObject({ arch: 'resnet-small', sizePx: 16, batchSize: 8, steps: 4, temperature: 0.1 }); // the CPU plan's τ (core/app/training-plan.ts)
      expect(new RunsRepository(library.db).metrics(run.id).map((m) => m.step)).toEqual([1, 2, 3, 4]);
      expect(fs.existsSync(path.join(library.dataDir, run.checkpointPath!, 'checkpoint.json'))).toBe(true);
      // the training cache: one uint8 file per image at 16 px
      const cacheFiles = fs.readdirSync(path.join(library.dataDir, 'cache', 'train-16px'), { recursive: true }).filter((f) => String(f).endsWith('.rgb'));
      expect(cacheFiles).toHaveLength(IMAGE_COUNT);
    } finally {
      library.close();
    }
  });

  it('embeds every image once, L2-normalised, and only new images on a second run', async () => {
    const first = await runCli(['embed', '--db', temp.dbPath, '--backend', 'wasm', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as { embedded: number; run: number; dim: number };
    expect(Object.keys(summary)).toEqual(['embedded', 'run', 'dim']);
    expect(summary).toMatchObject({ embedded: IMAGE_COUNT, dim: 128 });

    const library = openLibrary(temp.dbPath);
    try {
      const matrix = new EmbeddingsRepository(library.db).load(summary.run);
      expect(matrix.imageIds).toHaveLength(IMAGE_COUNT);
      for (let i = 0; i < IMAGE_COUNT; i++) {
        let norm = 0;
        for (let d = 0; d < matrix.dim; d++) norm += matrix.vectors[i * matrix.dim + d]! ** 2;
        expect(Math.sqrt(norm)).toBeCloseTo(1, 4);
      }
    } finally {
      library.close();
    }

    const second = await runCli(['embed', '--db', temp.dbPath, '--backend', 'wasm', '--json']);
    expect(JSON.parse(second.stdout)).toEqual({ embedded: 0, run: summary.run, dim: 128 });
  });

  it('rejects bad options with a usage error and --resume without a stopped run with a clear one', async () => {
    const bad = await runCli(['train', '--db', temp.dbPath, '--arch', 'vgg']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--arch must be one of/);
    const both = await runCli(['train', '--db', temp.dbPath, '--steps', '2', '--epochs', '1']);
    expect(both.code).toBe(2);
    const resume = await runCli(['train', '--db', temp.dbPath, '--resume', '--backend', 'wasm', '--json']);
    expect(resume.code).toBe(1);
    expect(resume.stderr).toMatch(/no stopped run to resume/);
  });
});
