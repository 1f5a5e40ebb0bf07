/**
 * `looktwice curate <folder...>` — the headless twin of the desktop app: runs the pipeline on
 * the folders and prints what it found. Today the pipeline is ingest; later stages (train →
 * embed → duplicates → clusters …) are appended to CURATE_STAGES, each one a small object that
 * runs on the shared context and returns its own summary lines and JSON.
 */
import type { Library } from '../../store/db.ts';
import { openLibrary } from '../../store/db.ts';
import { ImagesRepository, type LibraryStats } from '../../store/images.repository.ts';
import { ingestFolders, type IngestReport } from '../../library/ingest.service.ts';
import type { ProgressListener } from '../../common/progress.ts';
import { parse, resolveDbPath } from '../args.ts';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';
import { formatIngestReport, ingestExitCode, summaryJson, INGEST_OPTIONS, ingestOptionsFrom } from './ingest.ts';

/** What every stage gets: the open library, the folders, and where to report. */
export interface CurateContext {
  library: Library;
  /** The folders given on the command line. */
  folders: string[];
  /** Absolute roots of those folders that exist (set by the ingest stage). */
  roots: string[];
  /** Parsed command-line values (stages may read their own options). */
  values: Record<string, unknown>;
  io: CliIo;
  signal: AbortSignal;
  onProgress: ProgressListener;
  bar: ProgressBar;
}

/** What a stage reports back. */
export interface StageOutcome {
  /** Lines for the human summary. */
  lines: string[];
  /** This stage's part of the --json document (under the stage's name). */
  json: unknown;
  /** Non-zero stops the pipeline with this exit code (e.g. 130 when cancelled). */
  exitCode?: number;
}

export interface CurateStage {
  name: string;
  run(context: CurateContext): Promise<StageOutcome>;
}

/** Stage 1: ingest the folders. */
export const ingestStage: CurateStage = {
  name: 'ingest',
  async run(context) {
    const options = ingestOptionsFrom(context.values as { concurrency?: string; 'max-megapixels'?: string; 'batch-size'?: string }, context.io, context.bar);
    let report: IngestReport;
    try {
      report = await ingestFolders(context.library, context.folders, options);
    } finally {
      context.bar.done();
    }
    context.roots = report.roots.filter((r) => r.exists).map((r) => r.path);
    const exitCode = ingestExitCode(report);
    const lines = formatIngestReport(report);
    if (exitCode === 1) lines.push(`None of the folders exists: ${report.roots.map((r) => r.path).join(', ')}`);
    return { lines, json: summaryJson(report), exitCode };
  },
};

/** The pipeline, in order. Later issues append their stages here. */
export const CURATE_STAGES: CurateStage[] = [ingestStage];

/** Human lines describing the library under `roots`. */
export function formatLibraryStats(stats: LibraryStats): string[] {
  const formats = Object.entries(stats.byFormat).map(([format, n]) => `${format} ${n}`).join(', ');
  const lines = [
    `Library: ${stats.images} images (${stats.filesPresent} files present${stats.filesMissing > 0 ? `, ${stats.filesMissing} missing` : ''})`,
  ];
  if (formats) lines.push(`  formats: ${formats}`);
  lines.push(`  taken: ${stats.takenAtRange ? `${stats.takenAtRange.first.slice(0, 10)} … ${stats.takenAtRange.last.slice(0, 10)}` : 'no EXIF dates'}`);
  if (stats.ingestErrors > 0) lines.push(`  ${stats.ingestErrors} file(s) could not be ingested (listed above)`);
  return lines;
}

const USAGE = `usage: looktwice curate <folder...> [--db PATH] [--json] [ingest options]

Runs the whole pipeline on the folders and prints what it found. Today: ingest (see
\`looktwice ingest --help\` for its options) and a summary of the library — counts, formats,
date range and errors. With --json, stdout is one document: {"<stage>": …, "library": …}.`;

export const curateCommand: Command = {
  name: 'curate',
  summary: 'run the whole pipeline on photo folders and print a summary (today: ingest)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, INGEST_OPTIONS);
    if (values.help) {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('give at least one folder to curate');
    const bar = new ProgressBar(io.stderr);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    const context: CurateContext = { library, folders: positionals, roots: [], values, io, signal: io.signal, onProgress: bar.update, bar };
    const json: Record<string, unknown> = {};
    const lines: string[] = [];
    let exitCode = 0;
    try {
      for (const stage of CURATE_STAGES) {
        const outcome = await stage.run(context);
        json[stage.name] = outcome.json;
        lines.push(...outcome.lines);
        if (!values.json) io.stdout.write(`${outcome.lines.join('\n')}\n`);
        if (outcome.exitCode) {
          exitCode = outcome.exitCode;
          break;
        }
      }
      const stats = new ImagesRepository(library.db).stats(context.roots.length > 0 ? context.roots : undefined);
      json.library = stats;
      if (!values.json) io.stdout.write(`${formatLibraryStats(stats).join('\n')}\n`);
    } finally {
      bar.done();
      library.close();
    }
    if (values.json) io.stdout.write(`${JSON.stringify(json)}\n`);
    return exitCode;
  },
};
