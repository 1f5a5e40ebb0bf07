/**
 * `looktwice suggest` — which images to label next, each with its reason.
 * --json: {"suggestions":[{"image_id","path","predicted_class","confidence","reason"}]}.
 */
import { z } from 'zod';
import { pathsOf, suggestImages } from '../../app/labels.ts';
import { derivedStates } from '../../app/derived.ts';
import { wholeNumber } from '../../app/schemas.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
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
    const { count, seed } = optionsOnto(z.object({ count: wholeNumber(1).default(20), seed: wholeNumber().default(0) }), values, { n: 'count', seed: 'seed' });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const probe = derivedStates(library).probe;
      if (probe.stale) io.stderr.write(`note: the probe is out of date (${probe.changed.join(' and ')} changed since it ran); run \`looktwice probe\` for better suggestions\n`);
      const suggestions = suggestImages(library, { count, seed, signal: io.signal });
      const paths = pathsOf(library, suggestions.map((s) => s.imageId));
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
