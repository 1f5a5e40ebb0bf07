// build/build-electron.mjs: the three bundles build, load only what a packaged app has (Node
// built-ins, electron, production dependencies), and the bundled engine really runs: forked
// under plain Node it opens a real library and answers over the protocol.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, fork } from 'node:child_process';
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childProcessPort, EngineHost } from '../../electron/engine/host.ts';

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
  it('writes main, preload and engine bundles, the HEIC worker beside the engine, and the window icon', () => {
    for (const file of ['main.cjs', 'preload.cjs', 'engine.cjs', 'heic-worker.mjs', 'icon.png']) expect(fs.existsSync(path.join(OUT, file)), file).toBe(true);
  });

  it('main and engine load only built-ins, electron and production dependencies', () => {
    for (const bundle of ['main.cjs', 'engine.cjs']) {
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
});
