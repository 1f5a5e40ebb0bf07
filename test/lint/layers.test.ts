/**
 * The layer graph of docs/ARCHITECTURE.md is enforced by eslint.config.js (CORE_LAYERS); this
 * test runs the real ESLint on probe files so the rule cannot silently disappear or drift: for
 * every ordered pair of core/ folders an import is rejected exactly when the graph forbids it,
 * static or dynamic, from any depth. Probes are linted as text under a path inside the folder
 * (ESLint applies the config by that path), so no file is written into the source tree.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });
// The config is plain JavaScript (no types to import): load the table it lints with.
const configModule = pathToFileURL(path.join(root, 'eslint.config.js')).href;
const { CORE_LAYERS: layers } = (await import(configModule)) as { CORE_LAYERS: Record<string, readonly string[]> };
const folders = Object.keys(layers);

/** The rule ids reported on each line (1-based) of `code` linted as the file at `filePath`. */
async function rulesByLine(code: string, filePath: string): Promise<Map<number, string[]>> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  const byLine = new Map<number, string[]>();
  for (const message of result!.messages) byLine.set(message.line, [...(byLine.get(message.line) ?? []), message.ruleId ?? 'fatal']);
  return byLine;
}

describe('the layer graph', () => {
  it('has a row for every folder of core/ and no cycle', () => {
    const present = fs.readdirSync(path.join(root, 'core'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(folders.slice().sort()).toEqual(present);
    for (const [folder, allowed] of Object.entries(layers)) for (const other of allowed) expect(folders, `${folder} → ${other}`).toContain(other);
    // Depth-first search for a cycle among the allowed edges.
    const state = new Map<string, 'open' | 'done'>();
    const visit = (folder: string, trail: string[]): void => {
      if (state.get(folder) === 'done') return;
      if (state.get(folder) === 'open') throw new Error(`layer cycle: ${[...trail, folder].join(' → ')}`);
      state.set(folder, 'open');
      for (const next of layers[folder]!) visit(next, [...trail, folder]);
      state.set(folder, 'done');
    };
    for (const folder of folders) visit(folder, []);
  });

  it('rejects exactly the imports the graph forbids, for every pair of folders, static and dynamic, at any depth', async () => {
    for (const folder of folders) {
      const others = folders.filter((other) => other !== folder);
      for (const [probe, up] of [[`core/${folder}/layer-probe.ts`, '../'], [`core/${folder}/nested/deeper/layer-probe.ts`, '../../../']] as const) {
        // One import per line: line i + 1 imports others[i]; then the same as dynamic imports.
        const code = [
          ...others.map((other) => `import { probe as probe${other} } from '${up}${other}/probe.ts';`),
          ...others.map((other) => `export const lazy${other} = () => import('${up}${other}/probe.ts');`),
          `export const used = [${others.map((other) => `probe${other}`).join(', ')}];`,
        ].join('\n');
        const reported = await rulesByLine(code, probe);
        others.forEach((other, i) => {
          const forbidden = !layers[folder]!.includes(other);
          expect(reported.get(i + 1)?.includes('no-restricted-imports') ?? false, `${probe}: import of core/${other}/`).toBe(forbidden);
          expect(reported.get(others.length + i + 1)?.includes('no-restricted-syntax') ?? false, `${probe}: import() of core/${other}/`).toBe(forbidden);
        });
      }
    }
  });

  it('keeps Electron and the renderer apart as before', async () => {
    const fromCore = await rulesByLine(`import { app } from 'electron';\nimport { x } from '../../renderer/src/lib/api.ts';\nexport const y = [app, x];`, 'core/curate/layer-probe.ts');
    expect(fromCore.get(1)).toContain('no-restricted-imports');
    expect(fromCore.get(2)).toContain('no-restricted-imports');
    const fromRenderer = await rulesByLine(
      `import type { LooktwiceApi } from '../../../core/api/contract.ts';\nimport { openLibrary } from '../../../core/store/db.ts';\nimport fs from 'node:fs';\nexport type A = LooktwiceApi;\nexport const b = [openLibrary, fs];`,
      'renderer/src/lib/layer-probe.ts',
    );
    expect(fromRenderer.get(1)).toBeUndefined();
    expect(fromRenderer.get(2)).toContain('no-restricted-imports');
    expect(fromRenderer.get(3)).toContain('no-restricted-imports');
  });
});

describe('import cycles', () => {
  it('no module reaches itself through static value imports (core/, electron/, renderer/src/)', () => {
    // `import type` is erased and `import()` runs later, so neither can leave a module half-initialised.
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|svelte)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(full);
      }
    };
    for (const dir of ['core', 'electron', 'renderer/src']) walk(path.join(root, dir));
    const known = new Set(files);
    const edges = new Map<string, string[]>();
    const staticImport = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;
    for (const file of files) {
      const source = fs.readFileSync(file, 'utf8');
      const targets: string[] = [];
      for (const match of source.matchAll(staticImport)) {
        const target = path.resolve(path.dirname(file), match[1]!);
        if (known.has(target)) targets.push(target);
      }
      edges.set(file, targets);
    }
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(root, f)).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of edges.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(files.length).toBeGreaterThan(100);
    expect(cycles).toEqual([]);
  });
});
