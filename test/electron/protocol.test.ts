// The looktwice://app protocol: renderer files confined to their folder, media by content hash
// only. Real files in a temporary folder, real Request/Response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { handleRequest, resolveRequest, safeSegments, type ProtocolRoots } from '../../electron/protocol.ts';

const HASH = 'a'.repeat(64);
const OTHER_HASH = 'b'.repeat(64);
let dir: string;
let symlinksUnsupported = false;
let roots: ProtocolRoots;
const lookups: string[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-protocol-'));
  const renderer = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Looktwice</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'app-1234.js'), 'console.log(1)');
  fs.writeFileSync(path.join(renderer, 'assets', 'space name.css'), 'body{}');
  fs.writeFileSync(path.join(renderer, '.env'), 'SECRET=1');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'not for the page');
  try {
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(renderer, 'assets', 'link.txt'));
  } catch (error) {
    // Windows without the symlink privilege: the escape cannot be set up, so nothing to refuse.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM' || process.platform !== 'win32') throw error;
    symlinksUnsupported = true;
  }
  fs.mkdirSync(path.join(dir, 'thumbs'));
  fs.writeFileSync(path.join(dir, 'thumbs', `${HASH}.webp`), Buffer.from([0x52, 0x49, 0x46, 0x46]));
  fs.writeFileSync(path.join(dir, 'photo.JPG'), Buffer.from([0xff, 0xd8, 0xff]));
  roots = {
    rendererDir: renderer,
    media: {
      thumbnail: async (hash) => {
        lookups.push(`thumbnail:${hash}`);
        return hash === HASH ? { filePath: path.join(dir, 'thumbs', `${hash}.webp`) } : null;
      },
      image: async (hash) => {
        lookups.push(`image:${hash}`);
        if (hash === OTHER_HASH) return { filePath: path.join(dir, 'gone.jpg') };
        return hash === HASH ? { filePath: path.join(dir, 'photo.JPG'), mimeType: 'image/jpeg' } : null;
      },
    },
  };
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('safeSegments', () => {
  it.each([
    ['/assets/app.js', ['assets', 'app.js']],
    ['/', []],
    ['/assets/space%20name.css', ['assets', 'space name.css']],
  ])('splits %s', (input, expected) => {
    expect(safeSegments(input)).toEqual(expected);
  });

  it.each(['/../secret.txt', '/assets/..', '/%2e%2e/secret.txt', '/assets%2F..%2Fsecret', '/a%5c..%5csecret', '/a//b', '/%00', '/%zz', '/.env', '/C:%5cWindows'])(
    'refuses %s',
    (input) => {
      expect(typeof safeSegments(input)).toBe('string');
    },
  );
});

describe('resolveRequest', () => {
  it('serves index.html for the root and files of the renderer', async () => {
    expect(await resolveRequest('GET', 'looktwice://app/', roots)).toMatchObject({ kind: 'file', filePath: fs.realpathSync(path.join(roots.rendererDir, 'index.html')), mimeType: 'text/html; charset=utf-8' });
    expect(await resolveRequest('GET', 'looktwice://app/assets/app-1234.js?v=1#x', roots)).toMatchObject({ kind: 'file', mimeType: 'text/javascript; charset=utf-8' });
    expect(await resolveRequest('HEAD', 'looktwice://app/assets/space%20name.css', roots)).toMatchObject({ kind: 'file', mimeType: 'text/css; charset=utf-8' });
  });

  it.each([
    // URL parsing folds ../ and %2e%2e/ away (→ /secret.txt, not in the renderer); encoded
    // separators survive parsing and must be refused by us.
    ['looktwice://app/../secret.txt', 404],
    ['looktwice://app/%2e%2e/secret.txt', 404],
    ['looktwice://app/assets%2f..%2f..%2fsecret.txt', 400],
    ['looktwice://app/assets/link.txt', 403],
    ['looktwice://app/.env', 400],
    ['looktwice://app/missing.js', 404],
    ['looktwice://app/assets', 404],
    ['looktwice://thumbnails/' + HASH, 404],
    ['looktwice://other/index.html', 404],
  ])('refuses %s', async (url, status) => {
    if (url.endsWith('link.txt') && symlinksUnsupported) return;
    const resolution = await resolveRequest('GET', url, roots);
    expect(resolution).toMatchObject({ kind: 'refused', status });
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect(await resolveRequest('POST', 'looktwice://app/index.html', roots)).toMatchObject({ kind: 'refused', status: 405 });
  });

  it('resolves thumbnails and images by content hash through the library lookup', async () => {
    expect(await resolveRequest('GET', `looktwice://app/thumbnails/${HASH}`, roots)).toMatchObject({ kind: 'file', mimeType: 'image/webp', cache: 'media' });
    expect(await resolveRequest('GET', `looktwice://app/images/${HASH}`, roots)).toMatchObject({ kind: 'file', mimeType: 'image/jpeg' });
    expect(await resolveRequest('GET', `looktwice://app/thumbnails/${'c'.repeat(64)}`, roots)).toMatchObject({ kind: 'refused', status: 404 });
    expect(await resolveRequest('GET', `looktwice://app/images/${OTHER_HASH}`, roots)).toMatchObject({ kind: 'refused', status: 404, reason: /missing/ });
  });

  it('never consults the library for anything but a well-formed hash', async () => {
    lookups.length = 0;
    for (const bad of ['..%2f..%2fsecret.txt', 'ABCDEF0123456789', 'abc', `${HASH}/x`, `${HASH}.webp`, '%2fetc%2fpasswd', '']) {
      const resolution = await resolveRequest('GET', `looktwice://app/thumbnails/${bad}`, roots);
      expect(resolution, bad).toMatchObject({ kind: 'refused' });
      expect([400, 404]).toContain((resolution as { status: number }).status);
    }
    expect(await resolveRequest('GET', `looktwice://app/images/${HASH}/../../secret.txt`, roots)).toMatchObject({ kind: 'refused' });
    expect(lookups).toEqual([]);
  });
});

describe('handleRequest', () => {
  it('streams the file with its type, length and the security headers', async () => {
    const response = await handleRequest(new Request('looktwice://app/index.html'), roots);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await response.text()).toBe('<!doctype html><title>Looktwice</title>');
  });

  it('sends the thumbnail bytes for a known hash', async () => {
    const response = await handleRequest(new Request(`looktwice://app/thumbnails/${HASH}`), roots);
    expect(response.headers.get('cache-control')).toContain('max-age');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array([0x52, 0x49, 0x46, 0x46]));
  });

  it.skipIf(process.platform === 'win32')('answers refusals with the status and reason, and reports them', async () => {
    const refused: string[] = [];
    const response = await handleRequest(new Request('looktwice://app/assets/link.txt'), roots, (url, status) => refused.push(`${status} ${url}`));
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/outside the app/);
    expect(refused).toEqual(['403 looktwice://app/assets/link.txt']);
  });

  it('answers HEAD without a body', async () => {
    const response = await handleRequest(new Request('looktwice://app/index.html', { method: 'HEAD' }), roots);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String('<!doctype html><title>Looktwice</title>'.length));
    expect(await response.text()).toBe('');
  });
});
