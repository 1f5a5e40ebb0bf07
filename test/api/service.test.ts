/**
 * The API service on a real library: folders are added and scanned as jobs with progress
 * events, the grid pages and filters, image detail carries EXIF, exact duplicates are resolved
 * to a (temporary) trash and undone, labels filter the grid, bad input gets user-worded errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import { ApiError } from '../../core/api/errors.ts';
import { API_METHODS, type LooktwiceEventMap } from '../../core/api/contract.ts';

let temp: TempLibrary;
let service: LooktwiceService;
const progress: Array<LooktwiceEventMap['progress']> = [];
const jobEvents: Array<LooktwiceEventMap['job']> = [];

beforeAll(async () => {
  temp = tempLibrary('looktwice-service-');
  temp.library.close();
  // Removals go to the freedesktop trash under XDG_DATA_HOME: keep it inside the temp folder.
  process.env.XDG_DATA_HOME = path.join(temp.dir, 'xdg-data');
  for (let i = 0; i < 6; i++) {
    await writeImage(path.join(temp.photosDir, `photo-${i}.jpg`), {
      width: 80,
      height: 60,
      pattern: 'shapes',
      seed: 10 + i,
      exif: { make: 'Nikon', model: 'Z6', dateTimeOriginal: `2022:03:0${i + 1} 08:00:00` },
    });
  }
  fs.mkdirSync(path.join(temp.photosDir, 'backup'));
  fs.copyFileSync(path.join(temp.photosDir, 'photo-0.jpg'), path.join(temp.photosDir, 'backup', 'photo-0-copy.jpg'));
  service = LooktwiceService.open(temp.dbPath);
  service.events.on('progress', (event) => progress.push(event));
  service.events.on('job', (event) => jobEvents.push(event));
});

afterAll(async () => {
  await service?.close();
  temp?.cleanup();
});

describe('LooktwiceService', () => {
  it('implements every method of the contract', () => {
    for (const method of API_METHODS) expect(typeof service[method], method).toBe('function');
  });

  it('adds a folder and ingests it as a job with progress events', async () => {
    const { folder, job } = await service.addFolder({ path: temp.photosDir });
    expect(folder.path).toBe(fs.realpathSync(temp.photosDir));
    const done = await service.jobs.wait(job.jobId);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ kind: 'ingest', added: 7, failed: [] });
    expect(progress.some((event) => event.jobId === job.jobId)).toBe(true);
    expect(jobEvents.filter((event) => event.jobId === job.jobId).map((event) => event.status)).toEqual(['running', 'completed']);
    const library = await service.getLibrary();
    expect(library).toMatchObject({ images: 6, files: { present: 7, missing: 0 }, folders: 1 });
  });

  it('refuses a folder that does not exist, in words', async () => {
    await expect(service.addFolder({ path: path.join(temp.dir, 'nope') })).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('does not exist') });
  });

  it('pages, sorts and filters the grid', async () => {
    const all = await service.listImages({ sort: 'takenAt', order: 'asc', limit: 4 });
    expect(all.total).toBe(6);
    expect(all.items).toHaveLength(4);
    expect(all.items.map((image) => image.takenAt)).toEqual(['2022-03-01T08:00:00', '2022-03-02T08:00:00', '2022-03-03T08:00:00', '2022-03-04T08:00:00']);
    const second = await service.listImages({ sort: 'takenAt', order: 'asc', limit: 4, offset: 4 });
    expect(second.items.map((image) => image.fileName)).toEqual(['photo-4.jpg', 'photo-5.jpg']);
    const dated = await service.listImages({ takenFrom: '2022-03-02', takenTo: '2022-03-03' });
    expect(dated.total).toBe(2);
    const text = await service.listImages({ text: 'photo-3' });
    expect(text.items.map((image) => image.fileName)).toEqual(['photo-3.jpg']);
    await expect(service.listImages({ limit: 0 })).rejects.toBeInstanceOf(ApiError);
  });

  it('gives image detail with EXIF and every path', async () => {
    const [first] = (await service.listImages({ sort: 'takenAt', order: 'asc', limit: 1 })).items;
    const detail = await service.getImage({ imageId: first!.id });
    expect(detail.camera).toBe('Nikon Z6');
    expect(detail.paths.map((p) => path.basename(p.path)).sort()).toEqual(['photo-0-copy.jpg', 'photo-0.jpg']);
    expect(Object.keys(detail.exif).length).toBeGreaterThan(0);
    expect(detail.hasEmbedding).toBe(false);
    expect(await service.thumbnailFile(detail.hash)).toMatch(/thumbnails/);
    await expect(service.getImage({ imageId: 9999 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('finds the exact copy, moves the other file to the trash, and undoes it', async () => {
    const { jobId } = await service.findDuplicates();
    expect((await service.jobs.wait(jobId)).status).toBe('completed');
    const groups = await service.listDuplicateGroups();
    const exact = groups.find((group) => group.kind === 'exact');
    expect(exact).toBeDefined();
    expect(exact!.members.map((m) => m.fileName).sort()).toEqual(['photo-0-copy.jpg', 'photo-0.jpg']);
    expect(exact!.keeperReason.length).toBeGreaterThan(5);
    const copy = path.join(fs.realpathSync(temp.photosDir), 'backup', 'photo-0-copy.jpg');
    const keepPath = exact!.members.find((m) => m.path !== copy)!.path;
    const removal = await service.removeDuplicates({ groupId: exact!.id, keepPath });
    expect(removal.removed.map((r) => r.path)).toEqual([copy]);
    expect(fs.existsSync(copy)).toBe(false);
    expect(fs.existsSync(removal.removed[0]!.movedTo)).toBe(true);
    expect(removal.removed[0]!.movedTo.startsWith(path.join(temp.dir, 'xdg-data', 'Trash'))).toBe(true);
    expect((await service.listDuplicateGroups()).some((group) => group.id === exact!.id)).toBe(false);
    const undone = await service.undoRemoval({ actionId: removal.actionId });
    expect(undone.restored).toEqual([copy]);
    expect(fs.existsSync(copy)).toBe(true);
    await expect(service.undoRemoval({})).rejects.toMatchObject({ code: 'invalid' });
  });

  it('labels images and filters the grid by label', async () => {
    const cats = await service.createClass({ name: 'cats' });
    await service.createClass({ name: 'dogs' });
    const ids = (await service.listImages({ sort: 'addedAt', order: 'asc' })).items.map((image) => image.id);
    expect((await service.setLabels({ imageIds: ids.slice(0, 2), classId: cats.id })).labeled).toBe(2);
    const labelled = await service.listImages({ label: cats.id });
    expect(labelled.total).toBe(2);
    expect(labelled.items[0]!.label).toMatchObject({ className: 'cats', source: 'user', confidence: 1 });
    expect((await service.listImages({ label: 'unlabeled' })).total).toBe(4);
    expect((await service.listClasses()).find((c) => c.id === cats.id)?.userLabels).toBe(2);
    await expect(service.createClass({ name: 'a/b' })).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/^Class name/) });
    expect((await service.clearLabels({ imageIds: [ids[0]!] })).cleared).toBe(1);
  });

  it('flags quality and keeps a dismissed flag dismissed after a restart', async () => {
    const { jobId } = await service.computeFlags();
    expect((await service.jobs.wait(jobId)).status).toBe('completed');
    const tiny = await service.listImages({ flag: 'tiny' });
    expect(tiny.total).toBe(6); // 80 x 60 px photos are too small to train on
    const target = tiny.items[0]!;
    expect(target.flags).toContain('tiny');
    expect(await service.dismissFlags({ imageIds: [target.id], kind: 'tiny' })).toEqual({ dismissed: 1 });
    expect((await service.listImages({ flag: 'tiny' })).total).toBe(5);
    // A new service on the same library (the app restarted) computes flags again.
    const again = LooktwiceService.open(temp.dbPath);
    try {
      const rerun = await again.computeFlags();
      await again.jobs.wait(rerun.jobId);
      expect((await again.listImages({ flag: 'tiny' })).items.map((image) => image.id)).not.toContain(target.id);
      expect((await again.getFilterOptions()).flags.find((f) => f.kind === 'tiny')?.count).toBe(5);
    } finally {
      await again.close();
    }
  });

  it('explains what is missing when the probe has no embeddings', async () => {
    await expect(service.runProbe()).rejects.toMatchObject({ message: expect.stringContaining('Train screen') });
  });

  it('cancels a running job', async () => {
    const { jobId } = await service.scanFolders({});
    await service.cancelJob({ jobId });
    const finished = await service.jobs.wait(jobId);
    expect(['cancelled', 'completed']).toContain(finished.status);
    await expect(service.getJob({ jobId: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
