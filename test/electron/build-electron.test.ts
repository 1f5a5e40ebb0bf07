// build/build-electron.mjs: the three bundles build, load only what a packaged app has (Node
// built-ins, electron, production dependencies), and the bundled engine really runs: forked
// under plain Node it opens a real library and answers over the protocol, and it trains on two
// worker threads started from the bundled worker scripts (no tsx, no TypeScript sources).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, fork } from 'node:child_process';
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childProcessPort, EngineHost } from '../../electron/engine/host.ts';
import type { JobInfo, JobRef, RunSummary } from '../../core/api/contract.ts';
import { writeImage } from '../helpers/index.ts';

const ROOT = path.resolve('.');
// Inside the project (so the bundles resolve node_modules as in the app), in a folder lint and git ignore.
const OUT = path.join(ROOT, 'test-artifacts', `electron-bundle-${process.pid}`);
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>; optionalDependencies?: Record<string, string>;
};
const production = new Set([...Object.keys(packageJson.dependencies), ...Object.keys(packageJson.optionalDependencies ?? {})]);

/** The packages a CommonJS bundle requires or imports at run time. */
function externals(file: string): string[] {
  const code = fs.readFileSync(file, 'utf8');
  const names = [...code.matchAll(/\b(?:require|import)\(\s*"([^"]+)"\s*\)/g)].map((match) => match[1]!);
  return [...new Set(names)].sort();
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

beforeAll(() => {
  execFileSync(process.execPath, ['build/build-electron.mjs', '--out', path.relative(ROOT, OUT)], { cwd: ROOT, stdio: 'pipe' });
});
afterAll(() => fs.rmSync(OUT, { recursive: true, force: true }));

describe('build-electron', () => {
  it('writes main, preload and engine bundles, every worker beside the engine, and the window icon', () => {
    const workers = ['heic-worker.mjs', 'ml-worker.cjs', 'train-worker.cjs', 'embed-worker.cjs', 'knn-worker.cjs', 'ivf-worker.cjs'];
    for (const file of ['main.cjs', 'preload.cjs', 'engine.cjs', 'icon.png', ...workers]) expect(fs.existsSync(path.join(OUT, file)), file).toBe(true);
  });

  it('main and engine load only built-ins, electron and production dependencies', () => {
    for (const bundle of ['main.cjs', 'engine.cjs', 'ml-worker.cjs', 'train-worker.cjs', 'embed-worker.cjs', 'knn-worker.cjs', 'ivf-worker.cjs']) {
      for (const specifier of externals(path.join(OUT, bundle))) {
        const ok = specifier.startsWith('node:') || builtinModules.includes(specifier) || specifier === 'electron' || production.has(packageName(specifier));
        expect(ok, `${bundle} loads "${specifier}", which a packaged app does not have`).toBe(true);
      }
    }
    expect(externals(path.join(OUT, 'engine.cjs'))).not.toContain('electron');
  });

  it('the sandboxed preload requires nothing but electron', () => {
    expect(externals(path.join(OUT, 'preload.cjs'))).toEqual(['electron']);
  });

  it('the bundled engine runs under Node against a real library and stops cleanly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-bundle-'));
    try {
      // Electron's Node (22+) loads ESM-only packages with require(); Node 20 needs the flag.
      const execArgv = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-require-module', '--no-warnings'] : [];
      const child = fork(path.join(OUT, 'engine.cjs'), ['--db', path.join(dir, 'library.db')], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const host = new EngineHost(childProcessPort(child), { onEvent: () => {} });
      await host.ready;
      const result = await host.call('getLibrary', []);
      expect(result).toMatchObject({ ok: true, value: { images: 0 } });
      expect(await host.stop('test', 10_000)).toEqual({ clean: true, cancelledJobs: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the bundled engine trains on 2 worker threads started from the bundled worker scripts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-bundle-train-'));
    try {
      const photos = path.join(dir, 'photos');
      fs.mkdirSync(photos);
      for (let index = 0; index < 8; index++) await writeImage(path.join(photos, `photo-${index}.png`), { width: 40, height: 40, pattern: index % 2 ? 'shapes' : 'gradient', seed: index + 1 });
      const execArgv = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-require-module', '--no-warnings'] : [];
      // LOOKTWICE_THREADS sets the default thread count; tsx is kept off the worker path by the bundle itself.
      const child = fork(path.join(OUT, 'engine.cjs'), ['--db', path.join(dir, 'library.db')], {
        execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, LOOKTWICE_THREADS: '2' },
      });
      const events: Array<{ name: string; payload: unknown }> = [];
      const host = new EngineHost(childProcessPort(child), { onEvent: (name, payload) => events.push({ name, payload }) });
      await host.ready;
      const call = async <T>(method: string, params: unknown): Promise<T> => {
        const result = (await host.call(method, [params])) as { ok: boolean; value?: T; error?: unknown };
        expect(result.ok, JSON.stringify(result.error)).toBe(true);
        return result.value as T;
      };
      const finished = async (jobId: string): Promise<JobInfo> => {
        for (let waited = 0; waited < 120_000; waited += 200) {
          const info = events.map((event) => event.payload as JobInfo).find((job) => job.jobId === jobId && job.status !== undefined && job.status !== 'running');
          if (info) return info;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new Error(`job ${jobId} did not finish`);
      };
      const { job: ingest } = await call<{ job: JobRef }>('addFolder', { path: photos });
      expect(await finished(ingest.jobId)).toMatchObject({ status: 'completed' });
      const training = await call<JobRef>('startTraining', { backend: 'wasm', arch: 'resnet-small', sizePx: 16, batchSize: 4, steps: 3, seed: 1 });
      expect(await finished(training.jobId)).toMatchObject({ status: 'completed' });
      const runs = await call<RunSummary[]>('listRuns', {});
      expect(runs).toHaveLength(1);
      // The device is recorded as trained: both replicas computed every step (a step needs all of them).
      expect(runs[0]).toMatchObject({ status: 'completed', stepsDone: 3 });
      expect(runs[0]!.device).toContain('2 training threads');
      expect(await host.stop('test', 10_000)).toEqual({ clean: true, cancelledJobs: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
