/**
 * Browser mode's access cookie belongs to one server: two `looktwice serve` processes on two
 * ports, open in tabs of one real Chromium (one cookie jar), both keep working, and another
 * local server on 127.0.0.1 that the same browser visits never receives either token. Cookies
 * ignore ports, so the cookie is both named after the port and confined to the server's own
 * random path.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServe, type Served } from './serve.ts';

const CHROMIUM = '/usr/bin/chromium';

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const escalate = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(escalate);
}

/** What the page's own code gets for an API call that authenticates by cookie alone. */
function callStatus(page: Page): Promise<number> {
  return page.evaluate(async () => (await fetch('api/getLibrary', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' })).status);
}

let dir: string;
let first: Served | undefined;
let second: Served | undefined;
let browser: Browser | undefined;
let bystander: http.Server | undefined;
const bystanderCookies: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-two-servers-'));
  [first, second] = await Promise.all([startServe(path.join(dir, 'a.db')), startServe(path.join(dir, 'b.db'))]);
  bystander = http.createServer((request, response) => {
    bystanderCookies.push(request.headers.cookie ?? '');
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>another local server</title>');
  });
  await new Promise<void>((resolve) => bystander!.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], headless: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([stop(first?.child), stop(second?.child)]);
  await new Promise((resolve) => (bystander ? bystander.close(resolve) : resolve(undefined)));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('two looktwice serve on two ports, one browser', () => {
  it('opening the second does not log out the first tab, and no other local server gets a token', async () => {
    const context = await browser!.newContext();
    const tabA = await context.newPage();
    expect((await tabA.goto(first!.url))?.status()).toBe(200);
    expect(await callStatus(tabA)).toBe(200);

    const tabB = await context.newPage();
    expect((await tabB.goto(second!.url))?.status()).toBe(200);
    expect(await callStatus(tabB)).toBe(200);

    // The first tab, after the second server set its cookie in the same jar.
    expect(await callStatus(tabA)).toBe(200);
    await tabA.reload();
    expect(await callStatus(tabA)).toBe(200);

    const port = (bystander!.address() as AddressInfo).port;
    const tabC = await context.newPage();
    await tabC.goto(`http://127.0.0.1:${port}/`);
    await tabC.goto(`http://127.0.0.1:${port}/api/getLibrary`);
    expect(bystanderCookies.length).toBeGreaterThan(0);
    for (const header of bystanderCookies) {
      expect(header).not.toContain(first!.token);
      expect(header).not.toContain(second!.token);
    }
    await context.close();
  }, 120_000);
});
