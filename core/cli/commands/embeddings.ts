/**
 * `looktwice embeddings export|import` — the embeddings of a run out as Parquet or .npy + CSV,
 * and embeddings computed elsewhere in, matched by content hash (core/app/interop.ts).
 * --json: one JSON document (the use case's result).
 */
import { openLibrary } from '../../store/db.ts';
import { embeddingsExportOptionsSchema, embeddingsImportOptionsSchema } from '../../app/schemas.ts';
import { exportEmbeddings, importEmbeddings } from '../../app/interop.ts';
import { COMMON_OPTIONS, onePositional, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';

const USAGE = `usage: looktwice embeddings export --out FILE [--format parquet|npy] [--run ID] [--force] [--db PATH] [--json]
       looktwice embeddings import FILE [--rows CSV] [--name TEXT] [--dry-run] [--db PATH] [--json]

export  one row per embedded image: id, path, content_hash, split, label, embedding (L2-normalised
        float32). parquet (default): FILE.parquet, embedding as list<float> —
          pandas.read_parquet("FILE.parquet") · duckdb "SELECT * FROM 'FILE.parquet'"
        npy: FILE.npy (float32 [N, D]) + FILE.csv (row, id, path, content_hash, split, label) —
          numpy.load("FILE.npy")
        label is the current one (yours, else the probe's); split is the one the dataset export
        gives with its default settings (empty when the image would not be exported).

import  vectors computed elsewhere become a new run (used by similar, cluster, map and probe).
        FILE is a .parquet with an "embedding" column (list of numbers) and a "content_hash" or
        "path" column, or a .npy (N, D) with a CSV (default: FILE with .csv) whose row k, with a
        content_hash or path column, describes vector k. Rows match images by content hash; a
        path is hashed, so copies elsewhere match. Unmatched rows are listed, not fatal.

  --out FILE      where to write (.parquet or .npy, as --format)
  --format F      parquet (default) or npy
  --run ID        the run whose embeddings to export (default: the newest with embeddings)
  --force         replace existing files
  --rows CSV      the CSV of a .npy import
  --name TEXT     how the run is listed (default: the file name)
  --dry-run       report what would match, import nothing
  --json          one JSON document: the result

Exit status: 0 when done (unmatched rows listed on stderr); 1 when the file cannot be used.`;

export const embeddingsCommand: Command = {
  name: 'embeddings',
  summary: 'export embeddings (Parquet, .npy + CSV) or import ones computed elsewhere',
  usage: USAGE,
  async run(argv, io) {
    const [action, ...rest] = argv;
    if (action !== 'export' && action !== 'import') throw new UsageError(action ? `unknown action "${action}" (export or import)` : 'say export or import');
    if (action === 'export') {
      const { values } = parse(rest, { ...COMMON_OPTIONS, out: { type: 'string' }, format: { type: 'string' }, run: { type: 'string' }, force: { type: 'boolean', default: false } }, false);
      if (!values.out) throw new UsageError('--out FILE is required');
      const options = optionsOnto(embeddingsExportOptionsSchema, values, { out: 'out', format: 'format', run: 'runId', force: 'force' });
      const library = openLibrary(resolveDbPath(values.db, io.env));
      try {
        const result = await exportEmbeddings(library, options);
        if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
        else io.stdout.write(`Wrote ${result.rows} embeddings (${result.dim}-d, run ${result.run}) to ${result.files.join(' + ')}\n`);
        return 0;
      } finally {
        library.close();
      }
    }
    const { values, positionals } = parse(rest, { ...COMMON_OPTIONS, rows: { type: 'string' }, name: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } }, true);
    const file = onePositional(positionals, 'name the .parquet or .npy file to import');
    const options = optionsOnto(embeddingsImportOptionsSchema, values, { rows: 'rows', name: 'name', 'dry-run': 'dryRun' }, { file });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const result = await importEmbeddings(library, options);
      for (const row of result.unmatched) io.stderr.write(`  row ${row.row}: ${row.key ? `${row.key}: ` : ''}${row.reason}\n`);
      if (result.unmatchedCount > result.unmatched.length) io.stderr.write(`  … and ${result.unmatchedCount - result.unmatched.length} more unmatched rows\n`);
      if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.dryRun) io.stdout.write(`Dry run: ${result.matched} of ${result.rows} rows match an image (${result.dim}-d); ${result.unmatchedCount} unmatched. Nothing imported.\n`);
      else if (result.run === null) io.stdout.write(`No row of ${result.rows} matches an image of the library; nothing imported.\n`);
      else io.stdout.write(`Imported ${result.matched} of ${result.rows} embeddings (${result.dim}-d) as run ${result.run}; ${result.unmatchedCount} unmatched.\n`);
      return 0;
    } finally {
      library.close();
    }
  },
};
