/**
 * `npm start` step: makes sure a better-sqlite3 binary for Electron's ABI exists beside the Node
 * one (see electron/native-binding.ts), without touching node_modules/better-sqlite3 itself, so
 * the CLI and the tests keep working. Needs internet the first time (per Electron version):
 * downloads better-sqlite3's Electron prebuild with prebuild-install, or compiles it with
 * node-gyp against Electron's headers (Python 3 and a C++ toolchain). Run:
 *   node bin/run-ts.mjs build/electron-native.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronSqliteBindingPath } from '../electron/native-binding.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronVersion = (JSON.parse(fs.readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;
const target = electronSqliteBindingPath(root, electronVersion, process.platform, process.arch);

if (fs.existsSync(target)) {
  console.log(`better-sqlite3 for Electron ${electronVersion}: ${path.relative(root, target)} (ready)`);
} else {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-electron-native-'));
  try {
    const packageDir = path.join(work, 'better-sqlite3');
    // A private copy of the package (without its Node build) to build or download into.
    const sourceDir = path.join(root, 'node_modules/better-sqlite3');
    fs.cpSync(sourceDir, packageDir, {
      recursive: true,
      filter: (source) => {
        const relative = path.relative(sourceDir, source);
        return relative !== 'build' && !relative.startsWith(`build${path.sep}`);
      },
    });
    const electronArgs = ['--runtime=electron', `--target=${electronVersion}`, `--arch=${process.arch}`];
    try {
      console.log(`better-sqlite3: downloading the prebuild for Electron ${electronVersion} (${process.platform}-${process.arch})…`);
      execFileSync(process.execPath, [path.join(root, 'node_modules/prebuild-install/bin.js'), ...electronArgs, `--platform=${process.platform}`], { cwd: packageDir, stdio: 'inherit' });
    } catch {
      console.log('better-sqlite3: no prebuild; compiling against Electron’s headers with node-gyp…');
      try {
        execFileSync(process.execPath, [path.join(root, 'node_modules/node-gyp/bin/node-gyp.js'), 'rebuild', '--release', ...electronArgs, '--dist-url=https://electronjs.org/headers'], { cwd: packageDir, stdio: 'inherit' });
      } catch {
        console.error(
          `\nCould not prepare better-sqlite3 for Electron ${electronVersion}: the prebuild download (github.com) and the ` +
            'build from source (Electron headers from electronjs.org; Python 3 and a C++ toolchain) both failed. ' +
            'Connect to the internet and run `npm start` again.',
        );
        fs.rmSync(work, { recursive: true, force: true });
        process.exit(1);
      }
    }
    const built = path.join(packageDir, 'build', 'Release', 'better_sqlite3.node');
    if (!fs.existsSync(built)) throw new Error(`no ${built} after the build`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(built, target);
    console.log(`better-sqlite3 for Electron ${electronVersion}: ${path.relative(root, target)} (built)`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
