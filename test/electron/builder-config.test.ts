// build/electron-builder.yml: valid for electron-builder (its own loader and validator, and its
// JSON schema through ajv), and it covers what the app needs to run when packaged: the bundles,
// the renderer, unpacked native modules, one installer per platform, real icons.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger } from 'builder-util/out/DebugLogger.js';
import type { Configuration } from 'app-builder-lib';
import sharp from 'sharp';

const ROOT = path.resolve('.');
const CONFIG = 'build/electron-builder.yml';
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string; dependencies: Record<string, string>; optionalDependencies?: Record<string, string>; scripts: Record<string, string>;
};

async function loadConfig(): Promise<Configuration> {
  return getConfig(ROOT, CONFIG, null);
}

/** Every file below `dir` (relative to it) whose name ends with `suffix`. */
function filesEnding(dir: string, suffix: string, relative = ''): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
    const child = path.join(relative, entry.name);
    if (entry.isDirectory()) found.push(...filesEnding(dir, suffix, child));
    else if (entry.name.endsWith(suffix)) found.push(child);
  }
  return found;
}

describe('electron-builder configuration', () => {
  it('passes electron-builder’s own validation', async () => {
    const config = await loadConfig();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('matches the JSON schema (app-builder-lib/scheme.json) under strict ajv', async () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/app-builder-lib/scheme.json'), 'utf8')) as object;
    // No type coercion (electron-builder coerces): the file must be right as written.
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const config = await loadConfig();
    const valid = validate(config);
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
    // …and the validator does reject a wrong file, so the check above can fail.
    expect(validate({ ...config, linux: { target: 42 } })).toBe(false);
    expect(validate({ ...config, asarUnpackk: [] })).toBe(false);
  });

  it('names the app and builds AppImage + deb, dmg and NSIS', async () => {
    const config = await loadConfig();
    expect(config.appId).toBe('app.looktwice.desktop');
    expect(config.productName).toBe('Looktwice');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.npmRebuild).toBe(true);
    expect(config.electronFuses).toMatchObject({ runAsNode: false, enableNodeOptionsEnvironmentVariable: false, enableNodeCliInspectArguments: false, onlyLoadAppFromAsar: true });
    expect(config.asar).toBe(true);
    expect(config.publish).toBeNull();
  });

  it('packs the bundles and the renderer, and package.json points at the bundled main', async () => {
    const config = await loadConfig();
    // electron-builder's loader normalises `files` into [{ filter: [...] }].
    const patterns = (config.files as Array<string | { filter?: string | string[] }>).flatMap((entry) =>
      typeof entry === 'string' ? [entry] : [entry.filter ?? []].flat());
    expect(patterns).toEqual(expect.arrayContaining(['package.json', 'dist-electron/**', 'renderer/dist/**']));
    expect(patterns.some((pattern) => /^(core|electron|test|bench)\//.test(pattern))).toBe(false);
    expect(packageJson.main).toBe('dist-electron/main.cjs');
    expect(packageJson.scripts.dist).toContain('--config build/electron-builder.yml');
    expect(packageJson.scripts.build).toContain('build:electron');
  });

  it('unpacks every installed production package that ships a native binary', async () => {
    const config = await loadConfig();
    const unpack = config.asarUnpack as string[];
    const production = [...Object.keys(packageJson.dependencies), ...Object.keys(packageJson.optionalDependencies ?? {})];
    const natives: string[] = [];
    for (const name of production) {
      const dir = path.join(ROOT, 'node_modules', name);
      if (!fs.existsSync(dir)) continue; // optional and not installed here (tfjs-node)
      if (filesEnding(dir, '.node').length > 0) natives.push(name);
    }
    // better-sqlite3 and webgpu ship .node files here; sharp's live in @img/*.
    expect(natives).toEqual(expect.arrayContaining(['better-sqlite3', 'webgpu']));
    // usearch is a devDependency (only bench:knn uses it), so it is not packaged.
    expect(production).not.toContain('usearch');
    for (const name of [...natives, 'sharp', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      expect(unpack, name).toContain(`node_modules/${name}/**`);
    }
    expect(unpack).toContain('node_modules/@img/**');
    expect(unpack).toContain('**/*.node');
  });

  it('has real icons for every platform', async () => {
    const config = await loadConfig();
    const linuxIcons = path.join(ROOT, config.linux!.icon!);
    for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) {
      const metadata = await sharp(path.join(linuxIcons, `${size}x${size}.png`)).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', size, size]);
    }
    const ico = fs.readFileSync(path.join(ROOT, config.win!.icon!));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    expect(ico.readUInt16LE(4)).toBeGreaterThanOrEqual(5);
    // The 256 px entry is stored with width 0 and is a PNG.
    const entries = Array.from({ length: ico.readUInt16LE(4) }, (_, index) => 6 + index * 16);
    const largest = entries.find((offset) => ico.readUInt8(offset) === 0)!;
    const pngAt = ico.readUInt32LE(largest + 12);
    expect((await sharp(ico.subarray(pngAt, pngAt + ico.readUInt32LE(largest + 8))).metadata()).width).toBe(256);
    const icns = fs.readFileSync(path.join(ROOT, config.mac!.icon!));
    expect(icns.toString('ascii', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    expect(fs.existsSync(path.join(ROOT, config.mac!.entitlements!))).toBe(true);
  });
});
