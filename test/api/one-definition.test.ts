/**
 * The bugs of issue "one definition per rule", each on a real library (real SQLite, real sharp):
 * reading the library computes nothing, duplicate groups are stored and read (by the review list
 * and export), undo honours its actionId, job conflicts hold both ways, an image has one primary
 * path everywhere, derived results go stale when their inputs change, a missing thumbnail is
 * regenerated, only completed or stopped runs embed, validation errors are 400s with the
 * schema's message, and SQL lives only in core/store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import { startServer, type RunningServer } from '../../core/api/http-server.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let temp: TempLibrary;
let service: LooktwiceService;
let photos: string;

/** Waits for a job and expects it to complete. */
async function finish(jobId: string): Promise<void> {
  const done = await service.jobs.wait(jobId);
  expect(done.status, done.error ?? '').toBe('completed');
}

beforeAll(async () => {
  temp = tempLibrary('looktwice-rules-');
  temp.library.close();
  process.env.XDG_DATA_HOME = path.join(temp.dir, 'xdg-data');
  photos = fs.realpathSync(temp.photosDir);
  // Two photos, each with an exact copy, so there are two removable groups. The copies sit in
  // "a-copies", alphabetically before the originals but ingested after them.
  fs.mkdirSync(path.join(photos, 'z-originals'));
  for (let i = 0; i < 4; i++) {
    await writeImage(path.join(photos, 'z-originals', `photo-${i}.jpg`), { width: 80, height: 60, pattern: i % 2 ? 'shapes' : 'gradient', seed: 30 + i });
  }
  service = LooktwiceService.open(temp.dbPath);
  const { job } = await service.addFolder({ path: path.join(photos, 'z-originals') });
  await finish(job.jobId);
  fs.mkdirSync(path.join(photos, 'a-copies'));
  for (const i of [0, 1]) fs.copyFileSync(path.join(photos, 'z-originals', `photo-${i}.jpg`), path.join(photos, 'a-copies', `copy-${i}.jpg`));
  const second = await service.addFolder({ path: path.join(photos, 'a-copies') });
  await finish(second.job.jobId);
});

afterAll(async () => {
  await service?.close();
  temp?.cleanup();
});

describe('reading computes nothing', () => {
  it('getLibrary does not compute quality flags (nor the neighbour search behind outliers)', async () => {
    // Cached curation features used to make getLibrary compute every flag on first call.
    await finish((await service.findDuplicates()).jobId);
    const library = await service.getLibrary();
    expect(library.flagged).toBe(0);
    expect(library.derived.flags).toEqual({ computedAt: null, stale: false, changed: [] });
    expect(service.library.db.prepare('SELECT count(*) FROM image_flags').pluck().get()).toBe(0);
  });

  it('listDuplicateGroups reads the stored groups, and never searches outside a job', async () => {
    const fresh = tempLibrary('looktwice-rules-fresh-');
    fresh.library.close();
    await writeImage(path.join(fresh.photosDir, 'x.jpg'), { width: 64, height: 48, pattern: 'shapes', seed: 5 });
    fs.copyFileSync(path.join(fresh.photosDir, 'x.jpg'), path.join(fresh.photosDir, 'x-copy.jpg'));
    const other = LooktwiceService.open(fresh.dbPath);
    try {
      const { job } = await other.addFolder({ path: fresh.photosDir });
      expect((await other.jobs.wait(job.jobId)).status).toBe('completed');
      expect(await other.listDuplicateGroups()).toEqual([]);
      expect((await other.getLibrary()).duplicateGroupsOpen).toBeNull();
      expect((await other.jobs.wait((await other.findDuplicates()).jobId)).status).toBe('completed');
      expect((await other.listDuplicateGroups()).map((g) => g.kind)).toEqual(['exact']);
    } finally {
      await other.close();
      fresh.cleanup();
    }
    // A restarted app reads the same groups without searching.
    const restarted = LooktwiceService.open(temp.dbPath);
    try {
      expect((await restarted.listDuplicateGroups()).length).toBe(2);
    } finally {
      await restarted.close();
    }
  });
});

