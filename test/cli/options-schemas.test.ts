/**
 * The CLI parses its options onto the API's schemas (core/app/schemas.ts): a bad value is a
 * usage error (exit 2) with the same words the API uses, and the use cases' rules hold on the
 * command line too (only completed or stopped runs embed).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';

let temp: TempLibrary;

beforeAll(async () => {
  temp = tempLibrary('looktwice-cli-schemas-');
  await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 64, height: 48, pattern: 'shapes', seed: 1 });
});

afterAll(() => temp?.cleanup());

describe('options parsed onto the schemas', () => {
  it('curate --backend foo is a usage error, before any work', async () => {
    const result = await runCli(['curate', temp.photosDir, '--db', temp.dbPath, '--no-serve', '--backend', 'foo']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--backend must be one of auto, tensorflow, webgpu, wasm, cpu.');
    expect(result.stdout).toBe('');
  });

  it('train and curate share one set of limits, worded as the API words them', async () => {
    const train = await runCli(['train', '--db', temp.dbPath, '--size', '17']);
    expect(train.code).toBe(2);
    expect(train.stderr).toContain('--size must be a multiple of 8 between 8 and 512.');
    const curate = await runCli(['curate', temp.photosDir, '--db', temp.dbPath, '--no-serve', '--size', '17']);
    expect(curate.code).toBe(2);
    expect(curate.stderr).toContain('--size must be a multiple of 8 between 8 and 512.');
    for (const command of [['train'], ['curate', temp.photosDir, '--no-serve']]) {
      const threads = await runCli([...command, '--db', temp.dbPath, '--threads', '0']);
      expect(threads.code, command[0]).toBe(2);
      expect(threads.stderr, command[0]).toContain('--threads must be a whole number');
    }
    const batch = await runCli(['train', '--db', temp.dbPath, '--batch', 'many']);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain('--batch must be a whole number of at least 2');
  });

  it('export, cluster and dedup refuse bad values as usage errors', async () => {
    for (const args of [
      ['export', '--out', path.join(temp.dir, 'out'), '--format', 'parquet'],
      ['export', '--out', path.join(temp.dir, 'out'), '--min-confidence', '2'],
      ['cluster', '--method', 'spectral'],
      ['dedup', '--only', 'similar'],
    ]) {
      const result = await runCli([...args, '--db', temp.dbPath]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/--[a-z-]+ must be/);
    }
  });

  it('embed --run with a failed run fails clearly (exit 1)', async () => {
    const runs = new RunsRepository(temp.library.db);
    const failed = runs.create({ config: {}, backend: 'cpu', device: 'test', stepsTotal: 10 });
    runs.setCheckpointPath(failed, `checkpoints/run-${failed}`);
    runs.finish(failed, { status: 'failed', stepsDone: 3, finalLoss: null, imagesPerS: null, error: 'out of memory' });
    const result = await runCli(['embed', '--db', temp.dbPath, '--run', String(failed)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Run ${failed} is failed, so it has no finished model to embed with`);
  });
});
