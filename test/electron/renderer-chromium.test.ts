// The real renderer build in real Chromium, the two ways the desktop app serves it:
// 1. under the app's Content-Security-Policy: no violation at start, thumbnails load by content
//    hash, inline script / eval / remote content are blocked;
// 2. in Electron mode: the real preload bundle (dist-electron/preload.cjs) builds
//    `window.looktwice`, whose calls go through the real IPC handlers (electron/ipc.ts) to the
//    real engine process on a real library; the screens show that library, ask for thumbnails
//    by looktwice://app/thumbnails/<hash>, and receive the engine's events.
// Electron itself cannot be installed here, so two seams stand in for it, and only them: a
// loopback HTTP server calls protocol.ts's handleRequest (Electron: protocol.handle), and the
// preload's `require('electron')` gets contextBridge/ipcRenderer that forward to Node through
// Playwright (Electron: the IPC pipe). Everything on either side of those seams is the real code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { API_METHODS, type ImagePage, type JobInfo, type JobRef } from '../../core/api/contract.ts';
import { childProcessPort, EngineHost, remoteApi } from '../../electron/engine/host.ts';
import { createInvokeHandlers, type SenderInfo } from '../../electron/ipc.ts';
import { handleRequest, type MediaFile, type ProtocolRoots } from '../../electron/protocol.ts';
import { tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

const ROOT = path.resolve('.');
const WORK = path.join(os.tmpdir(), `looktwice-renderer-${process.pid}`);
// Bundles inside the project (they resolve node_modules), in a folder lint and git ignore.
const BUNDLES = path.join(ROOT, 'test-artifacts', `electron-renderer-${process.pid}`);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let temp: TempLibrary;
let host: EngineHost;
let server: http.Server;
let origin: string;
let browser: Browser;
let hashes: string[];
const engineEvents: Array<{ name: string; payload: unknown }> = [];
let forwardEvent: (name: string, payload: unknown) => void = () => {};

/**
 * Polls a page expression until it is truthy. (Playwright's waitForFunction compiles strings
 * with eval inside the page, which the app's CSP rightly forbids; evaluate goes through the
 * DevTools protocol instead.)
 */
async function waitInPage(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  const rendererDir = path.join(WORK, 'renderer');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--outDir', rendererDir, '--logLevel', 'error'], { cwd: ROOT, stdio: 'pipe' });
  execFileSync(process.execPath, ['build/build-electron.mjs', '--out', path.relative(ROOT, BUNDLES)], { cwd: ROOT, stdio: 'pipe' });

  temp = tempLibrary('looktwice-renderer-lib-');
  temp.library.close();
  for (const [index, pattern] of (['gradient', 'shapes', 'noise'] as const).entries()) {
    await writeImage(path.join(temp.photosDir, `photo-${index}.jpg`), { width: 64, height: 48, pattern, seed: index + 1 });
  }
  const child = fork(path.join(ROOT, 'electron/engine/entry.ts'), ['--db', temp.dbPath], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  host = new EngineHost(childProcessPort(child), {
    onEvent: (name, payload) => {
      engineEvents.push({ name, payload });
      forwardEvent(name, payload);
    },
  });
  await host.ready;
  const api = remoteApi(API_METHODS, host) as unknown as { addFolder(p: { path: string }): Promise<{ job: JobRef }>; listImages(p: object): Promise<ImagePage> };
  const { job } = await api.addFolder({ path: temp.photosDir });
  for (let waitedMs = 0; !engineEvents.some((event) => event.name === 'job' && (event.payload as JobInfo).jobId === job.jobId && (event.payload as JobInfo).status === 'completed'); waitedMs += 100) {
    if (waitedMs > 60_000) throw new Error('ingest did not finish');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  hashes = (await api.listImages({})).items.map((item) => item.hash);

  const roots: ProtocolRoots = {
    rendererDir,
    media: {
      thumbnail: async (hash) => (await host.callInternal('thumbnail', [hash])) as MediaFile | null,
      image: async (hash) => (await host.callInternal('image', [hash])) as MediaFile | null,
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
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await host?.stop('test', 10_000);
  temp?.cleanup();
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.rmSync(BUNDLES, { recursive: true, force: true });
});

describe('the renderer build in Chromium', () => {
  it('runs under the app CSP: no violations at start, thumbnails by hash, inline script/eval/remote blocked', async () => {
    const page = await browser.newPage();
    // Browser-side code as strings: this project type-checks without the DOM library.
    await page.addInitScript({
      content: `window.violations = [];
        document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.effectiveDirective + ' ' + event.blockedURI));`,
    });
    const response = await page.goto(`${origin}/index.html`);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    // The Svelte app mounted (its own script and stylesheet were allowed).
    await waitInPage(page, "(document.getElementById('app')?.childElementCount ?? 0) > 0");
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
    })(${JSON.stringify(hashes[0])})`)) as { thumbnailWidth: number; remoteWidth: number; inlineRan: boolean; evalBlocked: boolean; violations: string[] };
    expect(outcome.thumbnailWidth).toBeGreaterThan(0);
    expect(outcome.remoteWidth).toBe(-1);
    expect(outcome.inlineRan).toBe(false);
    expect(outcome.evalBlocked).toBe(true);
    expect(outcome.violations).toEqual(expect.arrayContaining(['img-src https://example.com/tracker.png', 'script-src-elem inline']));
    await page.close();
  });

  it('in Electron mode: the real preload bridge drives the screens from the engine process', async () => {
    const page = await browser.newPage();
    const trusted: SenderInfo = { sender: { id: 1 }, senderFrame: { url: 'looktwice://app/index.html', parent: null } };
    const handlers = createInvokeHandlers(API_METHODS, remoteApi(API_METHODS, host), { policy: { trustedWebContentsIds: () => [1] } });
    const channels: string[] = [];
    await page.exposeFunction('__looktwiceInvoke', async (channel: string, ...args: unknown[]) => {
      channels.push(channel);
      const handler = handlers.get(channel);
      return handler ? handler(trusted, ...args) : { ok: false, error: { name: 'Error', message: `no handler for ${channel}` } };
    });
    // The preload bundle, run as Electron runs it: CommonJS with `require('electron')` only.
    const preload = fs.readFileSync(path.join(BUNDLES, 'preload.cjs'), 'utf8');
    await page.addInitScript({
      content: `(() => {
        const listeners = [];
        const electron = {
          contextBridge: { exposeInMainWorld: (key, value) => { window[key] = Object.freeze(value); } },
          ipcRenderer: {
            invoke: (...args) => window.__looktwiceInvoke(...args),
            on: (channel, listener) => { if (channel === 'looktwice:event') listeners.push(listener); },
          },
        };
        window.__imageSources = [];
        const setAttribute = Element.prototype.setAttribute;
        Element.prototype.setAttribute = function (name, value) {
          if (this instanceof HTMLImageElement && name === 'src') window.__imageSources.push(String(value));
          return setAttribute.call(this, name, value);
        };
        const srcProperty = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
        Object.defineProperty(HTMLImageElement.prototype, 'src', {
          get() { return srcProperty.get.call(this); },
          set(value) { window.__imageSources.push(String(value)); srcProperty.set.call(this, value); },
          configurable: true,
        });
        window.__looktwiceEmit = (name, payload) => listeners.forEach((listener) => listener({}, name, payload));
        const require = (id) => { if (id !== 'electron') throw new Error('the preload required ' + id); return electron; };
        const module = { exports: {} };
        (function (module, exports, require) { ${preload}\n })(module, module.exports, require);
      })();`,
    });
    forwardEvent = (name, payload) => void page.evaluate(([eventName, eventPayload]) => (globalThis as unknown as { __looktwiceEmit(n: unknown, p: unknown): void }).__looktwiceEmit(eventName, eventPayload), [name, payload] as const).catch(() => {});
    await page.goto(`${origin}/index.html`);
    const keys = (await page.evaluate('Object.keys(window.looktwice).sort()')) as string[];
    expect(keys).toEqual(expect.arrayContaining(['getLibrary', 'listImages', 'onProgress', 'onJob', 'thumbnailUrl', 'imageUrl']));
    expect(await page.evaluate('typeof window.looktwiceDesktop.pickFolders')).toBe('function');

    // The Library screen shows the engine's library, with thumbnails addressed by content hash.
    await page.getByText('3 images in 1 folder').waitFor({ timeout: 30_000 });
    // Plain Chromium cannot load looktwice:// (in the app that is the page's own origin), so the
    // image addresses the page sets are recorded as it sets them.
    await waitInPage(page, "new Set(window.__imageSources.filter((src) => src.startsWith('looktwice://app/thumbnails/'))).size >= 3");
    const requested = (await page.evaluate("[...new Set(window.__imageSources.filter((src) => src.startsWith('looktwice://app/thumbnails/')))]")) as string[];
    expect(requested.map((src) => src.split('/').at(-1)).sort()).toEqual([...hashes].sort());
    expect(channels).toEqual(expect.arrayContaining(['looktwice:getLibrary', 'looktwice:listImages']));

    // Engine events reach the page's own subscriptions through the bridge.
    await page.evaluate("window.__jobs = []; window.__unsubscribe = window.looktwice.onJob((job) => window.__jobs.push(job.jobId + ' ' + job.status));");
    const scan = (await page.evaluate('window.looktwice.scanFolders({})')) as JobRef;
    expect(scan.kind).toBe('ingest');
    await waitInPage(page, `window.__jobs.includes(${JSON.stringify(`${scan.jobId} completed`)})`);
    // A call the engine refuses rejects in the page with the service's own words.
    const refusal = (await page.evaluate("window.looktwice.getImage({ imageId: 999999 }).then(() => 'resolved', (error) => error.message)")) as string;
    expect(refusal).not.toBe('resolved');
    expect(refusal.length).toBeGreaterThan(0);
    expect(refusal).not.toMatch(/Error invoking remote method/);
    forwardEvent = () => {};
    await page.close();
  });
});
