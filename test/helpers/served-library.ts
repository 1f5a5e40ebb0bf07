/**
 * A library served the way `looktwice serve` serves it, for tests of the HTTP transport: a temp
 * library with the given images written to photos/ and ingested through the real service, a
 * stub renderer folder (index.html only) and the real HTTP server on a free port. Import from
 * test/helpers/index.ts.
 *
 *   const served = await servedLibrary('looktwice-x-', { 'a.jpg': { width: 32, height: 32 } });
 *   try { ... fetch(`${served.server.origin}/api/getLibrary`, ...) ... } finally { await served.close(); }
 */
import fs from 'node:fs';
import path from 'node:path';
import { LooktwiceService } from '../../core/api/service.ts';
import { startServer, type RunningServer } from '../../core/api/http-server.ts';
import { writeImage, type WriteImageOptions } from './images.ts';
import { tempLibrary, type TempLibrary } from './library.ts';

export interface ServedLibrary {
  temp: TempLibrary;
  service: LooktwiceService;
  server: RunningServer;
  /** The stub renderer folder the server serves (`index.html`). */
  rendererDir: string;
  /** Closes the server and the service and removes the temp folder. */
  close(): Promise<void>;
}

/** Writes `images` (file name → image) to a temp library's photos, ingests them and serves the library. */
export async function servedLibrary(prefix: string, images: Record<string, WriteImageOptions>): Promise<ServedLibrary> {
  const temp = tempLibrary(prefix);
  temp.library.close();
  for (const [name, options] of Object.entries(images)) await writeImage(path.join(temp.photosDir, name), options);
  const rendererDir = path.join(temp.dir, 'renderer-dist');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Looktwice</title>');
  const service = LooktwiceService.open(temp.dbPath);
  const { job } = await service.addFolder({ path: temp.photosDir });
  const done = await service.jobs.wait(job.jobId);
  if (done.status !== 'completed') throw new Error(`ingesting the test photos ended ${done.status}: ${done.error ?? ''}`);
  const server = await startServer({ api: service, rendererDir });
  return {
    temp,
    service,
    server,
    rendererDir,
    async close() {
      await server.close();
      await service.close();
      temp.cleanup();
    },
  };
}
