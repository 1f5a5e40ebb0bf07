/**
 * `looktwice similar <path>` — the library images most like one photo.
 * --json: {"results":[{"path","score"}]}.
 */
import { z } from 'zod';
import { findSimilar } from '../../app/curation.ts';
import { wholeNumber } from '../../app/schemas.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const usage = `usage: looktwice similar <path> [--k N] [--db PATH] [--json]

Lists the k library images most similar to <path> (a photo already in the library), by cosine
similarity of the trained model's embeddings, or of the pixel layout and colours without one.

  --k N    how many (default 10)
  --json   {"results":[{"path","score"}]} on stdout`;

export const similarCommand: Command = {
  name: 'similar',
  summary: 'find the photos most similar to one photo',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...COMMON_OPTIONS, k: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('give exactly one photo path');
    const { k } = optionsOnto(z.object({ k: wholeNumber(1).default(10) }), values, { k: 'k' });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    const bar = new ProgressBar(io.stderr);
    try {
      const found = await findSimilar(library, positionals[0]!, k, { signal: io.signal, onProgress: bar.update });
      bar.done();
      if (values.json) io.stdout.write(`${JSON.stringify({ results: found.results.map((r) => ({ path: r.path, score: r.score })) })}\n`);
      else {
        io.stderr.write(`by ${found.source === 'pixels' ? (found.note ?? 'pixel layout and colour (no trained model yet)') : found.source}\n`);
        for (const r of found.results) io.stdout.write(`${r.score.toFixed(3)}  ${r.path}\n`);
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
