/**
 * The parameters of every operation, declared once with zod: ranges, enums and defaults live
 * here and nowhere else. The API contract's parameter types are derived from these schemas
 * (z.input), the service validates every call with them (so HTTP and IPC get the same checks),
 * and the CLI parses its options onto them (core/cli/args.ts), so a bad value gets the same
 * message from every front door.
 *
 * Every message is a predicate ("must be a whole number of at least 1"); `describeIssues`
 * prefixes the field's name — `limit` for the API, `--limit` for the CLI.
 *
 * Must stay importable by the renderer's type-check (through contract.ts): no Node imports.
 */
import { z } from 'zod';
import { InvalidParamsError } from '../common/errors.ts';
import { FLAG_KINDS } from '../common/flag-kinds.ts';
import { BACKEND_CHOICES, OPTIMIZERS, RESNET_ARCHS } from '../ml/choices.ts';
import { MAX_CLASS_NAME_LENGTH } from '../label/labels.service.ts';

// ───────────── building blocks (each carries its own message) ─────────────

/** A whole number in [min, max]. */
export function wholeNumber(min = 0, max?: number) {
  const message = `must be a whole number${min !== 0 ? ` of at least ${min}` : ''}${max !== undefined ? ` and at most ${max}` : ''}`;
  const base = z.number({ error: message }).int({ error: message }).min(min, { error: message });
  return max === undefined ? base : base.max(max, { error: message });
}

/** A finite number in [min, max]. */
export function numberBetween(min: number, max: number) {
  const message = `must be a number between ${min} and ${max}`;
  return z.number({ error: message }).min(min, { error: message }).max(max, { error: message });
}

/** Non-empty text of at most maxLength characters. */
export function text(maxLength = 4096) {
  const message = maxLength < 4096 ? `must be a non-empty text of at most ${maxLength} characters` : 'must be a non-empty text';
  return z.string({ error: message }).max(maxLength, { error: message }).refine((value) => value.trim() !== '', { error: message });
}

/** One of the listed words. */
export function oneOf<T extends string>(values: readonly T[]) {
  // z.enum wants a non-empty tuple; every list here is a non-empty constant.
  return z.enum(values as unknown as [T, ...T[]], { error: `must be one of ${values.join(', ')}` });
}

/** A list of image/record ids. */
export function idList(maxLength = 1_000_000) {
  return z.array(wholeNumber(), { error: 'must be a list of ids' }).max(maxLength, { error: `must be a list of at most ${maxLength} ids` });
}

const yesNo = z.boolean({ error: 'must be true or false' });

// ───────────── shared option groups ─────────────

/** Training resolutions the Train screen offers (any multiple of 8 in range trains). */
export const TRAIN_SIZES_PX = [16, 32, 64, 96, 128] as const;
export const TRAIN_ARCHS = RESNET_ARCHS;
export const flagKindSchema = oneOf(FLAG_KINDS);

/** SimCLR training options: the one set of limits for the app, `train`, `curate` and the pipeline. */
export const trainOptionsSchema = z
  .object({
    backend: oneOf(BACKEND_CHOICES).optional(),
    arch: oneOf(RESNET_ARCHS).optional(),
    /** Training resolution, square, in pixels. */
    sizePx: wholeNumber(8, 512)
      .refine((value) => value % 8 === 0, { error: 'must be a multiple of 8 between 8 and 512' })
      .optional(),
    /** Images per step (two views each); NT-Xent needs at least 2. */
    batchSize: wholeNumber(2, 65536).optional(),
    /** Passes over the library; or */
    epochs: numberBetween(0.01, 100000).optional(),
    /** optimizer steps (give one of the two). */
    steps: wholeNumber(1, 10_000_000).optional(),
    /** NT-Xent temperature τ. */
    temperature: numberBetween(0.01, 10).optional(),
    learningRate: numberBetween(1e-7, 10).optional(),
    optimizer: oneOf(OPTIMIZERS).optional(),
    checkpointEverySteps: wholeNumber(1).optional(),
    seed: wholeNumber().optional(),
    /** Training threads (default: one per core). Not part of the run's configuration: any count trains the same model. */
    threads: wholeNumber(1, 256).optional(),
  })
  .refine((options) => options.epochs === undefined || options.steps === undefined, { error: 'Give epochs or steps, not both.' });

