/**
 * `looktwice labels-import SOURCE` — labels from a folder tree <class>/<file> or a CSV/JSONL of
 * path,label, matched to the library's images by content (core/app/interop.ts). --json: one JSON
 * document (the use case's result).
 */
import { openLibrary } from '../../store/db.ts';
import { labelsImportOptionsSchema } from '../../app/schemas.ts';
import { importLabels } from '../../app/interop.ts';
import { COMMON_OPTIONS, onePositional, optionsOnto, parse, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';

const USAGE = `usage: looktwice labels-import SOURCE [--dry-run] [--replace] [--db PATH] [--json]

Gives images of the library your labels from SOURCE:
  a folder        SOURCE/<class>/<file> (files in sub-folders of a class folder count for it),
                  as photos are often sorted already
  a .csv          a header with a path column (path, file, filename, file_name, image) and a
                  label column (label, class, category); content_hash may stand for the path
  a .jsonl        one object per line with the same keys
Each file is matched to its image by content (SHA-256), so copies elsewhere match; relative paths
are relative to the CSV/JSONL. Classes are created as needed.

  --dry-run   report what would be labeled (per class), change nothing
  --replace   replace a different label you gave before (default: keep it, count a conflict)
  --json      one JSON document: the result

Exit status: 0 when done (unmatched rows listed on stderr); 1 when SOURCE cannot be read.`;

export const labelsImportCommand: Command = {
  name: 'labels-import',
  summary: 'import labels from a <class>/<file> folder tree or a CSV/JSONL of path,label',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...COMMON_OPTIONS, 'dry-run': { type: 'boolean', default: false }, replace: { type: 'boolean', default: false } }, true);
    const source = onePositional(positionals, 'name the folder, .csv or .jsonl to import labels from');
    const options = optionsOnto(labelsImportOptionsSchema, values, { 'dry-run': 'dryRun', replace: 'replace' }, { source });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const result = await importLabels(library, options);
      for (const row of result.unmatched) io.stderr.write(`  ${typeof row.row === 'number' ? `row ${row.row}` : row.row}: ${row.key && row.key !== row.row ? `${row.key}: ` : ''}${row.reason}\n`);
      if (result.unmatchedCount > result.unmatched.length) io.stderr.write(`  … and ${result.unmatchedCount - result.unmatched.length} more unmatched rows\n`);
      if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        io.stdout.write(
          `${result.dryRun ? 'Dry run: would label' : 'Labeled'} ${result.labeled} image(s) from ${result.rows} ${result.kind} row(s): ${result.matched} matched, ` +
          `${result.unchanged} already so, ${result.conflicts} labeled differently by you (${options.replace ? 'replaced' : 'kept; --replace to replace'}), ${result.unmatchedCount} unmatched.\n` +
          Object.entries(result.perClass).map(([name, n]) => `  ${name}: ${n}${result.classesCreated.includes(name) ? ' (new class)' : ''}`).join('\n') + (Object.keys(result.perClass).length ? '\n' : ''),
        );
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
