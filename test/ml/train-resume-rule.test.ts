/**
 * "Which run resume continues" has one definition (RunsRepository.latestResumable): the run the
 * training service resumes is the one the use case (core/app/training.ts runToResume) names,
 * through a history where the plausible other rules ("newest stopped", "newest with a
 * checkpoint", "newest unfinished", "newest stopped or failed") each pick another run. Real
 * library, real training of a tiny model (the recorded checkpoints are not on disk, so each
 * resumed run trains its two steps from the start).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { trainLibrary } from '../../core/ml/train.service.ts';
import { defaultTrainConfig } from '../../core/ml/trainer.ts';
import { runToResume } from '../../core/app/training.ts';
import { RunsRepository, type RunStatus } from '../../core/store/runs.repository.ts';

let temp: TempLibrary;

beforeAll(async () => {
  temp = tempLibrary('looktwice-resume-rule-');
  for (let i = 0; i < 4; i++) await writeImage(path.join(temp.photosDir, `p${i}.png`), { width: 24, height: 24, pattern: i % 2 ? 'shapes' : 'gradient', seed: i + 1 });
  await ingestFolder(temp);
});

afterAll(() => temp.cleanup());

describe('the run resume continues', () => {
  it('is the same for the training service and the use case, run after run', async () => {
    const runs = new RunsRepository(temp.library.db);
    const config = defaultTrainConfig({ sizePx: 16, batchSize: 4, steps: 2, widths: [8, 16], blocks: [1, 1] });
    const history: Array<{ status: RunStatus; checkpoint: boolean }> = [
      { status: 'stopped', checkpoint: true },
      { status: 'running', checkpoint: true }, // a process that died mid-run
      { status: 'failed', checkpoint: true },
      { status: 'completed', checkpoint: true },
      { status: 'stopped', checkpoint: false },
    ];
    const ids = history.map(({ status, checkpoint }) => {
      const id = runs.create({ config, backend: 'wasm', device: 'test', stepsTotal: config.steps });
      if (checkpoint) runs.setCheckpointPath(id, `checkpoints/run-${id}`);
      if (status !== 'running') runs.finish(id, { status, stepsDone: 1, finalLoss: null, imagesPerS: null });
      return id;
    });
    // Newest unfinished with a checkpoint: the failed run, then the dead running one, then the stopped one.
    for (const expected of [ids[2], ids[1], ids[0]]) {
      expect(runToResume(temp.library).id).toBe(expected);
      const resumed = await trainLibrary(temp.library, { backend: 'wasm', resume: true });
      expect(resumed).toMatchObject({ run: expected, stopped: false, steps: 2 });
      expect(runs.byId(expected!)).toMatchObject({ status: 'completed' });
    }
    expect(() => runToResume(temp.library)).toThrow(/no stopped run to resume/);
    await expect(trainLibrary(temp.library, { backend: 'wasm', resume: true })).rejects.toThrow(/no stopped run to resume/);
    expect(runs.byId(ids[4]!)).toMatchObject({ status: 'stopped' }); // no checkpoint: never resumed
  });
});
