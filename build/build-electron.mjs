// Bundles the Electron side with esbuild into dist-electron/:
//   main.cjs     electron/main.ts          (main process)
//   preload.cjs  electron/preload.ts       (sandboxed preload: must be one CommonJS file)
//   engine.cjs   electron/engine/entry.ts  (utility process: library service, training)
//   icon.png     build/icons/512x512.png   (window icon on Linux/Windows)
//   heic-worker.mjs core/library/heic-worker.mjs (HEIC decoding worker, beside engine.cjs)
//   <name>.cjs   every worker-thread entry of the engine (WORKER_ENTRIES), beside engine.cjs:
//                core/common/worker-thread.ts starts `<name>.cjs` beside the bundle that asks
//                for `./<name>.ts`, so training, embedding and k-NN use every core in the app too
// Our TypeScript (electron/ and the core/ it imports) is bundled; npm packages stay external and
// load from node_modules at run time (inside the asar, native ones from app.asar.unpacked), so
// native addons and tfjs's self-registering backends are never rewritten by the bundler.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` (used by the tests) writes elsewhere; it must stay inside the project so the
// bundles resolve node_modules the same way.
const outIndex = process.argv.indexOf('--out');
const outDir = path.resolve(root, outIndex >= 0 ? process.argv[outIndex + 1] : 'dist-electron');
const outRel = path.relative(root, outDir);
if (outRel.startsWith('..') || path.isAbsolute(outRel)) throw new Error(`--out must be inside ${root}`);
const electronMajor = Number(JSON.parse(fs.readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version.split('.')[0]);

// Electron 41 embeds Node 24 and Chromium 146; target a little lower so esbuild never emits
// syntax the runtime lacks.
const nodeTarget = electronMajor >= 35 ? 'node22' : 'node20';

// `import.meta.url` has no meaning in CommonJS; give modules the URL of the bundle they end up in.
const importMetaShim = {
  banner: { js: "const __bundleImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleImportMetaUrl' },
};

const common = {
  bundle: true,
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

// Worker-thread entries started through core/common/worker-thread.ts; each becomes <name>.cjs.
const WORKER_ENTRIES = ['core/api/ml-worker.ts', 'core/ml/train-worker.ts', 'core/ml/embed-worker.ts', 'core/curate/knn-worker.ts', 'core/curate/ivf-worker.ts'];
const workerNames = WORKER_ENTRIES.map((entry) => path.basename(entry, '.ts'));
if (new Set(workerNames).size !== workerNames.length) throw new Error('worker entries must have distinct names: they share one folder in the bundle');

fs.rmSync(outDir, { recursive: true, force: true });
await Promise.all([
  build({ ...common, ...importMetaShim, entryPoints: ['electron/main.ts'], outfile: path.join(outDir, 'main.cjs'), platform: 'node', target: nodeTarget, packages: 'external' }),
  build({ ...common, ...importMetaShim, entryPoints: ['electron/engine/entry.ts'], outfile: path.join(outDir, 'engine.cjs'), platform: 'node', target: nodeTarget, packages: 'external' }),
  ...WORKER_ENTRIES.map((entry) =>
    build({ ...common, ...importMetaShim, entryPoints: [entry], outfile: path.join(outDir, `${path.basename(entry, '.ts')}.cjs`), platform: 'node', target: nodeTarget, packages: 'external' })),
  // The sandboxed preload may require only 'electron' (and a few polyfilled builtins): bundle
  // everything else into it.
  build({ ...common, entryPoints: ['electron/preload.ts'], outfile: path.join(outDir, 'preload.cjs'), platform: 'browser', target: 'chrome120', external: ['electron'] }),
]);
fs.copyFileSync(path.join(root, 'build/icons/512x512.png'), path.join(outDir, 'icon.png'));
// The HEIC decoder runs in a plain-JS worker resolved beside the module that starts it (the
// engine bundle), so it travels as a file next to engine.cjs.
fs.copyFileSync(path.join(root, 'core/library/heic-worker.mjs'), path.join(outDir, 'heic-worker.mjs'));
console.log(`built ${outRel}/: ${fs.readdirSync(outDir).sort().join(', ')}`);
