/**
 * Security and wire format of `looktwice serve`'s HTTP transport, against the real service on a
 * real library (real SQLite, real sharp thumbnails) and a real socket: the token is required
 * everywhere, other origins and hosts are refused, thumbnails resolve by content hash only.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import { decodeWire, encodeWire, startServer, type RunningServer } from '../../core/api/http-server.ts';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

let temp: TempLibrary;
let service: LooktwiceService;
let server: RunningServer;
let rendererDir: string;
let imageHash: string;

beforeAll(async () => {
  temp = tempLibrary('looktwice-http-');
  temp.library.close();
  await writeImage(path.join(temp.photosDir, 'a.jpg'), { width: 64, height: 48, pattern: 'shapes', seed: 1 });
  await writeImage(path.join(temp.photosDir, 'b.png'), { width: 64, height: 48, pattern: 'shapes', seed: 2 });
  rendererDir = path.join(temp.dir, 'renderer-dist');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Looktwice</title>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(temp.dir, 'secret.txt'), 'do not serve me');
  service = LooktwiceService.open(temp.dbPath);
  const { job } = await service.addFolder({ path: temp.photosDir });
  const done = await service.jobs.wait(job.jobId);
  expect(done.status).toBe('completed');
  const page = await service.listImages({});
  expect(page.total).toBe(2);
  imageHash = page.items[0]!.hash;
  server = await startServer({ api: service, rendererDir, port: 0 });
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  temp?.cleanup();
});

const json = { 'content-type': 'application/json' };

describe('looktwice serve: access token', () => {
  it('binds to 127.0.0.1 and prints a URL carrying a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/[0-9a-f]{32}\/\?token=[0-9a-f]{64}$/);
    expect(server.url).toContain(server.appPath);
  });

  it('refuses every kind of request without the token', async () => {
    const targets = ['/', '/index.html', '/assets/app.js', `/thumbnails/${imageHash}`, `/images/${imageHash}`, '/api/events'];
    for (const target of [...targets, ...targets.map((t) => `${server.appPath}${t.slice(1)}`)]) {
      const reply = await request(server.port, { path: target });
      expect(reply.status, target).toBe(401);
    }
    const call = await request(server.port, { method: 'POST', path: '/api/getLibrary', headers: json, body: '' });
    expect(call.status).toBe(401);
    expect(call.body).not.toContain(temp.dbPath);
  });

  it('refuses a wrong token of the same length', async () => {
    const wrong = server.token.replace(/./, (c) => (c === 'a' ? 'b' : 'a'));
    const reply = await request(server.port, { method: 'POST', path: '/api/getLibrary', headers: { ...json, 'x-looktwice-token': wrong }, body: '' });
    expect(reply.status).toBe(401);
  });

  it('serves the page with the token and sets an HttpOnly SameSite cookie that then works alone', async () => {
    const page = await request(server.port, { path: `${server.appPath}?token=${server.token}` });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Looktwice</title>');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const pair = cookie.split(';')[0]!;
    const call = await request(server.port, { method: 'POST', path: `${server.appPath}api/getLibrary`, headers: { ...json, cookie: pair }, body: '' });
    expect(call.status).toBe(200);
    const body = JSON.parse(call.body) as { result: { images: number } };
    expect(body.result.images).toBe(2);
  });

  it("confines the cookie to this server: named after its port, on the app's own random path only", async () => {
    // Browsers send a host's cookies to all its ports: a cookie on "/" would reach any other
    // local server, and a second serve on another port would overwrite it.
    const page = await request(server.port, { path: `${server.appPath}?token=${server.token}` });
    const cookie = String(page.headers['set-cookie']);
    expect(cookie.split(';')[0]).toBe(`looktwice_token_${server.port}=${server.token}`);
    expect(cookie).toContain(`Path=${server.appPath}`);
    // Outside the app's path the cookie is no credential.
    const outside = await request(server.port, { method: 'POST', path: '/api/getLibrary', headers: { ...json, cookie: cookie.split(';')[0]! }, body: '' });
    expect(outside.status).toBe(401);
    // The old address form (token at the root) leads to the app's path.
    const root = await request(server.port, { path: `/?token=${server.token}` });
    expect(root.status).toBe(303);
    expect(root.headers.location).toBe(server.appPath);
    expect(String(root.headers['set-cookie'])).toContain(`Path=${server.appPath}`);
  });
});

describe('looktwice serve: origins and hosts', () => {
  const auth = (): Record<string, string> => ({ ...json, 'x-looktwice-token': server.token });

  it('refuses a call from another origin even with the token', async () => {
    const reply = await request(server.port, { method: 'POST', path: '/api/createClass', headers: { ...auth(), origin: 'http://evil.example' }, body: '{"name":"x"}' });
    expect(reply.status).toBe(403);
    expect(await service.listClasses()).toEqual([]);
  });

  it('refuses cross-site fetch metadata', async () => {
    const reply = await request(server.port, { method: 'POST', path: '/api/getLibrary', headers: { ...auth(), 'sec-fetch-site': 'cross-site' }, body: '' });
    expect(reply.status).toBe(403);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const reply = await request(server.port, { path: `/?token=${server.token}`, headers: { host: `evil.example:${server.port}` } });
    expect(reply.status).toBe(421);
  });

  it('accepts its own origin', async () => {
    const reply = await request(server.port, { method: 'POST', path: '/api/getLibrary', headers: { ...auth(), origin: server.origin }, body: '' });
    expect(reply.status).toBe(200);
  });

  it('accepts only JSON POSTs to known methods', async () => {
    expect((await request(server.port, { method: 'POST', path: '/api/createClass', headers: { 'x-looktwice-token': server.token, 'content-type': 'text/plain' }, body: '{"name":"x"}' })).status).toBe(415);
    expect((await request(server.port, { path: '/api/getLibrary', headers: { 'x-looktwice-token': server.token } })).status).toBe(405);
    expect((await request(server.port, { method: 'POST', path: '/api/constructor', headers: auth(), body: '' })).status).toBe(404);
    expect((await request(server.port, { method: 'POST', path: '/api/__proto__', headers: auth(), body: '' })).status).toBe(404);
    const bad = await request(server.port, { method: 'POST', path: '/api/getImage', headers: auth(), body: '{"imageId":"1 OR 1"}' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: { code: 'invalid', message: expect.stringContaining('imageId') } });
  });
});

describe('looktwice serve: files by content hash only', () => {
  const get = (target: string): Promise<Reply> => request(server.port, { path: target, headers: { 'x-looktwice-token': server.token } });

  it('serves a thumbnail by its content hash', async () => {
    const reply = await get(`/thumbnails/${imageHash}`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('image/webp');
  });

  it('refuses anything that is not a lowercase hex hash', async () => {
    for (const target of ['/thumbnails/..%2F..%2F..%2Fetc%2Fpasswd', '/thumbnails/../../secret.txt', `/thumbnails/${imageHash.toUpperCase()}`, '/thumbnails/abc.webp', '/images/..%2Fsecret.txt', '/thumbnails/%2e%2e']) {
      const reply = await get(target);
      // The URL parser folds dot segments first ("/thumbnails/%2e%2e" is "/"): then the page is served.
      if (reply.status === 200) expect(reply.body, target).toContain('<title>Looktwice</title>');
      else expect([303, 400, 404], target).toContain(reply.status);
      expect(reply.body).not.toContain('do not serve me');
      expect(reply.body).not.toContain('root:');
    }
    expect((await get('/thumbnails/0123456789abcdef')).status).toBe(404);
  });

  it('refuses a thumbnail row that points outside the thumbnail folder', async () => {
    // A tampered database must not turn the thumbnail route into a file reader.
    const imageId = (await service.listImages({})).items[0]!.id;
    service.library.db.prepare('UPDATE thumbnails SET relpath = ? WHERE image_id = ?').run('../secret.txt', imageId);
    const hash = (await service.getImage({ imageId })).hash;
    expect(await service.thumbnailFile(hash)).toBeNull();
    const reply = await get(`/thumbnails/${hash}`);
    expect(reply.status).toBe(404);
    expect(reply.body).not.toContain('do not serve me');
  });

  it('never serves files outside the renderer folder', async () => {
    for (const target of ['/..%2Fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2F..%2Fsecret.txt', '/..%5Csecret.txt']) {
      const reply = await get(`${server.appPath}${target.slice(1)}`);
      expect(reply.body, target).not.toContain('do not serve me');
    }
  });
});

describe('looktwice serve: wire format and events', () => {
  it('round-trips Float32Array as base64', () => {
    const vector = new Float32Array([1.5, -2.25, 0, 3.4028234663852886e38]);
    const decoded = decodeWire(encodeWire({ coords: vector, other: [1, 2] })) as { coords: Float32Array; other: number[] };
    expect(decoded.coords).toBeInstanceOf(Float32Array);
    expect([...decoded.coords]).toEqual([...vector]);
    expect(decoded.other).toEqual([1, 2]);
  });

  it('streams events over SSE to a client with the token', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: '/api/events', headers: { 'x-looktwice-token': server.token } }, (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('event: libraryChanged')) {
            req.destroy();
            resolve(text);
          }
        });
        void service.createClass({ name: 'cats' });
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toMatch(/event: libraryChanged\ndata: \{"what":\["labels"\]\}/);
  });
});
