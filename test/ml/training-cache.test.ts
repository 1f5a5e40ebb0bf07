// The training cache on a real ingested library: decoded once to uint8 at the training size
// (centre square), reused on the next run, undecodable images reported and skipped; and the runs
// repository's bookkeeping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { cacheFile, loadTrainingImages } from '../../core/ml/training-cache.ts';
import { TrainingImagesRepository } from '../../core/store/training-images.repository.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';

let temp: TempLibrary;

beforeAll(async () => {
  temp = tempLibrary('looktwice-cache-');
  // a wide, solid red image
  await writeImage(path.join(temp.photosDir, 'wide.png'), { width: 300, height: 100, pattern: 'solid', color: [255, 0, 0] });
  await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 64, height: 48, pattern: 'gradient', seed: 2 });
  await writeImage(path.join(temp.photosDir, 'b.webp'), { width: 50, height: 70, pattern: 'noise', seed: 3 });
  const report = await ingestFolder(temp);
  expect(report.failed).toEqual([]);
});

afterAll(() => temp.cleanup());

describe('training cache', () => {
  it('decodes each image once to size × size × 3 uint8 and reuses the cache', async () => {
    const sources = new TrainingImagesRepository(temp.library.db).list();
    expect(sources).toHaveLength(3);
    const first = await loadTrainingImages(temp.library.dataDir, sources, 16);
    expect(first).toMatchObject({ count: 3, sizePx: 16, channels: 3, decoded: 3, failed: [] });
    expect(first.pixels.length).toBe(3 * 16 * 16 * 3);
    expect(first.imageIds).toEqual(sources.map((s) => s.imageId));
    for (const source of sources) expect(fs.statSync(cacheFile(temp.library.dataDir, 16, source.contentHash)).size).toBe(16 * 16 * 3);
    const again = await loadTrainingImages(temp.library.dataDir, sources, 16);
    expect(again.decoded).toBe(0);
    expect(Array.from(again.pixels)).toEqual(Array.from(first.pixels));
    // wide.png is solid red: its centre square must be red too (short side scaled, centre kept)
    const red = sources.findIndex((s) => s.path.endsWith('wide.png'));
    const pixel = first.pixels.subarray(red * 16 * 16 * 3 + (8 * 16 + 8) * 3, red * 16 * 16 * 3 + (8 * 16 + 8) * 3 + 3);
    expect(pixel[0]).toBeGreaterThan(200);
    expect(pixel[2]).toBeLessThan(50);
  });

  it('reports an image whose file is gone and carries on with the rest', async () => {
    const sources = new TrainingImagesRepository(temp.library.db).list().map((s) => ({ ...s, thumbnailRelpath: null }));
    const broken = { ...sources[0]!, contentHash: 'f'.repeat(64), path: path.join(temp.photosDir, 'vanished.jpg') };
    const result = await loadTrainingImages(temp.library.dataDir, [broken, ...sources], 8);
    expect(result.count).toBe(3);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.path).toBe(broken.path);
    expect(result.failed[0]!.reason).toMatch(/missing|exist|no such/i);
  });

  it('runs repository records a run, its metrics and its end', () => {
    const runs = new RunsRepository(temp.library.db);
    const id = runs.create({ config: { arch: 'resnet-small' }, backend: 'wasm', device: 'test cpu', stepsTotal: 3 });
    runs.setCheckpointPath(id, `checkpoints/run-${id}`);
    runs.recordSteps(id, [{ step: 1, loss: 4.1, imagesPerS: null, learningRate: 0.001 }, { step: 2, loss: 3.9, imagesPerS: 12.5, learningRate: 0.001 }]);
    expect(runs.byId(id)).toMatchObject({ status: 'running', stepsDone: 2, finalLoss: 3.9, imagesPerS: 12.5 });
    runs.finish(id, { status: 'stopped', stepsDone: 2, finalLoss: 3.9, imagesPerS: 12 });
    expect(runs.byId(id)).toMatchObject({ status: 'stopped', checkpointPath: `checkpoints/run-${id}` });
    expect(runs.latestWithCheckpoint()?.id).toBe(id);
    expect(runs.metrics(id).map((m) => m.loss)).toEqual([4.1, 3.9]);
  });
});
