/**
 * Bad input: each bad file appears in `failed` with its path and a specific reason, every good
 * file beside it is still ingested, and nothing crashes or hangs. (Unreadable files are tested
 * in test/cli/ingest-cli.test.ts, in a child process without root's permission bypass.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { analyseImage } from '../../core/library/analyse-image.ts';
import { FileChangedError, readAndHash } from '../../core/library/read-file.ts';
import { encodeImage, ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary();
});
afterEach(() => temp.cleanup());

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A real PNG whose header claims width×height: a decompression bomb's calling card. */
async function bombPng(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await encodeImage({ width: 8, height: 8, format: 'png', pattern: 'solid', color: [0, 0, 0] }));
  // IHDR: length(4) 'IHDR'(4) width(4) height(4) … crc(4), right after the 8-byte signature.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

async function goodFiles(count: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < count; i++) files.push(await writeImage(path.join(temp.photosDir, `good-${i}.jpg`), { width: 48, height: 32, seed: 100 + i }));
  return files;
}

const presentPaths = (): string[] => temp.library.db.prepare("SELECT path FROM files WHERE status = 'present' ORDER BY path").pluck().all() as string[];

describe('bad input', () => {
  it('zero-byte file', async () => {
    const good = await goodFiles(2);
    const bad = path.join(temp.photosDir, 'empty.jpg');
    fs.writeFileSync(bad, '');
    const report = await ingestFolder(temp);
    expect(report.failed).toEqual([{ path: bad, reason: 'empty file (0 bytes)' }]);
    expect(presentPaths()).toEqual(good);
  });

  it('truncated JPEG', async () => {
    const good = await goodFiles(2);
    const whole = await encodeImage({ width: 400, height: 300, format: 'jpeg', pattern: 'noise', seed: 1 });
    const bad = path.join(temp.photosDir, 'truncated.jpg');
    fs.writeFileSync(bad, whole.subarray(0, Math.floor(whole.length / 2)));
    const report = await ingestFolder(temp);
    expect(report.failed).toEqual([{ path: bad, reason: expect.stringMatching(/^truncated or corrupt jpeg data: .*premature end/i) }]);
    expect(presentPaths()).toEqual(good);
  });

  it('text file named .jpg', async () => {
    const good = await goodFiles(2);
    const bad = path.join(temp.photosDir, 'notes.jpg');
    fs.writeFileSync(bad, 'Shopping list:\n- milk\n- film, 36 exposures\n');
    const report = await ingestFolder(temp);
    expect(report.failed).toEqual([{ path: bad, reason: expect.stringMatching(/^not an image: .*looks like text/) }]);
    expect(presentPaths()).toEqual(good);
  });

  it('decompression bomb: refused from its header, never decoded', async () => {
    const good = await goodFiles(2);
    const bad = path.join(temp.photosDir, 'bomb.png');
    fs.writeFileSync(bad, await bombPng(60_000, 60_000)); // 3.6 gigapixels ≈ 10.8 GB of RGB if decoded
    const rssBefore = process.memoryUsage().rss;
    const report = await ingestFolder(temp);
    expect(report.failed).toEqual([{ path: bad, reason: expect.stringMatching(/60000×60000 = 3600 megapixels, over the limit of 268 megapixels .*not decoded/) }]);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    expect(presentPaths()).toEqual(good);
    // The limit is an option: a real 2000×1500 image is refused under a 1-megapixel limit.
    await expect(analyseImage(await encodeImage({ width: 2000, height: 1500, format: 'png', pattern: 'gradient' }), { maxPixels: 1e6 }))
      .rejects.toThrow(/2000×1500 = 3\.0 megapixels, over the limit of 1\.0 megapixels/);
  });

  it('unicode, emoji and very long file names are ingested and their paths kept exactly', async () => {
    const names = [
      'café crème — 日本語の写真 📷🌅.jpg',
      'Zürich 2021 (Ä Ö Ü ß) ✈️.png',
      `${'long-name-'.repeat(24)}é.jpg`, // 246 bytes: near the 255-byte limit of most file systems
      `${'😀'.repeat(60)}.webp`, // 240 bytes + extension
    ];
    const written: string[] = [];
    for (const [i, name] of names.entries()) written.push(await writeImage(path.join(temp.photosDir, 'ünïcödé 文件夹', name), { width: 40, height: 30, seed: i }));
    const report = await ingestFolder(temp);
    expect(report).toMatchObject({ added: 4, failed: [] });
    expect(presentPaths()).toEqual([...written].sort((a, b) => (a < b ? -1 : 1)));
    for (const file of presentPaths()) expect(fs.existsSync(file)).toBe(true);
    expect(await ingestFolder(temp)).toMatchObject({ unchanged: 4, added: 0 });
  });

  it('symbolic link loops are reported, not followed forever', async () => {
    const good = await goodFiles(2);
    fs.mkdirSync(path.join(temp.photosDir, 'sub'));
    const inner = await writeImage(path.join(temp.photosDir, 'sub', 'inner.jpg'), { width: 30, height: 30, seed: 7 });
    const loop = path.join(temp.photosDir, 'sub', 'back-to-top');
    fs.symlinkSync('..', loop);
    const self = path.join(temp.photosDir, 'self.jpg');
    fs.symlinkSync('self.jpg', self);
    const report = await ingestFolder(temp);
    expect(report.failed).toEqual([
      { path: self, reason: expect.stringMatching(/^symbolic link loop/) },
      { path: loop, reason: expect.stringMatching(/^symbolic link loop: it points back to .*photos, a folder above it/) },
    ]);
    expect(presentPaths()).toEqual([...good, inner]);
  });

  it('a file that changes while being read is skipped this run and ingested on the next', async () => {
    const good = await goodFiles(2);
    const growing = await writeImage(path.join(temp.photosDir, 'growing.jpg'), { width: 64, height: 64, seed: 9 });
    let appended = false;
    const report = await ingestFolder(temp, undefined, {
      // The scan has seen the file's size; a writer appends before it is read (as a camera
      // import or sync client still writing would).
      onProgress: (progress) => {
        if (progress.phase === 'ingest:process' && !appended) {
          fs.appendFileSync(growing, Buffer.alloc(1000, 0));
          appended = true;
        }
      },
    });
    expect(appended).toBe(true);
    expect(report.failed).toEqual([{ path: growing, reason: expect.stringMatching(/^the file changed while being read \(.*size \d+ → \d+ bytes\).*retried on the next run/) }]);
    expect(presentPaths()).toEqual(good);
    const next = await ingestFolder(temp);
    expect(next).toMatchObject({ added: 1, failed: [] });
    expect(temp.library.db.prepare('SELECT count(*) FROM ingest_errors').pluck().get()).toBe(0);
  });

  it('a file appended to by another process while it is being read is caught by the read itself', async () => {
    const file = path.join(temp.photosDir, 'recording.jpg');
    fs.writeFileSync(file, Buffer.alloc(64 * 1024 * 1024, 0xff)); // big enough for the read to take a while
    const writer = spawn(process.execPath, ['-e', `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(file)}, 'a'); setInterval(() => fs.writeSync(fd, 'x'), 1);`], { stdio: 'ignore' });
    try {
      const initialSize = fs.statSync(file).size;
      while (fs.statSync(file).size === initialSize) await new Promise((resolve) => setTimeout(resolve, 5));
      const stat = fs.statSync(file);
      await expect(readAndHash(file, { size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs) })).rejects.toBeInstanceOf(FileChangedError);
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('a folder that does not exist is reported; the other folders are still ingested', async () => {
    const good = await goodFiles(2);
    const nowhere = path.join(temp.dir, 'no such folder');
    const report = await ingestFolder(temp, [nowhere, temp.photosDir]);
    expect(report.failed).toEqual([{ path: nowhere, reason: 'folder does not exist' }]);
    expect(report.roots).toEqual([{ path: nowhere, exists: false }, { path: temp.photosDir, exists: true }]);
    expect(presentPaths()).toEqual(good);
    // A folder that vanished (unmounted drive?) does not mark its files missing.
    const alone = await ingestFolder(temp, [nowhere]);
    expect(alone).toMatchObject({ missing: 0, failed: [{ path: nowhere, reason: 'folder does not exist' }] });
  });

  it('FIFOs, sockets and broken links named like images; a folder named x.jpg is walked', async () => {
    const good = await goodFiles(1);
    const fifo = path.join(temp.photosDir, 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    const broken = path.join(temp.photosDir, 'broken.jpg');
    fs.symlinkSync('does-not-exist.jpg', broken);
    const inFolder = await writeImage(path.join(temp.photosDir, 'album.jpg', 'inside.png'), { width: 20, height: 20, seed: 3 });
    const report = await ingestFolder(temp);
    expect(report.failed).toEqual([
      { path: broken, reason: 'broken symbolic link: its target does not exist' },
      { path: fifo, reason: 'a FIFO (named pipe), not an image file' },
    ]);
    expect(presentPaths()).toEqual([inFolder, ...good]);
  });
});
