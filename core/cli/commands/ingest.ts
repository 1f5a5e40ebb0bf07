/**
 * `looktwice ingest <folder...>` — bring folders into the library (incremental: only new,
 * changed and moved files are read). With --json, stdout is exactly
 * {"added","updated","unchanged","moved","missing","failed":[{"path","reason"}]}.
 * Exit 0 when the run completed (even with failed files); 1 when it could not proceed (the
 * database cannot be opened, or none of the folders exists); 130 when stopped by Ctrl-C.
 */
import { ingestFolders, type IngestOptions, type IngestReport, type IngestSummary } from '../../library/ingest.service.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { ingestOptionsSchema } from '../../app/schemas.ts';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { ProgressBar, formatDuration } from '../progress-bar.ts';

export const INGEST_OPTIONS = {
  ...COMMON_OPTIONS,
  concurrency: { type: 'string' },
  'max-megapixels': { type: 'string' },
  'batch-size': { type: 'string' },
  'follow-external-links': { type: 'boolean' },
} as const;

const USAGE = `usage: looktwice ingest <folder...> [--db PATH] [--json] [--concurrency N] [--max-megapixels N] [--batch-size N]
                        [--follow-external-links]

Scans the folders recursively and catalogues every JPEG, PNG, WebP, TIFF, GIF, AVIF and HEIC image:
content hash, size, dimensions, EXIF, a 256 px thumbnail and perceptual hashes (dHash, pHash).
Running it again only reads new and changed files; moved files keep their identity; deleted
files are marked missing. Your photos are only ever read.

  --db PATH             library database (default: library.db in the per-user app data folder)
  --json                print exactly one JSON document on stdout:
                        {"added","updated","unchanged","moved","missing","failed":[{"path","reason"}]}
  --concurrency N       files processed at once (default: CPU cores + 1)
  --max-megapixels N    refuse images larger than this without decoding them (default 268)
  --batch-size N        files committed per transaction (default 64); a crash redoes at most one batch
  --follow-external-links
                        also follow symbolic links that point outside the folders (by default they
                        are listed as not followed); the library's own data folder and system
                        pseudo-filesystems (/proc, /sys, /dev) are never scanned

Exit status: 0 when the run completed, even if some files failed; 1 when it could not proceed
(database not writable, none of the folders exists); 130 when stopped with Ctrl-C.`;

/** The JSON the CLI prints: exactly the documented keys, in order. */
export function summaryJson(summary: IngestSummary): IngestSummary {
  return {
    added: summary.added,
    updated: summary.updated,
    unchanged: summary.unchanged,
    moved: summary.moved,
    missing: summary.missing,
    failed: summary.failed.map((f) => ({ path: f.path, reason: f.reason })),
  };
}

/** Ingest options from the parsed command line. */
export function ingestOptionsFrom(values: { concurrency?: string; 'max-megapixels'?: string; 'batch-size'?: string; 'follow-external-links'?: boolean }, io: CliIo, bar: ProgressBar): IngestOptions {
  const parsed = optionsOnto(ingestOptionsSchema, values, { concurrency: 'concurrency', 'max-megapixels': 'maxMegapixels', 'batch-size': 'batchSize' });
  const options: IngestOptions = { signal: io.signal, onProgress: bar.update };
  if (parsed.concurrency !== undefined) options.concurrency = parsed.concurrency;
  if (parsed.maxMegapixels !== undefined) options.maxPixels = parsed.maxMegapixels * 1e6;
  if (parsed.batchSize !== undefined) options.batchSize = parsed.batchSize;
  if (values['follow-external-links']) options.followExternalLinks = true;
  return options;
}

const MAX_FAILURES_LISTED = 20;

/** Human lines for an ingest report (shared with `curate`). */
export function formatIngestReport(report: IngestReport): string[] {
  const seconds = report.elapsedMs / 1000;
  const processed = report.added + report.updated + report.moved + report.failed.length;
  const lines = [
    `${report.cancelled ? 'Stopped early' : 'Ingested'}: ${report.scanned} image files in ${report.roots.filter((r) => r.exists).length} folder(s), ${seconds < 10 ? `${seconds.toFixed(1)}s` : formatDuration(seconds)}` +
      (processed > 0 && seconds > 0 ? ` (${(processed / seconds).toFixed(1)} files/s read)` : ''),
    `  added ${report.added} · updated ${report.updated} · unchanged ${report.unchanged} · moved ${report.moved} · missing ${report.missing} · failed ${report.failed.length}`,
  ];
  if (report.failed.length > 0) {
    lines.push('Could not ingest:');
    for (const failure of report.failed.slice(0, MAX_FAILURES_LISTED)) lines.push(`  ${failure.path}: ${failure.reason}`);
    if (report.failed.length > MAX_FAILURES_LISTED) lines.push(`  … and ${report.failed.length - MAX_FAILURES_LISTED} more (--json lists them all)`);
  }
  if (report.cancelled) lines.push('Stopped by Ctrl-C: everything processed so far is saved; run the same command again to resume.');
  return lines;
}

/** Exit code for a finished ingest: 130 if cancelled, 1 if no folder existed, else 0. */
export function ingestExitCode(report: IngestReport): number {
  if (report.cancelled) return 130;
  if (report.roots.length > 0 && report.roots.every((r) => !r.exists)) return 1;
  return 0;
}

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'catalogue photo folders (incremental: only new or changed files are read)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, INGEST_OPTIONS);
    if (positionals.length === 0) throw new UsageError('give at least one folder to ingest');
    const bar = new ProgressBar(io.stderr);
    const options = ingestOptionsFrom(values, io, bar);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    let report: IngestReport;
    try {
      report = await ingestFolders(library, positionals, options);
    } finally {
      bar.done();
      library.close();
    }
    const code = ingestExitCode(report);
    if (values.json) io.stdout.write(`${JSON.stringify(summaryJson(report))}\n`);
    else io.stdout.write(`${formatIngestReport(report).join('\n')}\n`);
    if (code === 1) io.stderr.write(`looktwice ingest: none of the folders exists: ${report.roots.map((r) => r.path).join(', ')}\n`);
    return code;
  },
};
