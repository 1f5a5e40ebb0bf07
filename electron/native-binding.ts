/**
 * better-sqlite3 is the one native module built against V8's ABI rather than Node-API, so the
 * copy npm installs for Node cannot load in Electron and vice versa. Packaged apps get an
 * Electron build from electron-builder (npmRebuild). In development, `npm start` keeps the Node
 * build in node_modules for the CLI and tests, and prepares a second, Electron build here
 * (build/electron-native.ts); main hands its path to the engine as LOOKTWICE_SQLITE_BINDING,
 * which core/store/db.ts passes to better-sqlite3 as `nativeBinding`.
 */
import path from 'node:path';

/** Where the development Electron build of better-sqlite3 lives for this Electron, OS and CPU. */
export function electronSqliteBindingPath(projectRoot: string, electronVersion: string, platform: NodeJS.Platform, arch: string): string {
  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(electronVersion)) throw new Error(`not an Electron version: "${electronVersion}"`);
  return path.join(projectRoot, 'node_modules', '.cache', 'looktwice-electron', `better_sqlite3-electron-${electronVersion}-${platform}-${arch}.node`);
}
