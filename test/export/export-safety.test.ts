/**
 * Export never loses a user file (issue 12, defects 3, 5 and 10), on real libraries (real SQLite,
 * real sharp images), real child processes killed with SIGKILL, the real CLI and the real API:
 *   - `--force` replaces only what the previous export wrote (its manifest lists every file with
 *     size and SHA-256); files the user added stay where they are and are reported; a folder whose
 *     manifest this library did not write (a forged `{"tool":"looktwice"}`) is kept, not deleted;
 *   - killed at any point of the swap, the next export (or open) leaves OUT the old export or the
 *     new one, the user's files in it, and no `…-replaced-*` / `…-partial-*` leftovers;
 *   - a folder that is, holds, or lies inside an ingested photo folder is refused, even with --force.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runExport } from '../../core/export/export.service.ts';
import { openLibrary } from '../../core/store/db.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import { runCli } from '../helpers/index.ts';
import type { LabelFixture } from '../label/library-fixture.ts';
import { labeledLibrary, listFiles, sha256 } from './export-fixture.ts';

let fixture: LabelFixture | null = null;
afterEach(() => {
  fixture?.temp.cleanup();
  fixture = null;
});

/** Leftovers of the export machinery next to `out`. */
function leftovers(out: string): string[] {
  return fs.readdirSync(path.dirname(out)).filter((name) => name.startsWith(`${path.basename(out)}.looktwice-`));
}

/** OUT is one complete export: its manifest lists exactly the files there (besides `extra`), each with its size and hash. */
function expectCompleteExport(out: string, extra: readonly string[] = []): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; size: number; sha256: string }> };
  const listed = manifest.files.map((file) => file.path).sort();
  expect(listFiles(out)).toEqual([...listed, 'manifest.json', ...extra].sort());
  for (const file of manifest.files) {
    expect(fs.statSync(path.join(out, file.path)).size).toBe(file.size);
    expect(sha256(path.join(out, file.path))).toBe(file.sha256);
  }
}

/** The user's own files in a folder: notes at the top, a model in a sub-folder, an extra image among the exported ones. */
function addUserFiles(out: string): Map<string, string> {
  const files = new Map([
    ['notes.txt', 'my notes about this dataset'],
    ['models/model.pt', 'weights I trained on it'],
    ['train/cat/my-extra.png', 'not an image the export wrote'],
  ]);
  for (const [relative, text] of files) {
    fs.mkdirSync(path.dirname(path.join(out, relative)), { recursive: true });
    fs.writeFileSync(path.join(out, relative), text);
  }
  return files;
}

function expectUserFiles(out: string, files: Map<string, string>): void {
  for (const [relative, text] of files) expect(fs.readFileSync(path.join(out, relative), 'utf8')).toBe(text);
}

describe('export --force replaces only what the previous export wrote (defect 3)', () => {
  it('the manifest lists every file the export wrote, with its size and SHA-256', async () => {
    fixture = await labeledLibrary({ cat: 3, dog: 3 });
    for (const format of ['imagefolder', 'csv'] as const) {
      const out = path.join(fixture.temp.dir, `listed-${format}`);
      await runExport(fixture.temp.library.db, { out, format, duplicateGroups: [] });
      expectCompleteExport(out);
    }
  });

  it('files the user added to an export stay in place and are reported; the old export files are replaced', async () => {
    fixture = await labeledLibrary({ cat: 4, dog: 4 });
    const db = fixture.temp.library.db;
    const out = path.join(fixture.temp.dir, 'dataset');
    await runExport(db, { out, format: 'imagefolder', split: [1, 0, 0], duplicateGroups: [] });
    const user = addUserFiles(out);

    const again = await runExport(db, { out, format: 'csv', duplicateGroups: [], force: true });
    expect(again.exported).toBe(8);
    expectUserFiles(out, user);
    expect(again.kept.sort()).toEqual([...user.keys()].map((relative) => path.join(out, relative)).sort());
    expect(again.warnings.join('\n')).toMatch(/kept 3 file\(s\).*not written by the previous export/);
    // The old ImageFolder files are gone (the export wrote them), the new CSV layout is complete.
    expect(fs.readdirSync(path.join(out, 'train'))).toEqual(['cat']);
    expect(fs.readdirSync(path.join(out, 'train', 'cat'))).toEqual(['my-extra.png']);
    expectCompleteExport(out, [...user.keys()]);
    expect(leftovers(out)).toEqual([]);

    // A file of the export the user edited since is theirs now: kept, not overwritten.
    const edited = listFiles(out).find((relative) => relative.startsWith('images/dog/'))!;
    fs.writeFileSync(path.join(out, edited), 'my edit');
    const third = await runExport(db, { out, format: 'imagefolder', duplicateGroups: [], force: true });
    expect(third.kept).toContain(path.join(out, edited));
    expect(fs.readFileSync(path.join(out, edited), 'utf8')).toBe('my edit');
    expectUserFiles(out, user);
    expectCompleteExport(out, [...user.keys(), edited]);
  });

  it('through the API, a folder with a forged one-line {"tool":"looktwice"} manifest is not deleted', async () => {
    fixture = await labeledLibrary({ cat: 2, dog: 2 });
    fixture.temp.library.close();
    const out = path.join(fixture.temp.dir, 'forged');
    fs.mkdirSync(path.join(out, 'thesis'), { recursive: true });
    fs.writeFileSync(path.join(out, 'manifest.json'), '{"tool":"looktwice"}');
    fs.writeFileSync(path.join(out, 'thesis', 'chapter-1.tex'), 'years of work');
    const service = LooktwiceService.open(fixture.temp.dbPath);
    try {
      const { jobId } = await service.startExport({ out, format: 'imagefolder', force: true });
      const job = await service.jobs.wait(jobId);
      expect(job.status, job.error ?? '').toBe('completed');
      expect(job.result).toMatchObject({ kind: 'export', exported: 4 });
      // Nothing of it was written by this library's exports: it is kept whole, next to OUT, and said so.
      const aside = leftovers(out);
      expect(aside).toHaveLength(1);
      expect(fs.readFileSync(path.join(fixture.temp.dir, aside[0]!, 'thesis', 'chapter-1.tex'), 'utf8')).toBe('years of work');
      expect(fs.readFileSync(path.join(fixture.temp.dir, aside[0]!, 'manifest.json'), 'utf8')).toBe('{"tool":"looktwice"}');
      expect((job.result as { keptAside?: string }).keptAside).toBe(path.join(fixture.temp.dir, aside[0]!));
      expectCompleteExport(out);
    } finally {
      await service.close();
    }
  });
});

