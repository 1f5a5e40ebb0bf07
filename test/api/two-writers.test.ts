/**
 * Two writers on one library for a while, as users run it: the app's server (`looktwice
 * serve`: the real service behind the real HTTP transport) ingests one folder and labels
 * images while `looktwice ingest` child processes ingest another folder, round after round,
 * with new photos appearing in both. Afterwards the catalogue equals the one a single writer
 * makes of the same folders, and every label the server set is there.
 *
 * A bounded loop: 12 s by default; LOOKTWICE_TWO_WRITERS_S=60 runs the full minute.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LooktwiceService } from '../../core/api/service.ts';
import { startServer, type RunningServer } from '../../core/api/http-server.ts';
import { openLibrary } from '../../core/store/db.ts';
import { normalisedDumpOf, runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

const SECONDS = Number(process.env.LOOKTWICE_TWO_WRITERS_S ?? 12);

let temp: TempLibrary;
let service: LooktwiceService | undefined;
let server: RunningServer | undefined;
beforeEach(() => {
  temp = tempLibrary('looktwice-two-writers-');
  temp.library.close();
});
afterEach(async () => {
  await server?.close();
  await service?.close();
  temp.cleanup();
});

describe('the app and a CLI ingest writing one library at once', () => {
  it(`for ${SECONDS} s: both keep working and the catalogue equals a single writer's`, async () => {
    const appFolder = path.join(temp.photosDir, 'app');
    const cliFolder = path.join(temp.photosDir, 'cli');
    fs.mkdirSync(appFolder);
    fs.mkdirSync(cliFolder);
    const rendererDir = path.join(temp.dir, 'renderer-dist');
    fs.mkdirSync(rendererDir);
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Looktwice</title>');
    service = LooktwiceService.open(temp.dbPath);
    server = await startServer({ api: service, rendererDir });
    const running = server;
    const call = async <T,>(method: string, params: unknown = {}): Promise<T> => {
      const reply = await fetch(`${running.origin}/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-looktwice-token': running.token },
        body: JSON.stringify(params),
      });
      const body = (await reply.json()) as { result?: T; error?: { message: string } };
      if (reply.status !== 200) throw new Error(`${method}: ${reply.status} ${body.error?.message}`);
      return body.result as T;
    };
    const waitJob = async (jobId: string): Promise<void> => {
      const done = await service!.jobs.wait(jobId);
      expect(done.status, `${jobId}: ${JSON.stringify(done.error)}`).toBe('completed');
    };

    await waitJob((await call<{ job: { jobId: string } }>('addFolder', { path: appFolder })).job.jobId);
    const { id: classId } = await call<{ id: number }>('createClass', { name: 'kept' });

    const deadline = Date.now() + SECONDS * 1000;
    let round = 0;
    let cliRuns = 0;
    const labelled = new Set<number>();
    while (Date.now() < deadline) {
      for (let i = 0; i < 3; i++) {
        await writeImage(path.join(appFolder, `r${round}-${i}.jpg`), { width: 40, height: 32, pattern: 'shapes', seed: round * 10 + i });
        await writeImage(path.join(cliFolder, `r${round}-${i}.jpg`), { width: 40, height: 32, pattern: 'shapes', seed: 100_000 + round * 10 + i });
      }
      let cliDone = false;
      const cli = runCli(['ingest', cliFolder, '--db', temp.dbPath, '--json', '--batch-size', '1', '--concurrency', '1'], { timeoutMs: 120_000 }).finally(() => {
        cliDone = true;
      });
      const app = (async () => {
        await waitJob((await call<{ jobId: string }>('scanFolders')).jobId);
        const page = await call<{ items: Array<{ id: number }> }>('listImages', { limit: 500 });
        const ids = page.items.map((item) => item.id).filter((id) => !labelled.has(id)).slice(0, 4);
        for (const id of ids) labelled.add(id);
        // A user clicking through labels while the CLI commits: each call reads, then writes.
        do {
          if (labelled.size > 0) await call('setLabels', { imageIds: [...labelled], classId });
        } while (!cliDone);
      })();
      const [cliRun] = await Promise.all([cli, app]);
      expect(cliRun.stderr).not.toMatch(/locked|busy|cannot/);
      expect(cliRun.code).toBe(0);
      cliRuns += 1;
      round += 1;
    }
    // Whatever the last rounds raced over, one more pass of each writer settles the catalogue.
    await waitJob((await call<{ jobId: string }>('scanFolders')).jobId);
    await server.close();
    server = undefined;
    await service.close();
    service = undefined;

    expect(cliRuns).toBeGreaterThan(1);
    const single = path.join(temp.dir, 'single', 'library.db');
    const alone = await runCli(['ingest', appFolder, cliFolder, '--db', single, '--json']);
    expect(alone.code).toBe(0);
    const shared = normalisedDumpOf(temp.dbPath);
    expect(shared.files).toHaveLength(round * 6);
    expect(shared).toEqual(normalisedDumpOf(single));
    const library = openLibrary(temp.dbPath);
    try {
      expect(library.db.prepare('SELECT count(*) FROM labels').pluck().get()).toBe(labelled.size);
    } finally {
      library.close();
    }
  }, (SECONDS + 120) * 1000);
});
