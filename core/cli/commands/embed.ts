/**
 * `looktwice embed` — compute the embedding h = f(x) of every image with a trained encoder
 * (default: the newest run), incrementally. With --json stdout is exactly {"embedded","run","dim"}.
 */
import { parseBackendChoice } from '../../ml/choices.ts';
import type { embedLibrary as EmbedLibrary } from '../../ml/embed.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, parse, positiveInt, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  run: { type: 'string' },
  backend: { type: 'string' },
  batch: { type: 'string' },
} as const;

const USAGE = `usage: looktwice embed [--db PATH] [--run ID] [--backend auto|tensorflow|webgpu|wasm|cpu] [--batch N] [--json]

Computes one L2-normalised embedding per image with a trained encoder (no augmentation) and stores
it in the library. Only images without an embedding for that run are computed.

  --run ID       the training run whose encoder to use (default: the newest with a checkpoint)
  --backend B    as for train (default auto)
  --batch N      images per forward pass (default 128)
  --json         print exactly one JSON document: {"embedded","run","dim"}

Exit status: 0 when done (images that could not be decoded are listed on stderr); 1 when it could
not proceed (no trained run); 130 when stopped by Ctrl-C (finished batches are kept).`;

export const embedCommand: Command = {
  name: 'embed',
  summary: 'compute image embeddings with the trained encoder (incremental)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, OPTIONS, false);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let backend;
    try {
      backend = parseBackendChoice(values.backend ?? 'auto');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const options: Parameters<typeof EmbedLibrary>[1] = { backend, signal: io.signal };
    if (values.run !== undefined) options.runId = positiveInt('run', values.run, 1);
    if (values.batch !== undefined) options.batchSize = positiveInt('batch', values.batch, 128);
    const bar = new ProgressBar(io.stderr);
    options.onProgress = bar.update;
    // TensorFlow.js loads only when a command needs it (seconds), not for every CLI start.
    const { embedLibrary } = await import('../../ml/embed.ts');
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const result = await embedLibrary(library, options);
      bar.done();
      io.stderr.write(`backend: ${result.backend.backend} · device: ${result.backend.device}\n`);
      for (const failure of result.failed) io.stderr.write(`  could not decode ${failure.path}: ${failure.reason}\n`);
      if (values.json) io.stdout.write(`${JSON.stringify({ embedded: result.embedded, run: result.run, dim: result.dim })}\n`);
      else io.stdout.write(`Embedded ${result.embedded} images with run ${result.run} (${result.dim}-d).\n`);
      return 0;
    } finally {
      bar.done();
      library.close();
    }
  },
};