/** Embedding options (`embed`; the API takes the run only). */
export const embedOptionsSchema = z.object({
  /** The run whose encoder embeds (default: the newest completed or stopped run). */
  runId: wholeNumber(1).optional(),
  backend: oneOf(BACKEND_CHOICES).optional(),
  /** Images per forward pass. */
  batchSize: wholeNumber(1).optional(),
});

/** Linear-probe settings (`probe`; the app uses the defaults). */
export const probeSettingsSchema = z.object({
  /** Confidence under which a prediction is unsure. */
  unsureBelow: numberBetween(0, 1).default(0.5),
  /** L2 regularisation on standardised embeddings. */
  weightDecay: numberBetween(0, 1000).default(1e-2),
  seed: wholeNumber().default(0),
});

/** Ingest options (`ingest`, `curate`). */
export const ingestOptionsSchema = z.object({
  concurrency: wholeNumber(1).optional(),
  maxMegapixels: wholeNumber(1).optional(),
  batchSize: wholeNumber(1).optional(),
});

/** Filters of the library grid; all optional and combined with AND. */
export const imageQuerySchema = z.object({
  folderId: wholeNumber().optional(),
  /** ISO dates (inclusive) compared against takenAt. */
  takenFrom: text().optional(),
  takenTo: text().optional(),
  /** A flag kind, or 'any' for images with at least one flag. */
  flag: oneOf([...FLAG_KINDS, 'any'] as const).optional(),
  clusterId: wholeNumber(-1).optional(),
  /** A class id, 'unlabeled', or 'user'/'probe' for any label of that source. */
  label: z.union([wholeNumber(), oneOf(['unlabeled', 'user', 'probe'] as const)], { error: 'must be a class id, unlabeled, user or probe' }).optional(),
  /** Case-insensitive substring of the path. */
  text: text().optional(),
  /** Restrict to these image ids (e.g. a lasso selection on the map). */
  imageIds: idList().optional(),
  sort: oneOf(['takenAt', 'addedAt', 'path', 'size', 'confidence'] as const).optional(),
  order: oneOf(['asc', 'desc'] as const).optional(),
  offset: wholeNumber().optional(),
  /** At most 500 per page. */
  limit: wholeNumber(1).optional(),
});

const fraction = numberBetween(0, 1);

/** Export options: where, which format, which images and how they are split. */
export const exportOptionsSchema = z.object({
  out: text(),
  /** fiftyone, huggingface: the imagefolder tree plus what those tools read (core/export/formats). */
  format: oneOf(['imagefolder', 'csv', 'jsonl', 'fiftyone', 'huggingface'] as const).default('imagefolder'),
  /** train, val, test fractions summing to 1. */
  split: z
    .tuple([fraction, fraction, fraction], { error: 'must be three fractions: train, val, test' })
    .refine((split) => Math.abs(split[0] + split[1] + split[2] - 1) <= 1e-6, { error: 'The train, val and test fractions must add up to 100 %.' })
    .optional(),
  seed: wholeNumber().optional(),
  minConfidence: fraction.optional(),
  onlyUserLabels: yesNo.optional(),
  dedup: yesNo.optional(),
  mode: oneOf(['copy', 'hardlink', 'symlink'] as const).default('copy'),
  /** Shrink so the longest side is at most this (re-encodes; needs mode copy); null: keep size. */
  resizePx: wholeNumber(1).nullable().default(null),
  force: yesNo.optional(),
}).refine((options) => options.resizePx === null || options.mode === 'copy', { error: 'Resizing re-encodes images, so it needs the copy mode.', path: [] });

export const PIPELINE_STEPS = ['ingest', 'train', 'embed', 'duplicates', 'clusters', 'map', 'flags'] as const;

export const pipelineOptionsSchema = z.object({
  /** Folders to add and scan first (others already in the library are rescanned). */
  folders: z.array(text(), { error: 'must be a list of folders' }).optional(),
  /** Steps to run, in pipeline order; default all. */
  steps: z.array(oneOf(PIPELINE_STEPS), { error: `must be a list of steps (${PIPELINE_STEPS.join(', ')})` }).optional(),
  train: trainOptionsSchema.optional(),
});