describe('one primary path per image', () => {
  it('the grid, the detail panel and the label paths name the alphabetically first present file', async () => {
    const page = await service.listImages({ text: 'photo-0.jpg' });
    const first = page.items[0]!;
    // Ingested first from z-originals (the lowest file id), but a-copies/copy-0.jpg sorts first.
    expect(first.path).toBe(path.join(photos, 'a-copies', 'copy-0.jpg'));
    const [again] = await service.getImages({ imageIds: [first.id] });
    expect(again!.path).toBe(first.path);
    const sortedByPath = await service.listImages({ sort: 'path', order: 'asc', limit: 1 });
    expect(sortedByPath.items[0]!.path).toBe(first.path);
  });
});

describe('duplicate removals', () => {
  it('undoRemoval restores the removal named by actionId, not just the latest', async () => {
    const groups = await service.listDuplicateGroups();
    expect(groups).toHaveLength(2);
    const keepOriginal = (group: (typeof groups)[number]) => group.members.find((m) => m.path.includes('z-originals'))!.path;
    const first = await service.removeDuplicates({ groupId: groups[0]!.id, keepPath: keepOriginal(groups[0]!) });
    const second = await service.removeDuplicates({ groupId: groups[1]!.id, keepPath: keepOriginal(groups[1]!) });
    expect(first.actionId).not.toBe(second.actionId);
    const undone = await service.undoRemoval({ actionId: first.actionId });
    expect(undone.restored).toEqual(first.removed.map((r) => r.path));
    expect(fs.existsSync(first.removed[0]!.path)).toBe(true);
    expect(fs.existsSync(second.removed[0]!.path)).toBe(false);
    await expect(service.undoRemoval({ actionId: first.actionId })).rejects.toMatchObject({ code: 'invalid' });
    expect((await service.undoRemoval({})).restored).toEqual(second.removed.map((r) => r.path));
  });
});

describe('derived state', () => {
  it('ingest marks flags, duplicates, clusters and the map stale; the job that recomputes makes them fresh', async () => {
    await finish((await service.computeFlags()).jobId);
    await finish((await service.findDuplicates()).jobId);
    let library = await service.getLibrary();
    expect(library.derived.flags.stale).toBe(false);
    expect(library.derived.duplicates.stale).toBe(false);
    expect(library.flagged).toBeGreaterThan(0);
    await writeImage(path.join(photos, 'z-originals', 'new.jpg'), { width: 90, height: 60, pattern: 'gradient', seed: 77 });
    await finish((await service.scanFolders({})).jobId);
    library = await service.getLibrary();
    expect(library.derived.flags).toMatchObject({ stale: true, changed: ['images'] });
    expect(library.derived.duplicates.stale).toBe(true);
    await finish((await service.computeFlags()).jobId);
    library = await service.getLibrary();
    expect(library.derived.flags.stale).toBe(false);
    // The new image has its flags now (ingest used to leave new images unflagged until a recompute by hand).
    const newest = (await service.listImages({ text: 'new.jpg' })).items[0]!;
    expect(newest.flags).toContain('tiny');
  });

  it('labels make the probe stale; accepting its predictions does not', async () => {
    const before = (await service.getLibrary()).derived.probe;
    expect(before.computedAt).toBeNull();
    service.library.db.prepare(`INSERT INTO derived_state (artefact, inputs_json) SELECT 'probe', json_object('embeddings', (SELECT generation FROM input_generations WHERE kind = 'embeddings'), 'labels', (SELECT generation FROM input_generations WHERE kind = 'labels'))`).run();
    expect((await service.getLibrary()).derived.probe.stale).toBe(false);
    const cats = await service.createClass({ name: 'cats' });
    const [image] = (await service.listImages({ limit: 1 })).items;
    await service.setLabels({ imageIds: [image!.id], classId: cats.id });
    expect((await service.getLibrary()).derived.probe).toMatchObject({ stale: true, changed: ['labels'] });
  });

  it('export uses the stored duplicate groups when they are fresh, and searches again in its job when they are stale', async () => {
    const cats = (await service.listClasses()).find((c) => c.name === 'cats')!;
    const ids = (await service.listImages({})).items.map((image) => image.id);
    await service.setLabels({ imageIds: ids, classId: cats.id });
    await finish((await service.findDuplicates()).jobId);
    const searched = (await service.getLibrary()).derived.duplicates.computedAt;
    expect((await service.previewExport({ out: path.join(temp.dir, 'preview'), format: 'csv' })).duplicatesStale).toBe(false);
    await finish((await service.startExport({ out: path.join(temp.dir, 'export-1'), format: 'csv' })).jobId);
    expect((await service.getLibrary()).derived.duplicates.computedAt).toBe(searched);
    // New photos: the stored groups are stale; preview says so, the export job searches again.
    fs.copyFileSync(path.join(photos, 'z-originals', 'photo-2.jpg'), path.join(photos, 'a-copies', 'copy-2.jpg'));
    await finish((await service.scanFolders({})).jobId);
    expect((await service.previewExport({ out: path.join(temp.dir, 'preview'), format: 'csv' })).duplicatesStale).toBe(true);
    await finish((await service.startExport({ out: path.join(temp.dir, 'export-2'), format: 'csv' })).jobId);
    const after = await service.getLibrary();
    expect(after.derived.duplicates.stale).toBe(false);
    expect(after.derived.duplicates.computedAt).not.toBe(searched);
  });

  it('a thumbnail whose file is gone is made again from the original (a library copied without its -files folder)', async () => {
    const image = (await service.listImages({ limit: 1 })).items[0]!;
    fs.rmSync(temp.library.dataDir, { recursive: true, force: true });
    const file = await service.thumbnailFile(image.hash);
    expect(file).not.toBeNull();
    expect(fs.existsSync(file!)).toBe(true);
    const rendererDir = path.join(temp.dir, 'renderer');
    fs.mkdirSync(rendererDir, { recursive: true });
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html>');
    const other = (await service.listImages({ limit: 2 })).items[1]!;
    const server: RunningServer = await startServer({ api: service, rendererDir, port: 0, token: 't' });
    try {
      const reply = await fetch(`${server.origin}/thumbnails/${other.hash}?token=t`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toBe('image/webp');
      // Validation errors are 400 with the schema's message (a bad class name used to be a 500).
      const bad = await fetch(`${server.origin}/api/createClass?token=t`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a/b' }) });
      expect(bad.status).toBe(400);
      const training = await fetch(`${server.origin}/api/startTraining?token=t`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ backend: 'foo' }) });
      expect(training.status).toBe(400);
      expect(((await training.json()) as { error: { message: string } }).error.message).toBe('backend must be one of auto, tensorflow, webgpu, wasm, cpu.');
    } finally {
      await server.close();
    }
  });
});

