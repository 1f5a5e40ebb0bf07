/**
 * End to end, as a user: `looktwice serve` runs as a real child process on a temporary library
 * of generated photos, and Debian's Chromium (playwright-core, headless) drives the app —
 * add a folder, inspect an image, train a tiny model, compute embeddings, resolve a duplicate
 * (to a temporary trash, then undo), cluster, map, check quality, label a few images, train the
 * probe, and export. Every assertion is about what the user sees (or the files on disk).
 * Screenshots of each screen go to test-artifacts/e2e/.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { writeImage } from '../helpers/index.ts';
import { startServe } from './serve.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let photos: string;
let server: ChildProcess;
let browser: Browser;
let page: Page;
let url: string;
const pageErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

async function go(screen: string): Promise<void> {
  await page.click(`[data-testid=nav-${screen}]`);
  await page.waitForTimeout(200);
}

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-e2e-'));
  photos = path.join(dir, 'photos');
  fs.mkdirSync(path.join(photos, 'trip'), { recursive: true });
  // Two looks: busy "shapes" photos and smooth "gradient" ones, with EXIF like a camera writes.
  for (let i = 0; i < 12; i++) {
    await writeImage(path.join(photos, `shapes-${i}.jpg`), { width: 96, height: 72, pattern: 'shapes', seed: 100 + i, exif: { make: 'Fujifilm', model: 'X-T4', dateTimeOriginal: `2023:07:${String(i + 1).padStart(2, '0')} 09:30:00` } });
    await writeImage(path.join(photos, 'trip', `sky-${i}.jpg`), { width: 96, height: 72, pattern: 'gradient', seed: 200 + i });
  }
  // An exact copy the user made by hand: the duplicate to resolve.
  fs.copyFileSync(path.join(photos, 'shapes-0.jpg'), path.join(photos, 'trip', 'shapes-0 (copy).jpg'));

  // Always test the current renderer source.
  const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT, encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);

  const env = { ...process.env, XDG_DATA_HOME: path.join(dir, 'xdg-data'), LOOKTWICE_HOME: path.join(dir, 'home') };
  const started = await startServe(path.join(dir, 'library.db'), { env, timeoutMs: 60_000 });
  server = started.child;
  url = started.url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], headless: true });
  page = await browser.newPage({ viewport: { width: 1400, height: 880 }, colorScheme: 'dark' });
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    // Ctrl-C lets running jobs reach a safe point; on a loaded machine that can take a while,
    // and a second signal quits at once — as it does for a user pressing Ctrl-C twice.
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const escalate = setTimeout(() => server.kill('SIGINT'), 30_000);
    await exited;
    clearTimeout(escalate);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 90_000);

afterEach(async (context) => {
  // A failed step leaves a picture of what the user would have seen.
  if (context.task.result?.state === 'fail' && page) {
    await page.screenshot({ path: path.join(ARTIFACTS, `failed-${context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`) }).catch(() => {});
  }
});

describe('Looktwice in Chromium against looktwice serve', () => {
  it('refuses the app without the token in the address', async () => {
    const bare = url.replace(/\?token=.*$/, '');
    const response = await page.goto(bare);
    expect(response?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('access token');
  });

  it('starts empty and explains the next step, then ingests a folder', async () => {
    await page.goto(url);
    await expect.poll(() => page.textContent('[data-testid=empty-state]')).toContain('Your library is empty');
    expect(new URL(page.url()).searchParams.has('token')).toBe(false); // the token left the address bar
    await shot('01-library-empty');
    await page.fill('[data-testid=folder-input]', photos);
    await page.click('[data-testid=add-folder]');
    await expect.poll(() => page.textContent('[data-testid=library-count]'), { timeout: 60_000 }).toContain('24 images in 1 folder');
    await expect.poll(() => page.locator('[data-testid=grid-tile]').count()).toBe(24);
    await shot('02-library');
  });

  it('shows an image with its EXIF and filters the grid', async () => {
    await page.fill('input[aria-label="Search paths"]', 'shapes-3');
    await page.press('input[aria-label="Search paths"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid=grid-tile]').count()).toBe(1);
    await page.dblclick('[data-testid=grid-tile]');
    const detail = page.locator('[data-testid=image-detail]');
    await expect.poll(() => detail.textContent()).toContain('shapes-3.jpg');
    await expect.poll(() => page.textContent('[data-testid=exif]')).toContain('Fujifilm');
    expect(await detail.textContent()).toContain('X-T4');
    await shot('03-library-detail');
    await page.click('[data-testid=image-detail] button[aria-label=Close]');
    await page.click('text=Clear filters');
    await expect.poll(() => page.locator('[data-testid=grid-tile]').count()).toBe(24);
  });

  it('trains a tiny model, shows its loss, and computes embeddings', async () => {
    await go('train');
    await expect.poll(() => page.textContent('[data-testid=train-device]'), { timeout: 60_000 }).toMatch(/wasm|cpu|webgpu|tensorflow/);
    await page.selectOption('[data-testid=train-size]', '16');
    await page.fill('[data-testid=train-batch]', '8');
    await page.fill('[data-testid=train-length]', '4');
    await expect.poll(() => page.textContent('[data-testid=train-estimate]')).toContain('24 images');
    await page.click('[data-testid=train-start]');
    await expect.poll(() => page.textContent('[data-testid=runs-table]'), { timeout: 120_000 }).toContain('completed');
    expect(await page.textContent('[data-testid=runs-table]')).toContain('4 / 4');
    await expect.poll(() => page.textContent('[data-testid=train-loss]')).toMatch(/^\d+\.\d{4}$/);
    expect(await page.locator('[data-testid=loss-chart] canvas').count()).toBeGreaterThan(0);
    await page.click('[data-testid=embed-start]');
    await expect.poll(() => page.textContent('.embed'), { timeout: 120_000 }).toContain('24 of 24 images embedded');
    await shot('04-train');
  });

  it('finds the exact copy, moves it to the trash with R, and undoes with U', async () => {
    await go('duplicates');
    await expect.poll(() => page.textContent('[data-testid=duplicates-summary]'), { timeout: 60_000 }).toMatch(/group/);
    const group = page.locator('[data-testid=duplicate-group]');
    await expect.poll(() => group.textContent()).toContain('shapes-0 (copy).jpg');
    expect(await page.textContent('[data-testid=keeper-reason]')).toContain('Suggested keeper');
    await shot('05-duplicates');
    const copy = path.join(fs.realpathSync(photos), 'trip', 'shapes-0 (copy).jpg');
    // Keep the original (whichever number it has), then remove the other with the keyboard.
    await group.locator('button', { hasText: 'shapes-0.jpg' }).click();
    await page.keyboard.press('r');
    await expect.poll(() => fs.existsSync(copy)).toBe(false);
    await expect.poll(() => page.textContent('body')).toContain('Moved 1 file to the trash');
    // The resolved group leaves the list.
    await expect.poll(() => page.textContent('[data-testid=duplicate-group]').catch(() => '')).not.toContain('shapes-0 (copy).jpg');
    const trashed = fs.readdirSync(path.join(dir, 'xdg-data', 'Trash', 'files'));
    expect(trashed).toContain('shapes-0 (copy).jpg');
    expect(fs.existsSync(path.join(photos, 'shapes-0.jpg'))).toBe(true);
    await page.keyboard.press('u');
    await expect.poll(() => fs.existsSync(copy)).toBe(true);
    await expect.poll(() => page.textContent('body')).toContain('Restored 1 file');
  });

  it('clusters the library, lays out the map and checks quality', async () => {
    await go('clusters');
    await page.click('[data-testid=clusters-compute]');
    await expect.poll(() => page.locator('[data-testid=cluster-card]').count(), { timeout: 120_000 }).toBeGreaterThan(1);
    await shot('06-clusters');
    await go('map');
    await page.click('[data-testid=map-compute]');
    await expect.poll(() => page.locator('[data-testid=map-canvas]').count(), { timeout: 120_000 }).toBe(1);
    await expect.poll(() => page.textContent('.screen-header'), { timeout: 60_000 }).toContain('images, similar ones close together');
    // Lasso a big loop around the middle of the map: points get selected.
    await page.click('[data-testid=map-lasso]');
    const box = (await page.locator('[data-testid=map-canvas]').boundingBox())!;
    await page.mouse.move(box.x + 5, box.y + 5);
    await page.mouse.down();
    for (const [fx, fy] of [[0.99, 0.01], [0.99, 0.99], [0.01, 0.99], [0.01, 0.02]] as const) await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => page.textContent('[data-testid=map-selection]')).toMatch(/\d+ selected/);
    await shot('07-map');
    await go('quality');
    await page.click('[data-testid=flags-compute]');
    await expect.poll(() => page.textContent('.screen'), { timeout: 60_000 }).toMatch(/Tiny|Nothing flagged/);
    await shot('08-quality');
  });

  it('labels suggested images with keys 1 and 2, a multi-selection in the library, and trains the probe', async () => {
    await go('label');
    for (const name of ['shapes', 'sky']) {
      await page.fill('[data-testid=class-input]', name);
      await page.click('[data-testid=class-add]');
      await expect.poll(() => page.textContent('[data-testid=class-list]')).toContain(name);
    }
    await expect.poll(() => page.locator('[data-testid=suggestion]').count(), { timeout: 60_000 }).toBeGreaterThan(3);
    // Label the first suggestions by what they really are (the file name tells), with the keyboard.
    for (let i = 0; i < 4; i++) {
      const alt = (await page.locator('[data-testid=suggestion].focused img').first().getAttribute('alt')) ?? '';
      await page.keyboard.press(alt.startsWith('sky') ? '2' : '1');
      await expect.poll(() => page.locator('[data-testid=suggestion].done').count()).toBe(i + 1);
    }
    await shot('09-label-suggestions');

    // More labels from the library: search, select all with Ctrl+A, label the selection.
    await go('library');
    for (const [query, name] of [['sky-1', 'sky'], ['shapes-1', 'shapes']] as const) {
      await page.fill('input[aria-label="Search paths"]', query);
      await page.press('input[aria-label="Search paths"]', 'Enter');
      await expect.poll(() => page.locator('[data-testid=grid-tile]').count()).toBe(3);
      await page.click('[data-testid=grid-tile] >> nth=0');
      await page.keyboard.press('Control+a');
      await expect.poll(() => page.textContent('[data-testid=selection-bar]')).toContain('3 selected');
      expect(await page.locator('[data-testid=grid-tile][aria-selected=true]').count()).toBe(3);
      await page.click(`[data-testid=selection-bar] button:has-text("${name}")`);
      await expect.poll(() => page.textContent('body')).toContain('Labelled 3 images');
    }
    await page.click('text=Clear filters');
    await expect.poll(() => page.locator('[data-testid=selection-bar]').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid=grid-tile] >> text=sky').count()).toBeGreaterThanOrEqual(3);
    await shot('10-library-labelled');

    await go('label');
    const counts = async (): Promise<number[]> => {
      const text = (await page.textContent('[data-testid=class-list]')) ?? '';
      return [...text.matchAll(/(\d+)\s*\+\s*\d+/g)].map((m) => Number(m[1]));
    };
    await expect.poll(async () => Math.min(...(await counts()))).toBeGreaterThanOrEqual(3);
    const labels = (await counts()).reduce((a, b) => a + b, 0);
    await page.click('[data-testid=probe-run]');
    await expect.poll(() => page.textContent('[data-testid=probe-accuracy]'), { timeout: 60_000 }).toMatch(/\d+(\.\d)? %\s*estimated accuracy \(cross-validated\)/);
    expect(await page.textContent('body')).toContain(`Probe retrained on ${labels} labels`);
    await shot('11-label-probe');
  });

  it('previews and writes an ImageFolder export', async () => {
    const out = path.join(dir, 'dataset');
    await go('export');
    await page.fill('[data-testid=export-out]', out);
    await expect.poll(() => page.textContent('[data-testid=export-preview]'), { timeout: 60_000 }).toMatch(/\d+images/);
    await page.click('[data-testid=export-run]');
    await expect.poll(() => page.textContent('[data-testid=export-result]'), { timeout: 120_000 }).toMatch(/Exported \d+ images/);
    await shot('12-export');
    const splits = fs.readdirSync(out).filter((name) => ['train', 'val', 'test'].includes(name));
    expect(splits.length).toBeGreaterThan(0);
    const files = splits.flatMap((split) => fs.readdirSync(path.join(out, split)).flatMap((cls) => fs.readdirSync(path.join(out, split, cls))));
    const shown = Number(/Exported (\d+) images/.exec((await page.textContent('[data-testid=export-result]')) ?? '')![1]);
    expect(files.length).toBe(shown);
  });

  it('names a cluster, which becomes a class with its typical images labelled', async () => {
    await go('clusters');
    const card = page.locator('[data-testid=cluster-card]').first();
    await card.locator('input').fill('favourites');
    await card.locator('button[type=submit]').click();
    await expect.poll(() => page.textContent('body')).toMatch(/"favourites" is now a class; \d+ typical images labelled/);
    await expect.poll(() => card.textContent()).toContain('favourites');
    await shot('13-clusters-named');
    await go('label');
    await expect.poll(() => page.textContent('[data-testid=class-list]')).toContain('favourites');
  });

  it('curates everything in one job and lists each step under Activity', async () => {
    await go('library');
    await page.click('[data-testid=curate-all]');
    await expect.poll(() => page.textContent('body'), { timeout: 120_000 }).toContain('Curating the library — done.');
    await page.click('[data-testid=activity-toggle]');
    const log = page.locator('[role=log]');
    await expect.poll(() => log.textContent()).toContain('Pipeline: train: using the trained model of run 1');
    expect(await log.textContent()).toMatch(/Pipeline: flags: \d+ images flagged/);
    await shot('14-activity');
    await page.click('[data-testid=activity-toggle]');
  });

  it('switches to the light theme and raised no page errors', async () => {
    await go('library');
    await page.click('button[aria-label="Switch theme"]');
    await shot('15-library-light');
    expect(pageErrors).toEqual([]);
  });
});