// ───────────── interop: the encoder, embeddings and labels in and out (core/app/interop.ts) ─────────────

/** `model export`: a run's encoder as torchvision-layout safetensors. */
export const modelExportOptionsSchema = z.object({
  /** Default: the newest completed or stopped run. */
  runId: wholeNumber(1).optional(),
  /** The weights file, <name>.safetensors; the card, README and PyTorch module go beside it. */
  out: text(),
  force: yesNo.optional(),
});

/** `model import`: a torchvision-layout ResNet checkpoint becomes a run. */
export const modelImportOptionsSchema = z.object({
  file: text(),
  /** auto: from the tensors' shapes; otherwise the file must be that architecture. */
  arch: oneOf(['auto', ...RESNET_ARCHS] as const).default('auto'),
  /** The input side the encoder embeds at (default: the card's, else 32 for a CIFAR stem and 224 for an ImageNet one). */
  sizePx: wholeNumber(8, 512)
    .refine((value) => value % 8 === 0, { error: 'must be a multiple of 8 between 8 and 512' })
    .optional(),
  /** auto: the card's, else ImageNet's mean/std (torchvision, Lightly). */
  normalisation: oneOf(['auto', 'imagenet', 'looktwice'] as const).default('auto'),
});

export const EMBEDDING_FORMATS = ['parquet', 'npy'] as const;

/** `embeddings export`: id, path, content_hash, split, label, embedding of one run. */
export const embeddingsExportOptionsSchema = z.object({
  /** parquet: one file; npy: <out> (.npy, float32 [N, D]) + <out minus .npy>.csv (one row per vector). */
  out: text(),
  format: oneOf(EMBEDDING_FORMATS).default('parquet'),
  /** Default: the newest run with embeddings. */
  runId: wholeNumber(1).optional(),
  force: yesNo.optional(),
});

/** `embeddings import`: vectors computed elsewhere, matched to the library's images by content hash. */
export const embeddingsImportOptionsSchema = z.object({
  /** A .parquet file (content_hash + embedding columns), or a .npy beside a .csv with content_hash (or path) per row. */
  file: text(),
  /** The CSV of a .npy (default: the .npy's name with .csv). */
  rows: text().optional(),
  /** Shown in the run list (default: the file name). */
  name: text(200).optional(),
  dryRun: yesNo.default(false),
});

/** `labels-import`: labels from a folder tree <class>/<file> or a CSV/JSONL of path,label. */
export const labelsImportOptionsSchema = z.object({
  source: text(),
  dryRun: yesNo.default(false),
  /** Replace a different label you gave before (default: keep it and report the conflict). */
  replace: yesNo.default(false),
});

// ───────────── every method's parameters ─────────────

const none = z.object({});
const id = wholeNumber();
const className = text(MAX_CLASS_NAME_LENGTH);

