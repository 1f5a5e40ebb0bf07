/**
 * `looktwice classes` — the classes with their label counts.
 * --json: {"classes":[{"id","name","user_labels","probe_labels"}]}.
 */
import { listClasses } from '../../app/labels.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, parse, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';

const USAGE = `usage: looktwice classes [--db PATH] [--json]

Lists the classes with how many images the user labeled and how many the probe labeled
(accepted predictions plus confident predictions of the latest probe).

  --db PATH     library database (default: library.db in the per-user app data folder)
  --json        one JSON document: {"classes":[{"id","name","user_labels","probe_labels"}]}`;

export const classesCommand: Command = {
  name: 'classes',
  summary: 'list the classes with their label counts',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parse(argv, COMMON_OPTIONS, false);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const classes = listClasses(library);
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ classes: classes.map((c) => ({ id: c.id, name: c.name, user_labels: c.userLabels, probe_labels: c.probeLabels })) })}\n`);
      } else if (classes.length === 0) {
        io.stdout.write('no classes yet: label a few images with `looktwice label <class> <path…>`\n');
      } else {
        const width = Math.max(5, ...classes.map((c) => c.name.length));
        io.stdout.write(`${'class'.padEnd(width)}  user  probe\n`);
        for (const c of classes) io.stdout.write(`${c.name.padEnd(width)}  ${String(c.userLabels).padStart(4)}  ${String(c.probeLabels).padStart(5)}\n`);
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
