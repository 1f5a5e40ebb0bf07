/**
 * Browser mode in one call: open the library, make sure the renderer is built, start the HTTP
 * server on it. Used by `looktwice serve`, by `looktwice curate` at its end, and by the tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LooktwiceService } from './service.ts';
import { startServer, type RunningServer } from './http-server.ts';

/** The repository root (this file is core/api/serve.ts). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where `npm run build:renderer` writes the renderer. */
export const DEFAULT_RENDERER_DIR = path.join(PROJECT_ROOT, 'renderer', 'dist');

/**
 * Builds the renderer with Vite when `rendererDir/index.html` is missing. Throws with the
 * command to run by hand when the build is impossible (e.g. an installed package without Vite).
 */
export async function ensureRendererBuilt(rendererDir: string, log: (line: string) => void): Promise<void> {
  if (fs.existsSync(path.join(rendererDir, 'index.html'))) return;
  const viteBin = path.join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const config = path.join(PROJECT_ROOT, 'renderer', 'vite.config.ts');
  if (path.resolve(rendererDir) !== DEFAULT_RENDERER_DIR || !fs.existsSync(viteBin) || !fs.existsSync(config)) {
    throw new Error(`the user interface is not built (${rendererDir} has no index.html); run \`npm run build:renderer\` first`);
  }
  log('building the user interface once (npm run build:renderer)…');
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--config', config, '--logLevel', 'warn'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('close', (status) => {
      if (status !== 0) log(errors.trim());
      resolve(status ?? 1);
    });
    child.on('error', () => resolve(1));
  });
  if (code !== 0 || !fs.existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error('building the user interface failed; run `npm run build:renderer` to see why');
  }
}

export interface ServeOptions {
  dbPath: string;
  host?: string;
  port?: number;
  rendererDir?: string;
  token?: string;
  log?: (line: string) => void;
}

export interface ServingLibrary {
  service: LooktwiceService;
  server: RunningServer;
  /** Stops jobs (training checkpoints), the server and the database. */
  close(): Promise<void>;
}

/** Opens the library and serves it; resolves once listening. */
export async function serveLibrary(options: ServeOptions): Promise<ServingLibrary> {
  const rendererDir = path.resolve(options.rendererDir ?? DEFAULT_RENDERER_DIR);
  await ensureRendererBuilt(rendererDir, options.log ?? (() => {}));
  const service = LooktwiceService.open(options.dbPath);
  let server: RunningServer;
  try {
    server = await startServer({ api: service, rendererDir, host: options.host, port: options.port, token: options.token });
  } catch (error) {
    await service.close();
    const message = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `port ${options.port} is already in use; pick another with --port` : (error as Error).message;
    throw new Error(`cannot start the server: ${message}`);
  }
  return {
    service,
    server,
    close: async () => {
      await server.close();
      await service.close();
    },
  };
}
