/**
 * `looktwice flags` — photos that are blurry, too dark/bright, low-information, near-uniform,
 * oddly shaped, tiny, or outliers. --json: {"flags":[{"path","flags":[…],"scores":{…}}]}.
 */
import { computeFlags } from '../../app/curation.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, parse, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const usage = `usage: looktwice flags [--all] [--db PATH] [--json]

Checks every photo: blurry (variance of the Laplacian, relative to the library), too_dark,
too_bright, low_information (histogram entropy), uniform, odd_aspect (over 3:1), tiny (short
side under 128 px), outlier (far from all its neighbours), unreadable. Scores are cached, so a
rerun only analyses new photos.

  --all    list every photo with its scores, not only flagged ones
  --json   {"flags":[{"path","flags":[…],"scores":{…}}]} on stdout`;

export const flagsCommand: Command = {
  name: 'flags',
  summary: 'spot blurry, dark, bright, blank, tiny and outlier photos',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, { ...COMMON_OPTIONS, all: { type: 'boolean', default: false } }, false);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    const bar = new ProgressBar(io.stderr);
    try {
      // Stored, so the app's Quality screen shows the same flags.
      const { images } = await computeFlags(library, { signal: io.signal, onProgress: bar.update });
      const flagged = values.all ? images : images.filter((image) => image.flags.length > 0);
      bar.done();
      if (values.json) io.stdout.write(`${JSON.stringify({ flags: flagged.map((f) => ({ path: f.path, flags: f.flags, scores: f.scores })) })}\n`);
      else if (flagged.length === 0) io.stdout.write('no photo flagged\n');
      else for (const f of flagged) io.stdout.write(`${f.flags.join(',') || '-'}  ${f.path}\n`);
      return 0;
    } finally {
      library.close();
    }
  },
};