describe('export --force survives a kill at any point of the swap (defect 5)', () => {
  const points = ['export-after-journal', 'export-before-second-rename', 'export-after-second-rename', 'export-restoring:2'] as const;
  for (const point of points) {
    it(`killed at ${point}: the next export leaves OUT the old or the new export, with the user's files, and no leftovers`, async () => {
      fixture = await labeledLibrary({ cat: 3, dog: 3 });
      const out = path.join(fixture.temp.dir, 'crashed');
      await runExport(fixture.temp.library.db, { out, format: 'imagefolder', duplicateGroups: [], dataDir: fixture.temp.library.dataDir });
      const user = addUserFiles(out);
      fixture.temp.library.close(); // the child opens the library itself
      const child = spawnSync(process.execPath, ['bin/run-ts.mjs', 'test/export/crash-export.fixture.ts', fixture.temp.dbPath, out, '0', 'force', 'csv'], {
        encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOOKTWICE_TEST_CRASH_AT: point },
      });
      expect(child.signal, child.stderr).toBe('SIGKILL');

      // The next export, to another folder, finishes the interrupted one first.
      const library = openLibrary(fixture.temp.dbPath);
      try {
        const other = await runExport(library.db, { out: path.join(fixture.temp.dir, 'other'), format: 'jsonl', duplicateGroups: [] });
        expect(other.exported).toBe(6);
        expect(fs.existsSync(out)).toBe(true);
        expectUserFiles(out, user);
        const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { format: string };
        expect(['imagefolder', 'csv']).toContain(manifest.format); // the old export or the new one, whole
        expectCompleteExport(out, [...user.keys()]);
        expect(leftovers(out)).toEqual([]);
        // And it is still a verified export: a further --force keeps the user's files in place.
        const next = await runExport(library.db, { out, format: 'imagefolder', duplicateGroups: [], force: true });
        expect(next.kept.length).toBe(user.size);
        expectUserFiles(out, user);
        expect(leftovers(out)).toEqual([]);
      } finally {
        library.close();
      }
    });
  }
});

describe('export into a photo folder of the library is refused (defect 10)', () => {
  it('through the CLI, even with --force: the folder itself, one inside it, and one holding it', async () => {
    fixture = await labeledLibrary({ cat: 2 });
    fixture.temp.library.close();
    const photos = fixture.temp.photosDir;
    const before = new Map(listFiles(photos).map((relative) => [relative, sha256(path.join(photos, relative))]));
    for (const out of [photos, path.join(photos, 'cat-src'), path.join(photos, 'cat-src', 'new-dataset'), fixture.temp.dir]) {
      const result = await runCli(['export', '--out', out, '--force', '--db', fixture.temp.dbPath]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/the photo folder .* of this library/);
      expect(result.stderr).toContain(photos);
    }
    expect(new Map(listFiles(photos).map((relative) => [relative, sha256(path.join(photos, relative))]))).toEqual(before);
    expect(leftovers(photos)).toEqual([]);
    expect(fs.existsSync(path.join(photos, 'cat-src', 'new-dataset'))).toBe(false);
  });

  it('through the API: startExport answers invalid with the reason, before any job starts', async () => {
    fixture = await labeledLibrary({ cat: 2 });
    fixture.temp.library.close();
    const service = LooktwiceService.open(fixture.temp.dbPath);
    try {
      await expect(service.startExport({ out: path.join(fixture.temp.photosDir, 'cat-src'), format: 'csv', force: true }))
        .rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/the photo folder .* of this library/) });
      // A symbolic link to the photo folder is the photo folder.
      const link = path.join(fixture.temp.dir, 'link-to-photos');
      fs.symlinkSync(fixture.temp.photosDir, link);
      await expect(service.startExport({ out: link, format: 'csv', force: true })).rejects.toMatchObject({ code: 'invalid' });
      expect(fs.readdirSync(fixture.temp.photosDir).sort()).toEqual(['cat-src']);
    } finally {
      await service.close();
    }
  });
});
