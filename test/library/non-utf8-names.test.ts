/**
 * File names that are not valid UTF-8 (Linux names are bytes): they are ingested, their paths
 * kept losslessly (core/common/file-name-bytes.ts), a rescan sees them unchanged, and the
 * original is found again from the stored path (full image and regenerated thumbnail).
 * Real files made with Buffer paths, the real ingest, the real service.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fsPath, nameBytes, nameFromBytes } from '../../core/common/file-name-bytes.ts';
import { imageFile, thumbnailFile } from '../../core/app/library.ts';
import { encodeImage, ingestFolder, tempLibrary, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary();
});
afterEach(() => temp.cleanup());

const bytesPath = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('lossless names', () => {
  it('round-trips any bytes, and leaves valid UTF-8 names unchanged', () => {
    for (const name of ['plain.jpg', 'café-日本-🎉.jpg', 'x\uef80y\uefff.jpg']) expect(nameFromBytes(nameBytes(name))).toBe(name);
    expect(nameFromBytes(Buffer.from('café.jpg'))).toBe('café.jpg');
    const samples = [[0x66, 0xff, 0x6f], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xee, 0xbe, 0x80], [0xe2, 0x82, 0xac, 0xfe]];
    for (const raw of samples) expect([...nameBytes(nameFromBytes(Buffer.from(raw)))]).toEqual(raw);
    // Every byte pair, exhaustively.
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) expect(nameBytes(nameFromBytes(Buffer.from([a, b]))).equals(Buffer.from([a, b]))).toBe(true);
  });
});

describe('ingest of names that are not UTF-8', () => {
  it('catalogues them, rescans them as unchanged, and finds the original again by its stored path', async () => {
    const jpeg = await encodeImage({ width: 48, height: 40, pattern: 'shapes', seed: 3, format: 'jpeg' });
    const png = await encodeImage({ width: 48, height: 40, pattern: 'shapes', seed: 4, format: 'png' });
    const base = `${temp.photosDir}/`;
    const file = bytesPath(base, 'f', [0xff], 'o.jpg');
    const folder = bytesPath(base, 'alb', [0xe9], 'um');
    fs.writeFileSync(file, jpeg);
    fs.mkdirSync(folder);
    fs.writeFileSync(Buffer.concat([folder, Buffer.from('/in.png')]), png);

    const first = await ingestFolder(temp);
    expect(first.failed).toEqual([]);
    expect(first.added).toBe(2);
    const stored = temp.library.db.prepare("SELECT path FROM files WHERE status = 'present' ORDER BY path").pluck().all() as string[];
    expect(stored.map((p) => nameBytes(p))).toEqual([Buffer.concat([folder, Buffer.from('/in.png')]), file]);
    expect(fs.readFileSync(fsPath(stored[1]!)).equals(jpeg)).toBe(true);

    const second = await ingestFolder(temp);
    expect(second).toMatchObject({ added: 0, updated: 0, missing: 0, unchanged: 2, failed: [] });

    const hash = temp.library.db.prepare('SELECT i.content_hash FROM images i JOIN files f ON f.image_id = i.id WHERE f.path = ?').pluck().get(stored[1]) as string;
    const served = await imageFile(temp.library, hash);
    expect(served && 'bytes' in served && served.bytes.equals(jpeg)).toBe(true);
    // A thumbnail made again from the original behind a byte name.
    fs.rmSync(path.join(temp.library.dataDir, 'thumbnails'), { recursive: true });
    const thumbnail = await thumbnailFile(temp.library, hash);
    expect(thumbnail && fs.existsSync(thumbnail)).toBe(true);
  });
});
