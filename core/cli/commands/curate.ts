/**
 * `looktwice curate <folder...>` — the headless twin of the desktop app: runs the pipeline on
 * the folders (ingest → train → embed → duplicates → clusters → map → flags), prints what it
 * found and serves the UI. Each stage is a small object in CURATE_STAGES that runs on the shared
 * context and returns its own summary lines and JSON; the stages after ingest are the shared
 * pipeline steps of core/app/pipeline.ts, so the app's "curate" job and this command agree.
 */
import type { Library } from '../../store/db.ts';
import { openLibrary } from '../../store/db.ts';
import { ImagesRepository, type LibraryStats } from '../../store/images.repository.ts';
import type { IngestReport } from '../../library/ingest.service.ts';
import { ingest } from '../../app/ingest.ts';
import type { ProgressListener } from '../../common/progress.ts';
import { parse, resolveDbPath } from '../args.ts';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';
import { formatIngestReport, ingestExitCode, summaryJson, INGEST_OPTIONS, ingestOptionsFrom } from './ingest.ts';
import { CancelledError } from '../../common/progress.ts';
import { optionsOnto, positiveInt } from '../args.ts';
import { runPipelineStep, type PipelineStep } from '../../app/pipeline.ts';
import { trainOptionsSchema, type TrainOptionsOut } from '../../app/schemas.ts';
import { serveLibrary } from '../../api/serve.ts';
// The pipeline trains in a worker thread, as the app does (the progress bar keeps moving).
import { loadMl } from '../../api/ml-loader.ts';

/** What every stage gets: the open library, the folders, and where to report. */
export interface CurateContext {
  library: Library;
  /** The folders given on the command line. */
  folders: string[];
  /** Absolute roots of those folders that exist (set by the ingest stage). */
  roots: string[];
  /** Parsed command-line values (stages may read their own options). */
  values: Record<string, unknown>;
  /** Training options, parsed onto the API's schema. */
  train: TrainOptionsOut;
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
      report = await ingest(context.library, context.folders, options);
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

/** Training options from the command line, onto the API's schema (the rest comes from the device's default budget). */
function trainOptionsFrom(values: Record<string, unknown>): TrainOptionsOut {
  return optionsOnto(trainOptionsSchema, values, { backend: 'backend', steps: 'steps', epochs: 'epochs', size: 'sizePx', threads: 'threads' });
}

const STAGE_TITLES: Record<Exclude<PipelineStep, 'ingest'>, string> = {
  train: 'Train', embed: 'Embed', duplicates: 'Duplicates', clusters: 'Clusters', map: 'Map', flags: 'Quality',
};

/** A stage that runs one shared pipeline step; a failed step is reported and the rest carry on. */
function pipelineStage(step: Exclude<PipelineStep, 'ingest'>): CurateStage {
  const title = STAGE_TITLES[step];
  return {
    name: step,
    async run(context) {
      try {
        const outcome = await runPipelineStep(step, {
          library: context.library,
          ml: loadMl,
          folders: context.roots,
          train: context.train,
          signal: context.signal,
          onProgress: context.onProgress,
          log: (_level, message) => {
            context.bar.done();
            context.io.stderr.write(`${message}\n`);
          },
        });
        return { lines: [`${title}: ${outcome.summary}`, ...(outcome.details ?? [])], json: outcome.json };
      } catch (error) {
        if (error instanceof CancelledError || context.signal.aborted) {
          return { lines: [`${title}: stopped — run \`looktwice curate\` again to continue where it stopped`], json: null, exitCode: 130 };
        }
        return { lines: [`${title}: failed — ${(error as Error).message}`], json: { error: (error as Error).message } };
      } finally {
        context.bar.done();
      }
    },
  };
}

/** The pipeline, in order. */
export const CURATE_STAGES: CurateStage[] = [
  ingestStage,
  ...(['train', 'embed', 'duplicates', 'clusters', 'map', 'flags'] as const).map(pipelineStage),
];

/** Options of curate: ingest's, training's budget, and serving at the end. */
const CURATE_OPTIONS = {
  ...INGEST_OPTIONS,
  backend: { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  size: { type: 'string' },
  threads: { type: 'string' },
  'no-serve': { type: 'boolean', default: false },
  port: { type: 'string' },
  host: { type: 'string' },
} as const;

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

const USAGE = `usage: looktwice curate <folder...> [--db PATH] [--json] [--no-serve] [ingest options]
                         [--backend auto|tensorflow|webgpu|wasm|cpu] [--steps N | --epochs N] [--size PX]
                         [--threads N] [--port N] [--host ADDR]

Runs the whole pipeline on the folders: ingest (see \`looktwice ingest --help\` for its
options), SimCLR training with a budget sized to the device it finds (it says which, and how
long, before starting), embeddings, duplicates, clusters, the 2-D map and quality flags; then
prints a summary and serves the app in your browser (like \`looktwice serve\`) until Ctrl-C.
Running it again continues where the last run stopped: unchanged files are skipped, a stopped
training run resumes, a finished model is reused, only missing embeddings are computed.

  --threads N   training threads (default: one per core)
  --no-serve    stop after the summary (implied by --json)
With --json, stdout is one document: {"<stage>": …, "library": …}.`;

export const curateCommand: Command = {
  name: 'curate',
  summary: 'run the whole pipeline on photo folders, print a summary and open the app',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, CURATE_OPTIONS);
    if (positionals.length === 0) throw new UsageError('give at least one folder to curate');
    const train = trainOptionsFrom(values); // bad training options are a usage error before any work
    const bar = new ProgressBar(io.stderr);
    const dbPath = resolveDbPath(values.db, io.env);
    const library = openLibrary(dbPath);
    const context: CurateContext = { library, folders: positionals, roots: [], values, train, io, signal: io.signal, onProgress: bar.update, bar };
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
    if (exitCode !== 0 || values.json || values['no-serve'] || io.signal.aborted) return exitCode;
    const port = values.port === undefined ? 0 : positiveInt('port', values.port, 0);
    const serving = await serveLibrary({ dbPath, host: values.host ?? '127.0.0.1', port, log: (line) => io.stderr.write(`${line}\n`) });
    io.stdout.write(`\nOpen ${serving.server.url}\nto review duplicates, clusters, the map and labels (Ctrl-C to stop).\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await serving.close();
    return exitCode;
  },
};
