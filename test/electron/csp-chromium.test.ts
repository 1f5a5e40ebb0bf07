// The real renderer build under the app's Content-Security-Policy, in real Chromium: the page must
// start with no CSP violation, load thumbnails by content hash, and the policy must actually block
// inline script and remote content. The files and headers come from electron/protocol.ts's
// handleRequest, reached over a loopback HTTP server standing in for Electron's protocol.handle
// (same Request → Response function; only the scheme differs, and 'self' means "this origin" in both).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { handleRequest, type ProtocolRoots } from '../../electron/protocol.ts';

const ROOT = path.resolve('.');
const WORK = path.join(os.tmpdir(), `looktwice-csp-${process.pid}`);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HASH = '0123456789abcdef'.repeat(4);

let server: http.Server;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  const rendererDir = path.join(WORK, 'renderer');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--outDir', rendererDir, '--logLevel', 'error'], { cwd: ROOT, stdio: 'pipe' });
  const thumbnail = path.join(WORK, `${HASH}.webp`);
  await sharp({ create: { width: 24, height: 16, channels: 3, background: '#4fd1c5' } }).webp().toFile(thumbnail);
  const roots: ProtocolRoots = {
    rendererDir,
    media: {
      thumbnail: async (hash) => (hash === HASH ? { filePath: thumbnail } : null),
      image: async () => null,
    },
  };
  server = http.createServer((request, response) => {
    void (async () => {
      const answer = await handleRequest(new Request(`looktwice://app${request.url ?? '/'}`, { method: request.method }), roots);
      response.writeHead(answer.status, Object.fromEntries(answer.headers));
      if (answer.body) Readable.fromWeb(answer.body as import('node:stream/web').ReadableStream).pipe(response);
      else response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  fs.rmSync(WORK, { recursive: true, force: true });
});

describe('the renderer under the app CSP (Chromium)', () => {
  it('starts without violations, shows thumbnails by hash, and blocks inline script and remote content', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Browser-side code as strings: this project type-checks without the DOM library.
    await page.addInitScript({
      content: `window.violations = [];
        document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.effectiveDirective + ' ' + event.blockedURI));`,
    });
    const response = await page.goto(`${origin}/index.html`);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    // The Svelte app mounted (its own script and stylesheet were allowed).
    await page.waitForFunction("(document.getElementById('app')?.childElementCount ?? 0) > 0", undefined, { timeout: 30_000 });
    expect(await page.evaluate('[...window.violations]')).toEqual([]);

    const outcome = (await page.evaluate(`(async (hash) => {
      const load = (src) => new Promise((resolve) => {
        const image = new Image();
        image.onload = () => resolve(image.naturalWidth);
        image.onerror = () => resolve(-1);
        image.src = src;
      });
      const thumbnailWidth = await load('thumbnails/' + hash);
      const remoteWidth = await load('https://example.com/tracker.png');
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true;';
      document.body.appendChild(script);
      let evalBlocked = false;
      try { new Function('return 1')(); } catch { evalBlocked = true; }
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { thumbnailWidth, remoteWidth, inlineRan: window.inlineRan === true, evalBlocked, violations: [...window.violations] };
    })(${JSON.stringify(HASH)})`)) as { thumbnailWidth: number; remoteWidth: number; inlineRan: boolean; evalBlocked: boolean; violations: string[] };
    expect(outcome.thumbnailWidth).toBe(24);
    expect(outcome.remoteWidth).toBe(-1);
    expect(outcome.inlineRan).toBe(false);
    expect(outcome.evalBlocked).toBe(true);
    expect(outcome.violations).toEqual(expect.arrayContaining(['img-src https://example.com/tracker.png', 'script-src-elem inline']));
    expect(pageErrors.filter((message) => /Content Security Policy/i.test(message))).toEqual([]);
    await page.close();
  });
});
