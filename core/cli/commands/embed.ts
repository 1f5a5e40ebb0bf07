/**
 * `looktwice embed` — compute the embedding h = f(x) of every image with a trained encoder
 * (default: the newest completed or stopped run), incrementally. With --json stdout is exactly {"embedded","run","dim"}.
 */
import { openLibrary } from '../../store/db.ts';
import { embedOptionsSchema } from '../../app/schemas.ts';
import { embed } from '../../app/embedding.ts';
import { loadInProcessMl } from '../../app/ml.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';
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

  --run ID       the training run whose encoder to use: a completed or stopped run
                 (default: the newest of those)
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
    const { values } = parse(argv, OPTIONS, false);
    const options = optionsOnto(embedOptionsSchema, values, { run: 'runId', backend: 'backend', batch: 'batchSize' });
    const bar = new ProgressBar(io.stderr);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      // TensorFlow.js loads only when a command needs it (seconds), not for every CLI start.
      const result = await embed(library, loadInProcessMl, options, { signal: io.signal, onProgress: bar.update });
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
