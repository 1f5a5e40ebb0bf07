// The quality gauge through the train service on a real library (SQLite file, real sharp decode,
// tfjs wasm): readings are stored per run (schema 7), ride on the step events, come back with
// the run's metrics for the Train screen, and the result carries the last one (train --json).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { trainLibrary } from '../../core/ml/train.service.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';
import { LibraryViewRepository } from '../../core/store/library-view.repository.ts';
import type { TrainStepEvent } from '../../core/ml/trainer.ts';

let temp: TempLibrary;
const IMAGES = 170; // 10 % held out = 17, above the gauge's minimum of 16

beforeAll(async () => {
  temp = tempLibrary('looktwice-train-gauge-');
  for (let i = 0; i < IMAGES; i++) await writeImage(path.join(temp.photosDir, `p${i}.png`), { width: 24, height: 24, pattern: i % 2 ? 'shapes' : 'gradient', seed: i + 1 });
  await ingestFolder(temp);
}, 300_000);

afterAll(() => temp.cleanup());

describe('train service with the quality gauge', () => {
  it('stores the readings, sends them with the steps and returns the last', async () => {
    const events: TrainStepEvent[] = [];
    const config = { sizePx: 16, batchSize: 8, steps: 4, widths: [8, 16], blocks: [1, 1] };
    const result = await trainLibrary(temp.library, { backend: 'wasm', config, threads: 1 }, { onStep: (event) => events.push(event) });
    expect(result.images).toBe(IMAGES);
    // About 20 readings a run: every max(1, round(4 / 20)) = 1 step, plus the one before training.
    const stored = new RunsRepository(temp.library.db).gauge(result.run);
    expect(stored.map((g) => g.step)).toEqual([0, 1, 2, 3, 4]);
    for (const reading of stored) {
      expect(reading.heldOut).toBe(17);
      expect(reading.top1).toBeGreaterThanOrEqual(0);
      expect(reading.top1).toBeLessThanOrEqual(1);
      expect(reading.pixelsTop1).toBe(stored[0]!.pixelsTop1);
    }
    // Each step event carries the newest reading since the previous event (step 1's supersedes step 0's).
    expect(events.map((e) => e.gauge?.step)).toEqual([1, 2, 3, 4]);
    expect(result.gauge).toEqual(stored.at(-1));
    expect(new LibraryViewRepository(temp.library.db).runMetrics(result.run).gauge).toEqual(stored);
  }, 300_000);
});
