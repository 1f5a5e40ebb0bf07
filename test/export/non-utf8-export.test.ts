/**
 * Export of photos whose names are not valid UTF-8 (Linux names are bytes, kept losslessly in
 * the catalogue: core/common/file-name-bytes.ts). Every mode reads the original through its
 * bytes: a copy holds the same bytes, a hard link is the same file, a symbolic link points at
 * the original's bytes, --resize decodes it; the exported name is the readable one (each such
 * byte U+FFFD), so the folder, the CSV and the manifest agree. A user's file with such a name in
 * OUT survives `--force`. Real files made with Buffer paths, the real ingest and export.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { runExport, type ExportMode } from '../../core/export/export.service.ts';
import { LabelsRepository } from '../../core/store/labels.repository.ts';
import { nameBytes } from '../../core/common/file-name-bytes.ts';
import { encodeImage, ingestFolder, tempLibrary, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary('looktwice-bytes-export-');
});
afterEach(() => temp.cleanup());

const bytesPath = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((part) => Buffer.from(part)));

/** Two photos under byte names (one in a byte-named folder) and one plain one, all labeled "cat". */
async function library(): Promise<{ byteFile: Buffer; nested: Buffer; bytes: Map<string, Buffer> }> {
  const jpeg = await encodeImage({ width: 48, height: 40, pattern: 'shapes', seed: 3, format: 'jpeg' });
  const png = await encodeImage({ width: 40, height: 48, pattern: 'shapes', seed: 4, format: 'png' });
  const plain = await encodeImage({ width: 44, height: 44, pattern: 'shapes', seed: 5, format: 'png' });
  const base = `${temp.photosDir}/`;
  const byteFile = bytesPath(base, 'f', [0xff], 'o.jpg');
  const folder = bytesPath(base, 'alb', [0xe9], 'um');
  const nested = Buffer.concat([folder, Buffer.from('/in.png')]);
  fs.writeFileSync(byteFile, jpeg);
  fs.mkdirSync(folder);
  fs.writeFileSync(nested, png);
  fs.writeFileSync(path.join(temp.photosDir, 'plain.png'), plain);
  const report = await ingestFolder(temp);
  expect(report).toMatchObject({ added: 3, failed: [] });
  const labels = new LabelsRepository(temp.library.db);
  const classId = labels.ensureClass('cat');
  const ids = temp.library.db.prepare('SELECT id FROM images').pluck().all() as number[];
  labels.setLabels(ids, classId, { source: 'user' });
  return { byteFile, nested, bytes: new Map([['f\ufffdo.jpg', jpeg], ['in.png', png], ['plain.png', plain]]) };
}

function exported(out: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const split of ['train', 'val', 'test']) {
    const dir = path.join(out, split, 'cat');
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) names.set(name, path.join(dir, name));
  }
  return names;
}

describe('export of names that are not UTF-8', () => {
  it.each<ExportMode>(['copy', 'hardlink', 'symlink'])('%s: every photo is exported with its bytes, under its readable name', async (mode) => {
    const { byteFile, bytes } = await library();
    const out = path.join(temp.dir, `out-${mode}`);
    const result = await runExport(temp.library.db, { out, format: 'imagefolder', mode, duplicateGroups: [] });
    expect(result.errors).toEqual([]);
    expect(result.exported).toBe(3);
    const files = exported(out);
    expect([...files.keys()].sort()).toEqual([...bytes.keys()].sort());
    for (const [name, file] of files) expect(fs.readFileSync(file).equals(bytes.get(name)!)).toBe(true);
    const written = fs.lstatSync(files.get('f\ufffdo.jpg')!);
    if (mode === 'hardlink') expect(written.ino).toBe(fs.statSync(byteFile).ino);
    if (mode === 'symlink') {
      expect(written.isSymbolicLink()).toBe(true);
      expect(fs.readlinkSync(files.get('f\ufffdo.jpg')!, { encoding: 'buffer' }).equals(byteFile)).toBe(true);
    }
    // The manifest lists exactly the files on disk, by names that are valid UTF-8.
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; symlink?: string }> };
    const listed = manifest.files.map((file) => file.path).sort();
    expect(listed).toEqual([...files.values()].map((file) => path.relative(out, file)).sort());
    // A second export with --force recognises the first one's files (links included) and replaces them.
    const again = await runExport(temp.library.db, { out, format: 'imagefolder', mode, duplicateGroups: [], force: true });
    expect(again).toMatchObject({ exported: 3, kept: [], keptAside: null });
    expect(fs.readFileSync(byteFile).equals(bytes.get('f\ufffdo.jpg')!)).toBe(true);
  });

  it('--resize decodes the original by its bytes; the CSV names the readable original path', async () => {
    await library();
    const out = path.join(temp.dir, 'resized');
    const result = await runExport(temp.library.db, { out, format: 'csv', resizePx: 20, duplicateGroups: [] });
    expect(result.errors).toEqual([]);
    const dir = path.join(out, 'images', 'cat');
    expect(fs.readdirSync(dir).sort()).toEqual(['f\ufffdo.jpg', 'in.png', 'plain.png']);
    const meta = await sharp(path.join(dir, 'f\ufffdo.jpg')).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBe(20);
    const csv = fs.readFileSync(path.join(out, 'labels.csv'), 'utf8');
    expect(csv).toContain(`images/cat/f\ufffdo.jpg,cat,`);
    expect(csv).toContain(`${temp.photosDir}/alb\ufffdum/in.png`);
    expect(csv).not.toMatch(/[\uef80-\uefff]/);
  });

  it('--force moves a user file and folder with such names back into OUT', async () => {
    await library();
    const out = path.join(temp.dir, 'dataset');
    await runExport(temp.library.db, { out, format: 'imagefolder', duplicateGroups: [] });
    const note = bytesPath(`${out}/n`, [0xf6], 'tes.txt');
    const folder = bytesPath(`${out}/m`, [0xfc], 'll');
    fs.writeFileSync(note, 'mine');
    fs.mkdirSync(folder);
    fs.writeFileSync(Buffer.concat([folder, Buffer.from('/model.bin')]), 'weights');
    const result = await runExport(temp.library.db, { out, format: 'imagefolder', duplicateGroups: [], force: true });
    expect(result.keptAside).toBeNull();
    expect(result.kept.map((file) => nameBytes(file))).toEqual(expect.arrayContaining([note, Buffer.concat([folder, Buffer.from('/model.bin')])]));
    expect(fs.readFileSync(note, 'utf8')).toBe('mine');
    expect(fs.readFileSync(Buffer.concat([folder, Buffer.from('/model.bin')]), 'utf8')).toBe('weights');
    expect(fs.readdirSync(temp.dir).filter((name) => name.includes('looktwice-'))).toEqual([]);
  });
});
