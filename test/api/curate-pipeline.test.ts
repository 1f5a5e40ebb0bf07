/**
 * `looktwice curate` as a real child process: the whole pipeline on generated photos (tiny
 * model), a rerun that continues instead of starting over, and the app served at the end with
 * its access token until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '../helpers/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let photos: string;
let dbPath: string;

function curate(args: string[], onStdout?: (text: string, stop: () => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'looktwice.mjs'), 'curate', ...args], {
      cwd: ROOT,
      env: { ...process.env, XDG_DATA_HOME: path.join(dir, 'xdg-data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-curate-'));
  photos = path.join(dir, 'photos');
  fs.mkdirSync(photos);
  for (let i = 0; i < 8; i++) await writeImage(path.join(photos, `p${i}.jpg`), { width: 64, height: 48, pattern: i % 2 ? 'shapes' : 'gradient', seed: i + 1 });
  fs.copyFileSync(path.join(photos, 'p0.jpg'), path.join(photos, 'p0-copy.jpg'));
  dbPath = path.join(dir, 'library.db');
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('looktwice curate', () => {
  it('runs every stage, says which device and how long before training, and reports each stage', async () => {
    const result = await curate([photos, '--db', dbPath, '--json', '--steps', '3', '--size', '16']);
    expect(result.code, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout) as Record<string, Record<string, unknown> | null>;
    expect(Object.keys(document)).toEqual(['ingest', 'train', 'embed', 'duplicates', 'clusters', 'map', 'flags', 'library']);
    expect(document.ingest).toMatchObject({ added: 9, failed: [] });
    expect(document.train).toMatchObject({ steps: 3, stopped: false });
    expect(document.embed).toMatchObject({ embedded: 8, dim: expect.any(Number) });
    // The hand-made copy is found (alone, or in a group with a look-alike).
    expect((document.duplicates as { extra: number }).extra).toBeGreaterThanOrEqual(1);
    expect((document.clusters as { clusters: number }).clusters).toBeGreaterThan(0);
    expect(document.map).toMatchObject({ points: 8 });
    expect(result.stderr).toMatch(/Training resnet-small at 16 px for 3 steps .* on (wasm|cpu|webgpu|tensorflow) \(.+\); about /);
  });

  it('continues on a rerun: nothing re-ingested, the model reused, nothing re-embedded', async () => {
    const result = await curate([photos, '--db', dbPath, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout) as Record<string, Record<string, unknown>>;
    expect(document.ingest).toMatchObject({ added: 0, unchanged: 9 });
    expect(document.train).toMatchObject({ skipped: true });
    expect(document.embed).toMatchObject({ embedded: 0 });
  });

  it('serves the app at the end until Ctrl-C, with the token required', async () => {
    let checked: { withToken: number; without: number } | null = null;
    const result = await curate([photos, '--db', dbPath], (stdout, stop) => {
      const match = /Open (http:\/\/127\.0\.0\.1:\d+\/s\/[0-9a-f]+\/\?token=[0-9a-f]+)/.exec(stdout);
      if (!match || checked) return;
      checked = { withToken: 0, without: 0 };
      const url = match[1]!;
      void (async () => {
        checked!.withToken = (await fetch(url)).status;
        checked!.without = (await fetch(url.replace(/\?token=.*/, ''))).status;
        stop();
      })();
    });
    expect(result.stdout).toMatch(/Duplicates: \d+ groups/);
    expect(checked).toEqual({ withToken: 200, without: 401 });
    expect(result.code).toBe(0);
  });
});
