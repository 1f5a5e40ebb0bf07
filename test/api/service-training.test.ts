/**
 * Training through the API with real tfjs on a tiny model: the plan names the device and a time,
 * live trainMetrics events flow, Stop (cancelJob) leaves a resumable run, Resume finishes it,
 * and embeddings make the library searchable by similarity.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import type { LooktwiceEventMap } from '../../core/api/contract.ts';

let temp: TempLibrary;
let service: LooktwiceService;
const metrics: Array<LooktwiceEventMap['trainMetrics']> = [];

beforeAll(async () => {
  temp = tempLibrary('looktwice-train-api-');
  temp.library.close();
  for (let i = 0; i < 10; i++) await writeImage(path.join(temp.photosDir, `p${i}.png`), { width: 40, height: 40, pattern: i % 2 ? 'shapes' : 'gradient', seed: i + 1 });
  service = LooktwiceService.open(temp.dbPath);
  service.events.on('trainMetrics', (event) => metrics.push(event));
  const { job } = await service.addFolder({ path: temp.photosDir });
  await service.jobs.wait(job.jobId);
});

afterAll(async () => {
  await service?.close();
  temp?.cleanup();
});

describe('training through the API', () => {
  it('plans a run on the device it finds, with a time estimate', async () => {
    const plan = await service.planTraining({ sizePx: 16, steps: 30, batchSize: 4 });
    expect(['tensorflow', 'webgpu', 'wasm', 'cpu']).toContain(plan.backend);
    expect(plan.device.length).toBeGreaterThan(3);
    expect(plan.options).toMatchObject({ sizePx: 16, steps: 30, batchSize: 4, arch: 'resnet-small' });
    expect(plan.images).toBe(10);
    expect(plan.estimatedSeconds).toBeGreaterThan(0);
    const backends = await service.listBackends();
    expect(backends.map((b) => b.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(backends.find((b) => b.name === plan.backend)?.device).toBe(plan.device);
    await expect(service.planTraining({ sizePx: 17 })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('stops at the user\'s request with a resumable run, then resumes to the end', async () => {
    const { jobId } = await service.startTraining({ sizePx: 16, steps: 30, batchSize: 4 });
    await expect.poll(() => metrics.length, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(2);
    await service.cancelJob({ jobId });
    const stopped = await service.jobs.wait(jobId);
    expect(stopped.status).toBe('cancelled');
    const [run] = await service.listRuns();
    expect(run).toMatchObject({ status: 'stopped', resumable: true, stepsTotal: 30 });
    expect(run!.stepsDone).toBeLessThan(30);
    expect(metrics[0]).toMatchObject({ jobId, runId: run!.id, step: 1, stepsTotal: 30 });
    expect(Number.isFinite(metrics[0]!.loss)).toBe(true);

    const resumed = await service.resumeTraining({ runId: run!.id });
    const finished = await service.jobs.wait(resumed.jobId);
    expect(finished.status, finished.error ?? '').toBe('completed');
    expect(finished.result).toMatchObject({ kind: 'train', runId: run!.id, steps: 30 });
    const [done] = await service.listRuns();
    expect(done).toMatchObject({ id: run!.id, status: 'completed', stepsDone: 30, resumable: false });
    const chart = await service.getRunMetrics({ runId: run!.id });
    expect(chart.step.at(-1)).toBe(30);
    expect(chart.loss.every(Number.isFinite)).toBe(true);
    await expect(service.resumeTraining({ runId: run!.id })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('embeds the library and finds similar images by embedding', async () => {
    const { jobId } = await service.startEmbedding({});
    const finished = await service.jobs.wait(jobId);
    expect(finished.result).toMatchObject({ kind: 'embed', embedded: 10 });
    const library = await service.getLibrary();
    expect(library.embedded).toBe(10);
    const first = (await service.listImages({ limit: 1 })).items[0]!;
    expect((await service.getImage({ imageId: first.id })).hasEmbedding).toBe(true);
    const similar = await service.findSimilar({ imageId: first.id, k: 3 });
    expect(similar).toHaveLength(3);
    expect(similar.every((s) => s.id !== first.id && s.score <= 1)).toBe(true);
  });
});