describe('jobs and runs', () => {
  it('a folder scan is refused while a pipeline runs, and a pipeline while a scan runs', async () => {
    const pipeline = await service.startPipeline({ steps: ['ingest'] });
    await expect(service.scanFolders({})).rejects.toMatchObject({ code: 'busy' });
    await service.jobs.wait(pipeline.jobId);
    const scan = await service.scanFolders({});
    await expect(service.startPipeline({ steps: ['ingest'] })).rejects.toMatchObject({ code: 'busy' });
    await service.jobs.wait(scan.jobId);
  });

  it('only a completed or stopped run embeds: a failed one is refused in words', async () => {
    const runs = new RunsRepository(service.library.db);
    const failed = runs.create({ config: {}, backend: 'cpu', device: 'test', stepsTotal: 10 });
    runs.setCheckpointPath(failed, `checkpoints/run-${failed}`);
    runs.finish(failed, { status: 'failed', stepsDone: 3, finalLoss: null, imagesPerS: null, error: 'out of memory' });
    await expect(service.startEmbedding({ runId: failed })).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining(`Run ${failed} is failed`) });
  });

  it('the same bad value gets the same message from the API and the schemas behind the CLI', async () => {
    await expect(service.planTraining({ sizePx: 17 })).rejects.toMatchObject({ code: 'invalid', message: 'sizePx must be a multiple of 8 between 8 and 512.' });
    await expect(service.listImages({ limit: 0 })).rejects.toMatchObject({ code: 'invalid', message: 'limit must be a whole number of at least 1.' });
    await expect(service.startTraining({ steps: 5, epochs: 1 })).rejects.toMatchObject({ code: 'invalid', message: 'Give epochs or steps, not both.' });
  });
});

describe('the store owns all SQL', () => {
  it('no module of core/ outside core/store prepares or writes SQL', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (full !== path.join(ROOT, 'core', 'store')) walk(full);
        } else if (entry.name.endsWith('.ts')) {
          const text = fs.readFileSync(full, 'utf8');
          if (/\.prepare\(|\.pragma\(|`\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|WITH)\s/.test(text)) offenders.push(path.relative(ROOT, full));
        }
      }
    };
    walk(path.join(ROOT, 'core'));
    expect(offenders).toEqual([]);
  });
});

