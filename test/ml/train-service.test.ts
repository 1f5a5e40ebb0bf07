// Training a real library through the service: a cancelled run is recorded as stopped with a
// checkpoint, and --resume continues the same run to completion; then embed fills the table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { trainLibrary } from '../../core/ml/train.service.ts';
import { embedLibrary } from '../../core/ml/embed.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';

let temp: TempLibrary;

beforeAll(async () => {
  temp = tempLibrary('looktwice-train-service-');
  for (let i = 0; i < 10; i++) await writeImage(path.join(temp.photosDir, `p${i}.png`), { width: 32, height: 32, pattern: i % 2 ? 'shapes' : 'gradient', seed: i + 1 });
  await ingestFolder(temp);
});

afterAll(() => temp.cleanup());

describe('train service', () => {
  it('stops on cancel with a checkpoint, resumes the same run, and embeds with it', async () => {
    const controller = new AbortController();
    const config = { sizePx: 16, batchSize: 6, steps: 5, widths: [8, 16], blocks: [1, 1] };
    const stopped = await trainLibrary(temp.library, { backend: 'wasm', config }, {
      signal: controller.signal,
      onStep: (event) => {
        if (event.step === 2) controller.abort();
      },
    });
    expect(stopped).toMatchObject({ steps: 2, stopped: true, images: 10 });
    const runs = new RunsRepository(temp.library.db);
    expect(runs.byId(stopped.run)).toMatchObject({ status: 'stopped', stepsDone: 2, stepsTotal: 5 });

    const resumed = await trainLibrary(temp.library, { backend: 'wasm', resume: true });
    expect(resumed).toMatchObject({ run: stopped.run, steps: 5, stopped: false });
    expect(runs.byId(stopped.run)).toMatchObject({ status: 'completed', stepsDone: 5 });
    expect(runs.metrics(stopped.run).map((m) => m.step)).toEqual([1, 2, 3, 4, 5]);

    const embedded = await embedLibrary(temp.library, { backend: 'wasm' });
    expect(embedded).toMatchObject({ run: stopped.run, embedded: 10, dim: 16 });
    expect(new EmbeddingsRepository(temp.library.db).load(stopped.run).imageIds).toHaveLength(10);
  });
});
