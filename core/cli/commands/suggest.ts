/**
 * `looktwice suggest` — which images to label next, each with its reason.
 * --json: {"suggestions":[{"image_id","path","predicted_class","confidence","reason"}]}.
 */
import { ProbeService } from '../../label/probe.service.ts';
import { openLibrary } from '../../store/db.ts';
import { EmbeddingsRepository } from '../../store/embeddings.repository.ts';
import { LabelsRepository } from '../../store/labels.repository.ts';
import { COMMON_OPTIONS, finiteNumber, parse, positiveInt, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';

const USAGE = `usage: looktwice suggest [--n N] [--db PATH] [--json] [--seed N]

Suggests the images whose labels would help the probe most. Before any probe: the most typical
image of each group of the library. With a probe: images it is unsure about (small margin
between its two best classes), spread out so that no two suggestions are near-copies.

  --n N         how many suggestions (default 20)
  --seed N      seed (default 0)
  --db PATH     library database (default: library.db in the per-user app data folder)
  --json        one JSON document:
                {"suggestions":[{"image_id","path","predicted_class","confidence","reason"}]}`;

export const suggestCommand: Command = {
  name: 'suggest',
  summary: 'which images to label next, and why',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parse(argv, { ...COMMON_OPTIONS, n: { type: 'string' }, seed: { type: 'string' } }, false);
    const count = positiveInt('n', values.n, 20);
    const seed = finiteNumber('seed', values.seed, 0);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const repository = new LabelsRepository(library.db);
      const suggestions = new ProbeService(repository, new EmbeddingsRepository(library.db)).suggest({ count, seed, signal: io.signal });
      const paths = repository.pathsOf(suggestions.map((s) => s.imageId));
      const rows = suggestions.map((s) => ({
        image_id: s.imageId,
        path: paths.get(s.imageId) ?? null,
        predicted_class: s.predictedClassName,
        confidence: s.confidence === null ? null : Number(s.confidence.toFixed(4)),
        reason: s.reason,
      }));
      if (values.json) io.stdout.write(`${JSON.stringify({ suggestions: rows })}\n`);
      else if (rows.length === 0) io.stdout.write('nothing to suggest: every embedded image is labeled\n');
      else for (const row of rows) io.stdout.write(`${row.path ?? `image ${row.image_id}`}\n    ${row.reason}\n`);
      return 0;
    } finally {
      library.close();
    }
  },
};
