/**
 * `/images/<hash>` serves a file only while it still holds what was catalogued — over HTTP
 * (`looktwice serve`) and through the desktop app's protocol handler (the real engine binding
 * and electron/protocol.ts, without Electron). A file replaced by other bytes or by a link to a
 * text file is refused with the reason, never sent as image/jpeg; a touched file with the same
 * bytes, or another copy of the same image, is still served. Real library, real socket.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { servedLibrary, type ServedLibrary, type TempLibrary } from '../helpers/index.ts';
import type { LooktwiceService } from '../../core/api/service.ts';
import type { RunningServer } from '../../core/api/http-server.ts';
import { createLooktwiceEngine, type EngineInternals } from '../../electron/engine/looktwice-engine.ts';
import { handleRequest } from '../../electron/protocol.ts';

let served: ServedLibrary;
let temp: TempLibrary;
let service: LooktwiceService;
let server: RunningServer;
let photo: string;
let original: Buffer;
let hash: string;

beforeEach(async () => {
  served = await servedLibrary('looktwice-originals-', { 'a.jpg': { width: 64, height: 48, pattern: 'shapes', seed: 1 } });
  ({ temp, service, server } = served);
  photo = path.join(temp.photosDir, 'a.jpg');
  original = fs.readFileSync(photo);
  fs.writeFileSync(path.join(temp.dir, 'notes.txt'), 'private notes, not a photo\n');
  hash = (await service.listImages({})).items[0]!.hash;
});

afterEach(async () => {
  await served?.close();
});

async function get(route: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const reply = await fetch(`${server.origin}${route}`, { headers: { 'x-looktwice-token': server.token } });
  return { status: reply.status, type: reply.headers.get('content-type'), body: Buffer.from(await reply.arrayBuffer()) };
}

describe('/images/<hash> over HTTP', () => {
  it('serves the unchanged original, also after its modification time alone changed', async () => {
    expect(await get(`/images/${hash}`)).toMatchObject({ status: 200, type: 'image/jpeg', body: original });
    fs.utimesSync(photo, new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(await get(`/images/${hash}`)).toMatchObject({ status: 200, type: 'image/jpeg', body: original });
  });

  it('refuses a file replaced by a link to a text file, with the reason', async () => {
    fs.rmSync(photo);
    fs.symlinkSync(path.join(temp.dir, 'notes.txt'), photo);
    const reply = await get(`/images/${hash}`);
    expect(reply.status).toBe(409);
    expect(reply.type).not.toMatch(/^image\//);
    expect(reply.body.toString()).not.toContain('private notes');
    expect(JSON.parse(reply.body.toString())).toMatchObject({ error: { message: expect.stringMatching(/a\.jpg changed since it was catalogued/) } });
  });

  it('refuses other bytes of the same size in its place', async () => {
    const other = Buffer.from(original);
    other[other.length - 3] = other[other.length - 3]! ^ 0xff;
    fs.writeFileSync(photo, other);
    const reply = await get(`/images/${hash}`);
    expect(reply.status).toBe(409);
    expect(JSON.parse(reply.body.toString())).toMatchObject({ error: { message: expect.stringContaining('different content') } });
  });

  it('serves another unchanged copy of the same image when the first one changed', async () => {
    const copy = path.join(temp.photosDir, 'b-copy.jpg');
    fs.copyFileSync(photo, copy);
    expect((await service.jobs.wait((await service.scanFolders()).jobId)).status).toBe('completed');
    fs.writeFileSync(photo, 'not a jpeg any more');
    expect(await get(`/images/${hash}`)).toMatchObject({ status: 200, type: 'image/jpeg', body: original });
  });

  it('does not make a thumbnail from a replaced original', async () => {
    fs.rmSync(path.join(temp.library.dataDir, 'thumbnails'), { recursive: true });
    fs.rmSync(photo);
    fs.symlinkSync(path.join(temp.dir, 'notes.txt'), photo);
    expect((await get(`/thumbnails/${hash}`)).status).toBe(404);
  });
});

describe('looktwice://app/images/<hash> in the desktop app', () => {
  it('sends the checked bytes, and refuses a replaced file with 409 and the reason', async () => {
    await server.close();
    await service.close();
    const engine = createLooktwiceEngine(temp.dbPath);
    try {
      const internal = engine.internal as unknown as EngineInternals;
      const roots = { rendererDir: served.rendererDir, media: { thumbnail: internal.thumbnail, image: internal.image } };
      const good = await handleRequest(new Request(`looktwice://app/images/${hash}`), roots);
      expect(good.status).toBe(200);
      expect(good.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.from(await good.arrayBuffer()).equals(original)).toBe(true);

      fs.rmSync(photo);
      fs.symlinkSync(path.join(temp.dir, 'notes.txt'), photo);
      const refusals: string[] = [];
      const bad = await handleRequest(new Request(`looktwice://app/images/${hash}`), roots, (_url, status, why) => refusals.push(`${status} ${why}`));
      expect(bad.status).toBe(409);
      expect(bad.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await bad.text()).toMatch(/changed since it was catalogued/);
      expect(refusals).toEqual([expect.stringMatching(/^409 /)]);
    } finally {
      engine.close();
    }
  });
});
