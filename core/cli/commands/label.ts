/**
 * `looktwice label <class> <path…>` — label images (a folder path labels every image under it);
 * `looktwice label --clear <path…>` — clear their labels. History is kept either way.
 * --json: {"class":"cat","labeled":N,"not_found":[{"path","reason"}]} or {"cleared":N,"not_found":[…]}.
 */
import { clearPaths, labelPaths } from '../../app/labels.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';

const USAGE = `usage: looktwice label <class> <path...> [--db PATH] [--json]
       looktwice label --clear <path...> [--db PATH] [--json]

Labels the images at the given paths (files, or folders: every image under them) with the class,
creating the class if it does not exist yet. A label replaces the image's previous one; every
change is kept in the label history. --clear removes the labels instead.
Paths must belong to the library (see \`looktwice ingest\`); others are listed as not found.

  --clear       clear the labels of the images instead of setting them
  --db PATH     library database (default: library.db in the per-user app data folder)
  --json        one JSON document: {"class","labeled","not_found":[{"path","reason"}]}
                (with --clear: {"cleared","not_found":[…]})

Exit status: 0 when done; 1 when no path matched an image of the library; 2 on a usage error.`;

export const labelCommand: Command = {
  name: 'label',
  summary: 'label images with a class (or --clear their labels)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...COMMON_OPTIONS, clear: { type: 'boolean', default: false } });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      let json: Record<string, unknown>;
      let text: string;
      let result;
      if (values.clear) {
        if (positionals.length === 0) throw new UsageError('give the paths whose labels to clear');
        result = clearPaths(library, positionals);
        json = { cleared: result.changed, not_found: result.notFound };
        text = `cleared ${result.changed} label(s) of ${result.images} image(s)`;
      } else {
        const [className, ...paths] = positionals;
        if (!className || paths.length === 0) throw new UsageError('give a class name and at least one path');
        result = labelPaths(library, className, paths);
        json = { class: className.trim(), labeled: result.changed, not_found: result.notFound };
        text = `labeled ${result.changed} image(s) as "${className.trim()}"`;
      }
      if (values.json) io.stdout.write(`${JSON.stringify(json)}\n`);
      else io.stdout.write(`${text}\n`);
      for (const missing of result.notFound) io.stderr.write(`not found: ${missing.path}: ${missing.reason}\n`);
      return result.images === 0 ? 1 : 0;
    } finally {
      library.close();
    }
  },
};