/** The parameter schema of every API method (methods without parameters take an empty object). */
export const PARAMS = {
  getLibrary: none,
  listFolders: none,
  addFolder: z.object({ path: text() }),
  scanFolders: z.object({ folderIds: idList().optional() }),
  listIngestErrors: none,
  listImages: imageQuerySchema,
  getImages: z.object({ imageIds: idList(5000) }),
  getImage: z.object({ imageId: id }),
  getFilterOptions: none,

  listBackends: none,
  planTraining: trainOptionsSchema,
  startTraining: trainOptionsSchema,
  resumeTraining: z.object({ runId: wholeNumber(1) }),
  listRuns: none,
  getRunMetrics: z.object({ runId: id }),
  startEmbedding: embedOptionsSchema.pick({ runId: true }),

  findDuplicates: none,
  listDuplicateGroups: none,
  keepAllDuplicates: z.object({ groupId: id }),
  removeDuplicates: z.object({ groupId: id, keepPath: text().optional() }),
  undoRemoval: z.object({ actionId: wholeNumber().optional() }),

  computeClusters: z.object({
    k: z.union([z.literal('auto'), wholeNumber(2)], { error: 'must be auto or a whole number of at least 2' }).default('auto'),
    method: oneOf(['kmeans', 'density'] as const).default('kmeans'),
  }),
  listClusters: none,
  nameCluster: z.object({ clusterId: wholeNumber(-1), name: className }),
  computeMap: none,
  getMap: none,
  computeFlags: none,
  dismissFlags: z.object({ imageIds: idList(), kind: flagKindSchema.optional() }),
  /** k is capped at 200. */
  findSimilar: z.object({ imageId: id, k: wholeNumber(1).default(12).transform((k) => Math.min(k, 200)) }),

  listClasses: none,
  createClass: z.object({ name: className }),
  renameClass: z.object({ classId: id, name: className }),
  deleteClass: z.object({ classId: id }),
  setLabels: z.object({ imageIds: idList(), classId: id }),
  clearLabels: z.object({ imageIds: idList() }),
  runProbe: none,
  getProbe: none,
  /** n is capped at 200. */
  suggestImages: z.object({ n: wholeNumber(1).default(24).transform((n) => Math.min(n, 200)), seed: wholeNumber().optional() }),
  countPredictions: z.object({ classId: id, minConfidence: fraction }),
  acceptPredictions: z.object({ classId: id, minConfidence: fraction }),

  previewExport: exportOptionsSchema,
  startExport: exportOptionsSchema,

  startPipeline: pipelineOptionsSchema,
  listJobs: none,
  getJob: z.object({ jobId: text(100) }),
  cancelJob: z.object({ jobId: text(100) }),

  exportModel: modelExportOptionsSchema,
  importModel: modelImportOptionsSchema,
  exportEmbeddings: embeddingsExportOptionsSchema,
  importEmbeddings: embeddingsImportOptionsSchema,
  importLabels: labelsImportOptionsSchema,
} as const;

export type ParamsMethod = keyof typeof PARAMS;
/** What a caller may pass (defaults still optional). */
export type ParamsIn<M extends ParamsMethod> = z.input<(typeof PARAMS)[M]>;
/** What the implementation receives (defaults applied, ranges checked). */
export type ParamsOut<M extends ParamsMethod> = z.output<(typeof PARAMS)[M]>;

export type TrainOptionsIn = z.input<typeof trainOptionsSchema>;
export type TrainOptionsOut = z.output<typeof trainOptionsSchema>;
export type ImageQueryIn = z.input<typeof imageQuerySchema>;
export type ExportOptionsIn = z.input<typeof exportOptionsSchema>;
export type ExportOptionsOut = z.output<typeof exportOptionsSchema>;
export type PipelineOptionsIn = z.input<typeof pipelineOptionsSchema>;
export type PipelineOptionsOut = z.output<typeof pipelineOptionsSchema>;

// ───────────── messages ─────────────

/** `split[0]` from ['split', 0]. */
function fieldName(path: ReadonlyArray<PropertyKey>): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
}

/**
 * One sentence for a failed parse. `name` turns a field path into what the user typed (the CLI
 * passes `--option` names); a refinement over the whole object is already a sentence.
 */
export function describeIssues(error: z.ZodError, name: (field: string) => string = (field) => field): string {
  const issue = error.issues[0];
  if (!issue) return 'The parameters are not valid.';
  const field = fieldName(issue.path);
  const message = issue.message;
  // A refinement over several values is written as a whole sentence.
  if (field === '' || /^[A-Z]/.test(message)) return /[.!?]$/.test(message) ? message : `${message}.`;
  return `${name(field)} ${message}.`;
}

/** Plain objects without their null-valued keys (JSON clients send null for "not given"). */
function dropNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Float32Array) return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== null).map(([key, item]) => [key, dropNulls(item)]));
}

/**
 * Validates the parameters of `method` and applies the defaults; throws InvalidParamsError with
 * the field's name and what is wrong. A missing parameter counts as an empty object.
 */
export function parseParams<M extends ParamsMethod>(method: M, params: unknown): ParamsOut<M> {
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    throw new InvalidParamsError('The request parameters must be an object.');
  }
  // resizePx: null means "keep the size", which is the default anyway.
  const result = (PARAMS[method] as z.ZodType).safeParse(dropNulls(params ?? {}));
  if (!result.success) throw new InvalidParamsError(describeIssues(result.error));
  return result.data as ParamsOut<M>;
}

/** Validates a value against any schema of this file (the CLI's option groups). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, name?: (field: string) => string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidParamsError(describeIssues(result.error, name));
  return result.data;
}
