/**
 * `looktwice map` — computes and stores the 2-D map (UMAP) the app shows.
 * --json: {"points":[{"path","x","y"}]}.
 */
import { z } from 'zod';
import { computeMap } from '../../app/curation.ts';
import { pathsOf } from '../../app/labels.ts';
import { wholeNumber } from '../../app/schemas.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const usage = `usage: looktwice map [--fit-sample N] [--db PATH] [--json]

Lays the library out in 2-D (UMAP with cosine distance) on the trained model's embeddings, or
on pixel layout and colour without one, and stores the coordinates for the app. Large
libraries are fitted on a random sample and the rest placed onto it.

  --fit-sample N   images UMAP is fitted on (default 4000)
  --json           {"points":[{"path","x","y"}]} on stdout`;

export const mapCommand: Command = {
  name: 'map',
  summary: 'compute the 2-D map of the library (UMAP)',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, { ...COMMON_OPTIONS, 'fit-sample': { type: 'string' } }, false);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    const bar = new ProgressBar(io.stderr);
    try {
      const { fitSample } = optionsOnto(z.object({ fitSample: wholeNumber(1).default(4000) }), values, { 'fit-sample': 'fitSample' });
      const result = await computeMap(library, { fitSample }, { signal: io.signal, onProgress: bar.update });
      bar.done();
      const pathOf = pathsOf(library, result.points.map((p) => p.imageId));
      const points = result.points.flatMap((p) => (pathOf.has(p.imageId) ? [{ path: pathOf.get(p.imageId)!, x: round(p.x), y: round(p.y) }] : []));
      if (values.json) io.stdout.write(`${JSON.stringify({ points })}\n`);
      else io.stdout.write(`mapped ${points.length} photo(s) on ${result.source}\n`);
      return 0;
    } finally {
      library.close();
    }
  },
};

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
