// Closing the app during training, for real: the engine process (the real entry, forked under
// Node) trains a tiny SimCLR run on a small generated library; main's `stop` must cancel the job,
// let the trainer write its checkpoint, answer `stopped`, and leave a run that resumes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childProcessPort, EngineHost, remoteApi } from '../../electron/engine/host.ts';
import { API_METHODS, type JobInfo, type JobRef, type RunSummary } from '../../core/api/contract.ts';
import { tempLibrary, writeImage } from '../helpers/index.ts';

const ENTRY = path.resolve('electron/engine/entry.ts');

interface Engine {
  host: EngineHost;
  events: Array<{ name: string; payload: unknown }>;
  api: {
    addFolder(p: { path: string }): Promise<{ job: JobRef }>;
    startTraining(p: object): Promise<JobRef>;
    resumeTraining(p: { runId: number }): Promise<JobRef>;
    listRuns(): Promise<RunSummary[]>;
  };
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

async function startEngine(dbPath: string): Promise<Engine> {
  const child = fork(ENTRY, ['--db', dbPath], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  cleanups.push(() => child.kill());
  const events: Engine['events'] = [];
  const host = new EngineHost(childProcessPort(child), { onEvent: (name, payload) => events.push({ name, payload }) });
  await host.ready;
  return { host, events, api: remoteApi(API_METHODS, host) as unknown as Engine['api'] };
}

async function finished(engine: Engine, jobId: string): Promise<JobInfo> {
  let info: JobInfo | undefined;
  await vi.waitFor(() => {
    info = engine.events.map((event) => event.payload as JobInfo).find((job) => job.jobId === jobId && job.status !== undefined && job.status !== 'running');
    expect(info).toBeDefined();
  }, { timeout: 60_000, interval: 100 });
  return info!;
}

describe('closing the app during training (engine process, real trainer)', () => {
  it('checkpoints, stops cleanly, and the run resumes in a new engine', async () => {
    const temp = tempLibrary('looktwice-engine-train-');
    cleanups.push(() => temp.cleanup());
    temp.library.close();
    for (let index = 0; index < 8; index++) {
      await writeImage(path.join(temp.photosDir, `photo-${index}.png`), { width: 40, height: 40, pattern: index % 2 ? 'shapes' : 'gradient', seed: index + 1 });
    }

    const first = await startEngine(temp.dbPath);
    const { job: ingest } = await first.api.addFolder({ path: temp.photosDir });
    expect(await finished(first, ingest.jobId)).toMatchObject({ status: 'completed' });

    // Far more steps than will run: the stop arrives mid-training.
    const training = await first.api.startTraining({ backend: 'wasm', arch: 'resnet-small', sizePx: 16, batchSize: 4, steps: 100_000, seed: 1 });
    await vi.waitFor(() => expect(first.events.some((event) => event.name === 'trainMetrics')).toBe(true), { timeout: 120_000, interval: 100 });

    const outcome = await first.host.stop('window closed', 60_000);
    expect(outcome).toEqual({ clean: true, cancelledJobs: [training.jobId] });
    expect(first.events.map((event) => event.payload as JobInfo).find((job) => job.jobId === training.jobId && job.status === 'cancelled')).toBeDefined();

    const second = await startEngine(temp.dbPath);
    const runs = await second.api.listRuns();
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run).toMatchObject({ status: 'stopped', resumable: true });
    expect(run.stepsDone).toBeGreaterThan(0);

    const resumed = await second.api.resumeTraining({ runId: run.id });
    const stepsBefore = run.stepsDone;
    await vi.waitFor(() => {
      const steps = second.events.filter((event) => event.name === 'trainMetrics').map((event) => (event.payload as { step: number }).step);
      expect(steps.length).toBeGreaterThan(0);
      // Resumed from the checkpoint, not from step 1.
      expect(Math.min(...steps)).toBeGreaterThan(stepsBefore);
    }, { timeout: 120_000, interval: 100 });
    expect(await second.host.stop('test', 60_000)).toEqual({ clean: true, cancelledJobs: [resumed.jobId] });
    expect(fs.existsSync(temp.dbPath)).toBe(true);
  });
});
