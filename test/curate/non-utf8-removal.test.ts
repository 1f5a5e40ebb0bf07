/**
 * Finding and removing duplicates whose names are not valid UTF-8 (Linux names are bytes, kept
 * losslessly in the catalogue: core/common/file-name-bytes.ts): pixel features and the
 * same-pixels check decode the originals by their bytes, apply moves
 * them to the freedesktop trash (the trash file keeps the name's bytes, the .trashinfo Path=
 * percent-encodes them) or a quarantine folder, across file systems too, and undo puts the same
 * bytes back under the same name. Real files made with Buffer paths, the real ingest, search,
 * apply and undo.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findDuplicateGroups } from '../../core/curate/duplicates.ts';
import { applyRemovals, undoLastApply } from '../../core/curate/dedup.service.ts';
import { nameBytes } from '../../core/common/file-name-bytes.ts';
import sharp from 'sharp';
import { encodeImage, ingestFolder, tempLibrary, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary('looktwice-bytes-removal-');
});
afterEach(() => temp.cleanup());

const bytesPath = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((part) => Buffer.from(part)));

/** A photo and two exact copies: one under a byte name, one in a byte-named folder. */
async function library(): Promise<{ jpeg: Buffer; copies: Buffer[] }> {
  const jpeg = await encodeImage({ width: 64, height: 48, pattern: 'shapes', seed: 7, format: 'jpeg' });
  fs.writeFileSync(path.join(temp.photosDir, 'a.jpg'), jpeg);
  const byteName = bytesPath(`${temp.photosDir}/b`, [0xff, 0xfe], ' copy.jpg');
  const folder = bytesPath(`${temp.photosDir}/alb`, [0xe9], 'um');
  fs.writeFileSync(byteName, jpeg);
  fs.mkdirSync(folder);
  const nested = Buffer.concat([folder, Buffer.from('/c.jpg')]);
  fs.writeFileSync(nested, jpeg);
  fs.utimesSync(byteName, new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  expect((await ingestFolder(temp)).added).toBe(3);
  return { jpeg, copies: [byteName, nested] };
}

/** Percent-encoding of bytes as the trash specification wants it (RFC 2396, '/' kept). */
function percentEncoded(bytes: Buffer): string {
  return [...bytes].map((b) => (/[A-Za-z0-9_.!~*'()/-]/.test(String.fromCharCode(b)) && b < 0x80 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

describe('duplicates among names that are not UTF-8', () => {
  it('decodes the originals: features without thumbnails, and the same pixels in another container', async () => {
    const png = await encodeImage({ width: 64, height: 48, pattern: 'shapes', seed: 8, format: 'png' });
    fs.writeFileSync(path.join(temp.photosDir, 'a.png'), png);
    const webp = bytesPath(`${temp.photosDir}/a`, [0xff], '.webp');
    fs.writeFileSync(webp, await sharp(png).webp({ lossless: true }).toBuffer());
    fs.writeFileSync(bytesPath(`${temp.photosDir}/other`, [0xfe], '.png'), await encodeImage({ width: 64, height: 48, pattern: 'shapes', seed: 9, format: 'png' }));
    expect((await ingestFolder(temp)).added).toBe(3);
    // No data folder: every feature comes from the original file.
    const groups = await findDuplicateGroups(temp.library.db);
    const errors = temp.library.db.prepare('SELECT error FROM curate_features').pluck().all();
    expect(errors).toEqual([null, null, null]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.kind).toBe('exact'); // pixel-identical: the pixel hash read both files
    expect(groups[0]!.members.map((m) => nameBytes(m)).sort(Buffer.compare)).toEqual([Buffer.from(path.join(temp.photosDir, 'a.png')), webp].sort(Buffer.compare));
  });
});

describe('removal of names that are not UTF-8', () => {
  it('finds the copies, moves them to the trash with their bytes and .trashinfo, and undo puts them back', async () => {
    const { jpeg, copies } = await library();
    const groups = await findDuplicateGroups(temp.library.db, { dataDir: temp.library.dataDir });
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ kind: 'exact', keep: path.join(temp.photosDir, 'a.jpg') });
    expect(groups[0]!.members.slice(1).map((m) => nameBytes(m)).sort(Buffer.compare)).toEqual([...copies].sort(Buffer.compare));
    const mtimeBefore = fs.statSync(copies[0]!).mtimeMs;

    const env = { ...process.env, XDG_DATA_HOME: path.join(temp.dir, 'xdg') };
    const applied = applyRemovals(temp.library.db, groups, { method: 'trash', env, platform: 'linux' });
    expect(applied.errors).toEqual([]);
    expect(applied.moved).toHaveLength(2);
    const trash = path.join(temp.dir, 'xdg', 'Trash');
    for (const copy of copies) expect(fs.existsSync(copy)).toBe(false);
    // In the trash under the same bytes, with the .trashinfo a file manager restores from.
    const trashed = fs.readdirSync(path.join(trash, 'files'), { encoding: 'buffer' }).sort(Buffer.compare);
    expect(trashed).toEqual([Buffer.from('c.jpg'), bytesPath('b', [0xff, 0xfe], ' copy.jpg')].sort(Buffer.compare));
    for (const name of trashed) {
      expect(fs.readFileSync(Buffer.concat([Buffer.from(`${trash}/files/`), name])).equals(jpeg)).toBe(true);
      const info = fs.readFileSync(Buffer.concat([Buffer.from(`${trash}/info/`), name, Buffer.from('.trashinfo')]), 'utf8');
      const original = copies.find((copy) => copy.subarray(copy.length - name.length).equals(name))!;
      expect(info).toContain(`\nPath=${percentEncoded(original)}\n`);
    }
    expect(fs.readFileSync(path.join(trash, 'info', 'c.jpg.trashinfo'), 'utf8')).toContain('/alb%E9um/c.jpg\n');

    const undone = undoLastApply(temp.library.db);
    expect(undone.errors).toEqual([]);
    expect(undone.restored).toHaveLength(2);
    for (const copy of copies) expect(fs.readFileSync(copy).equals(jpeg)).toBe(true);
    expect(fs.statSync(copies[0]!).mtimeMs).toBe(mtimeBefore);
    expect(fs.readdirSync(path.join(trash, 'files'))).toEqual([]);
    expect(fs.readdirSync(path.join(trash, 'info'))).toEqual([]);
    const present = temp.library.db.prepare("SELECT path FROM files WHERE status = 'present'").pluck().all() as string[];
    expect(present.map((p) => nameBytes(p))).toEqual(expect.arrayContaining(copies));
  });

  it('quarantine on another file system and back keeps bytes, name and modification time', async () => {
    const { jpeg, copies } = await library();
    // /dev/shm is a tmpfs on Linux: a move there is a copy across devices.
    const shm = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(temp.dir).dev ? '/dev/shm' : os.tmpdir();
    const quarantine = fs.mkdtempSync(path.join(shm, 'looktwice-quarantine-'));
    try {
      const mtimeBefore = fs.statSync(copies[0]!).mtimeMs;
      const groups = await findDuplicateGroups(temp.library.db, { dataDir: temp.library.dataDir });
      const applied = applyRemovals(temp.library.db, groups, { method: 'quarantine', quarantineDir: quarantine });
      expect(applied.errors).toEqual([]);
      const held = fs.readdirSync(quarantine, { encoding: 'buffer' }).sort(Buffer.compare);
      expect(held).toEqual([Buffer.from('c.jpg'), bytesPath('b', [0xff, 0xfe], ' copy.jpg')].sort(Buffer.compare));
      for (const name of held) expect(fs.readFileSync(Buffer.concat([Buffer.from(`${quarantine}/`), name])).equals(jpeg)).toBe(true);
      const undone = undoLastApply(temp.library.db);
      expect(undone.errors).toEqual([]);
      for (const copy of copies) expect(fs.readFileSync(copy).equals(jpeg)).toBe(true);
      expect(fs.statSync(copies[0]!).mtimeMs).toBe(mtimeBefore);
      expect(fs.readdirSync(quarantine)).toEqual([]);
    } finally {
      fs.rmSync(quarantine, { recursive: true, force: true });
    }
  });
});
