/**
 * Entry of the engine process (bundled to dist-electron/engine.cjs and started by main.ts with
 * `utilityProcess.fork(engine.cjs, ['--db', <path>])`). Runs the library service — ingest,
 * training, embedding, curation, export — away from the main process, so the window never
 * freezes. Also runs under plain Node when forked with an IPC channel (see serve.ts).
 */
import { installGpuFromEnvironment } from './gpu.ts';
import { createLooktwiceEngine, toContractError } from './looktwice-engine.ts';
import { serveEngine } from './serve.ts';

/** The value after `--db` in argv. */
export function dbPathFromArgv(argv: readonly string[]): string {
  const index = argv.indexOf('--db');
  const value = index >= 0 ? argv[index + 1] : undefined;
  if (value === undefined || value === '') throw new Error('the engine needs --db <path of the library database>');
  return value;
}

void serveEngine(async () => {
  const dbPath = dbPathFromArgv(process.argv);
  await installGpuFromEnvironment(process.env);
  return createLooktwiceEngine(dbPath);
}, { toWire: toContractError });
