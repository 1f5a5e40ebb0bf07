/**
 * The typed API contract of Looktwice: every operation the app offers (methods returning
 * Promises) and every event it emits, declared once. `core/api/service.ts` implements it; two
 * transports carry it unchanged — Electron IPC (`electron/`, `window.looktwice` through the
 * preload) and HTTP + Server-Sent Events (`looktwice serve`). The renderer derives its client
 * type from this file, so the shapes can never drift.
 *
 * Rules for everything declared here:
 * - Payloads are plain structured-clone data: numbers, strings, booleans, null, arrays, plain
 *   objects and Float32Array. No class instances, Dates, Maps, functions or tensors.
 * - Every method takes at most one parameter (an object) so transports can register methods
 *   generically by name (see API_METHODS).
 * - Long operations return a JobRef immediately; they report `progress`/`job` events, can be
 *   cancelled with cancelJob, and their outcome is in `JobInfo.result`.
 * - This file must stay importable from the browser: no Node, no runtime imports.
 * - Method parameters are declared once, as zod schemas in core/app/schemas.ts; their types are
 *   derived here (type-only imports, erased at build time), and the service validates every
 *   call against the same schemas.
 */
import type { ParamsIn, ParamsMethod, TrainOptionsIn, ImageQueryIn, ExportOptionsIn, PipelineOptionsIn, PIPELINE_STEPS } from '../app/schemas.ts';
import type { FlagKind as CommonFlagKind } from '../common/flag-kinds.ts';
import type { ErrorCode } from '../common/errors.ts';
import type { Progress as ProgressInfo } from '../common/progress.ts';
import type {
  ViewImage as ImageSummary,
  ViewLabel as ImageLabel,
  ViewFolder as FolderInfo,
  RunStatus,
  ViewRun as RunSummary,
  ViewRunMetrics as RunMetrics,
  RunGaugeReading as RunGauge,
} from '../store/view-shapes.ts';
import type {
  ModelExportResult as ModelExportInfo,
  ModelImportResult as ModelImportInfo,
  EmbeddingsExportResult as EmbeddingsExportInfo,
  UnmatchedRow,
  EmbeddingsImportResult as EmbeddingsImportInfo,
  LabelsImportResult as LabelsImportInfo,
} from '../app/interop-results.ts';

// Declared once where they are produced (the progress primitive, the store's read model, the
// interop use cases) and offered here under the contract's names.
export type { ProgressInfo, ImageSummary, ImageLabel, FolderInfo, RunStatus, RunSummary, RunMetrics, RunGauge };
export type { ModelExportInfo, ModelImportInfo, EmbeddingsExportInfo, UnmatchedRow, EmbeddingsImportInfo, LabelsImportInfo };

/** The parameter of method M, as callers pass it (derived from its schema). */
type P<M extends ParamsMethod> = ParamsIn<M>;

// ───────────────────────────── shared shapes ─────────────────────────────

/** A long operation started in the background. */
export interface JobRef {
  jobId: string;
  kind: JobKind;
}

export type JobKind = 'ingest' | 'train' | 'embed' | 'duplicates' | 'clusters' | 'map' | 'flags' | 'export' | 'pipeline';
export type JobStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** A job's state; `result` is set when it completed, `error` (user words) when it failed. */
export interface JobInfo {
  jobId: string;
  kind: JobKind;
  status: JobStatus;
  /** One line a user understands, e.g. "Scanning 2 folders". */
  title: string;
  startedAt: string;
  finishedAt: string | null;
  progress: ProgressInfo | null;
  error: string | null;
  result: JobResult | null;
}

/** What each kind of job produced. */
export type JobResult =
  | ({ kind: 'ingest' } & IngestResult)
  | ({ kind: 'train' } & TrainResult)
  | ({ kind: 'embed' } & EmbedResult)
  | ({ kind: 'duplicates' } & { groups: number; exact: number; near: number })
  | ({ kind: 'clusters' } & { clusters: number; method: string })
  | ({ kind: 'map' } & { points: number })
  | ({ kind: 'flags' } & { flagged: number; byKind: Partial<Record<FlagKind, number>> })
  | ({ kind: 'export' } & ExportResult)
  | ({ kind: 'pipeline' } & PipelineResult);

// ───────────────────────────── library ─────────────────────────────

/** Overview of the open library and how far the pipeline has come. */
export interface LibraryInfo {
  dbPath: string;
  dataDir: string;
  images: number;
  /** Paths whose file is present / missing on disk. */
  files: { present: number; missing: number };
  folders: number;
  ingestErrors: number;
  /** The run whose embeddings the app uses (newest with embeddings), or null. */
  activeRunId: number | null;
  embedded: number;
  classes: number;
  labels: { user: number; probe: number };
  /** Duplicate groups left to review, or null when the library was never searched. */
  duplicateGroupsOpen: number | null;
  clusters: number;
  mapPoints: number;
  flagged: number;
  /** Jobs still running, so a reloaded window can reattach to their progress. */
  runningJobs: JobInfo[];
  /** Whether each derived result is out of date (its images, embeddings or labels changed since). */
  derived: Record<DerivedArtefact, DerivedState>;
}

export type DerivedArtefact = 'duplicates' | 'flags' | 'clusters' | 'map' | 'probe';

/** Where one derived result stands; a stale one is recomputed on demand (its job, or the pipeline). */
export interface DerivedState {
  /** ISO 8601, or null when never computed. */
  computedAt: string | null;
  stale: boolean;
  /** The inputs that changed since: 'images', 'embeddings', 'labels'. */
  changed: Array<'images' | 'embeddings' | 'labels'>;
}

export interface IngestResult {
  added: number;
  updated: number;
  unchanged: number;
  moved: number;
  missing: number;
  failed: Array<{ path: string; reason: string }>;
}

/** Filters of the library grid (schema: imageQuerySchema in core/app/schemas.ts). */
export type ImageQuery = ImageQueryIn;
export type ImageSortKey = NonNullable<ImageQuery['sort']>;

export interface ImagePage {
  /** Matches for the whole query, not just this page. */
  total: number;
  offset: number;
  items: ImageSummary[];
}

export interface ImageDetail extends ImageSummary {
  byteSize: number;
  format: string;
  camera: string | null;
  gps: { lat: number; lon: number } | null;
  /** Every path of this content, with whether the file is still there. */
  paths: Array<{ path: string; status: 'present' | 'missing' | 'removed' }>;
  /** A small JSON-safe subset of the EXIF tags. */
  exif: Record<string, string | number | boolean | null>;
  /** Per-flag scores (e.g. blur variance), when flags were computed. */
  flagScores: Record<string, number>;
  /** Whether an embedding exists (similar-image search then uses it; else pixel layout). */
  hasEmbedding: boolean;
}

/** What the filter bar can offer, with counts. */
export interface FilterOptions {
  folders: FolderInfo[];
  classes: ClassSummary[];
  clusters: Array<{ id: number; name: string | null; size: number }>;
  flags: Array<{ kind: FlagKind; count: number }>;
  takenRange: { from: string | null; to: string | null };
}

// ───────────────────────────── training & embeddings ─────────────────────────────

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  /** The device it would use, e.g. "NVIDIA H200 (Vulkan)" or "2 CPU cores". */
  device: string | null;
  /** Why it is not available, in user words. */
  reason: string | null;
}

/** SimCLR training options (schema: trainOptionsSchema in core/app/schemas.ts: the one set of limits). */
export type TrainOptions = TrainOptionsIn;

/** A proposed training configuration for this library on this device, with a time estimate. */
export interface TrainPlan {
  backend: BackendName;
  device: string;
  options: Required<Pick<TrainOptions, 'arch' | 'sizePx' | 'batchSize' | 'steps'>> & TrainOptions;
  /** Models the trainer offers (e.g. 'resnet18', 'resnet-small'). */
  archs: string[];
  sizesPx: number[];
  images: number;
  /** Estimated wall time of the whole run, or null when unknown. */
  estimatedSeconds: number | null;
}

export interface TrainResult {
  runId: number;
  backend: string;
  device: string;
  steps: number;
  finalLoss: number | null;
  imagesPerS: number | null;
}

export interface EmbedResult {
  runId: number;
  embedded: number;
  dim: number;
}

// ───────────────────────────── curation ─────────────────────────────

export interface DuplicateMember extends ImageSummary {
  byteSize: number;
  format: string;
  isKeeper: boolean;
}

export interface DuplicateGroup {
  id: number;
  kind: 'exact' | 'near';
  /** Highest pairwise similarity in the group, in [0, 1]. */
  similarity: number;
  keeperImageId: number;
  /** The suggested file to keep (exact copies share one image id, so files are told apart by path). */
  keeperPath: string;
  /** Why that image is the suggested keeper, in user words. */
  keeperReason: string;
  members: DuplicateMember[];
}

export interface DuplicateRemoval {
  /** Identifies the action for undo. */
  actionId: number;
  removed: Array<{ path: string; movedTo: string }>;
}

export interface ClusterSummary {
  id: number;
  size: number;
  name: string | null;
  /** The class this cluster was named into, if any. */
  classId: number | null;
  /** Images closest to the cluster centre. */
  representatives: ImageSummary[];
}

/** The 2-D map as parallel arrays, one entry per point (ready for a canvas/WebGL scatter). */
export interface MapData {
  runId: number | null;
  imageIds: number[];
  /** [N * 2]: x0, y0, x1, y1, … in the layout's own units. */
  coords: Float32Array;
  /** Colour fields: cluster id, class id (-1 = none), bitmask over FLAG_KINDS (core/common/flag-kinds.ts). */
  clusterIds: number[];
  classIds: number[];
  labelSources: Array<'user' | 'probe' | null>;
  flagMasks: number[];
}

/** A quality flag kind (FLAG_KINDS in core/common/flag-kinds.ts gives their order). */
export type FlagKind = CommonFlagKind;

export interface SimilarImage extends ImageSummary {
  /** Cosine similarity in [-1, 1]. */
  score: number;
}

// ───────────────────────────── labels & probe ─────────────────────────────

export interface ClassSummary {
  id: number;
  name: string;
  userLabels: number;
  probeLabels: number;
}

export interface ProbeResult {
  classes: string[];
  labeled: number;
  /** Cross-validated accuracy, or null when there are too few labels to estimate it. */
  cvAccuracy: number | null;
  predicted: number;
  unsure: number;
  trainedAt: string;
}

export interface Suggestion {
  image: ImageSummary;
  predictedClassId: number | null;
  predictedClassName: string | null;
  confidence: number | null;
  /** Why this image is worth labeling next, in user words. */
  reason: string;
}

// ───────────────────────────── export ─────────────────────────────

/** Export options (schema: exportOptionsSchema in core/app/schemas.ts). */
export type ExportOptions = ExportOptionsIn;
export type ExportFormat = NonNullable<ExportOptions['format']>;

export interface ExportPreview {
  total: number;
  splits: { train: number; val: number; test: number };
  /** Counts per class name and split. */
  classes: Record<string, { train: number; val: number; test: number }>;
  /** Images left out and why (e.g. below confidence, duplicate). */
  skipped: Record<string, number>;
  /** The stored duplicate groups the splits keep together are out of date (the export job searches again). */
  duplicatesStale: boolean;
}

export interface ExportResult {
  exported: number;
  splits: { train: number; val: number; test: number };
  classes: Record<string, number>;
  out: string;
  /** Files in `out` the previous export did not write (the user's), left in place by --force. */
  kept?: string[];
  /** Where files that could not stay in `out` were kept (nothing is deleted), or null. */
  keptAside?: string | null;
}

// ───────────────────────────── pipeline ─────────────────────────────

export type PipelineStep = (typeof PIPELINE_STEPS)[number];

/** Pipeline options (schema: pipelineOptionsSchema in core/app/schemas.ts). */
export type PipelineOptions = PipelineOptionsIn;

export interface PipelineResult {
  steps: Array<{ step: PipelineStep; status: 'done' | 'skipped' | 'failed'; summary: string }>;
}

// ───────────────────────────── the API ─────────────────────────────

/**
 * Every operation of the app. Implemented by core/api/service.ts; carried by IPC and HTTP.
 * Parameter types come from the schemas (P<'method'>), so what the service checks is what
 * callers are told they may send.
 */
export interface LooktwiceApi {
  // library
  getLibrary(): Promise<LibraryInfo>;
  listFolders(): Promise<FolderInfo[]>;
  /** Adds a folder to the library and starts scanning it. */
  addFolder(params: P<'addFolder'>): Promise<{ folder: FolderInfo; job: JobRef }>;
  /** Rescans some (default: all) library folders: new, changed, moved and deleted files. */
  scanFolders(params?: P<'scanFolders'>): Promise<JobRef>;
  listIngestErrors(): Promise<Array<{ path: string; reason: string; at: string }>>;
  listImages(query: ImageQuery): Promise<ImagePage>;
  getImages(params: P<'getImages'>): Promise<ImageSummary[]>;
  getImage(params: P<'getImage'>): Promise<ImageDetail>;
  getFilterOptions(): Promise<FilterOptions>;

  // training & embeddings
  listBackends(): Promise<BackendInfo[]>;
  planTraining(params?: TrainOptions): Promise<TrainPlan>;
  startTraining(params: TrainOptions): Promise<JobRef>;
  /** Continues a stopped run from its last checkpoint. */
  resumeTraining(params: P<'resumeTraining'>): Promise<JobRef>;
  listRuns(): Promise<RunSummary[]>;
  getRunMetrics(params: P<'getRunMetrics'>): Promise<RunMetrics>;
  /** Embeds every image not yet embedded by the run (default: the newest completed or stopped run). */
  startEmbedding(params?: P<'startEmbedding'>): Promise<JobRef>;

  // duplicates
  findDuplicates(): Promise<JobRef>;
  listDuplicateGroups(): Promise<DuplicateGroup[]>;
  /** Marks the group as intended: it never comes back. */
  keepAllDuplicates(params: P<'keepAllDuplicates'>): Promise<void>;
  /** Moves every member file except the keeper (default: the suggested one) to the trash. */
  removeDuplicates(params: P<'removeDuplicates'>): Promise<DuplicateRemoval>;
  /** Restores the files of a removal (default: the latest one). */
  undoRemoval(params?: P<'undoRemoval'>): Promise<{ restored: string[] }>;

  // clusters, map, flags, similar
  computeClusters(params?: P<'computeClusters'>): Promise<JobRef>;
  listClusters(): Promise<ClusterSummary[]>;
  /** Names a cluster; the name becomes a class and the representatives get it as user labels. */
  nameCluster(params: P<'nameCluster'>): Promise<{ classId: number; labeled: number }>;
  computeMap(): Promise<JobRef>;
  getMap(): Promise<MapData>;
  computeFlags(): Promise<JobRef>;
  /** Hides a flag on images the user judged fine. */
  dismissFlags(params: P<'dismissFlags'>): Promise<{ dismissed: number }>;
  findSimilar(params: P<'findSimilar'>): Promise<SimilarImage[]>;

  // labels & probe
  listClasses(): Promise<ClassSummary[]>;
  createClass(params: P<'createClass'>): Promise<ClassSummary>;
  renameClass(params: P<'renameClass'>): Promise<ClassSummary>;
  deleteClass(params: P<'deleteClass'>): Promise<void>;
  setLabels(params: P<'setLabels'>): Promise<{ labeled: number }>;
  clearLabels(params: P<'clearLabels'>): Promise<{ cleared: number }>;
  /** Retrains the linear probe on the user labels and predicts every other image. */
  runProbe(): Promise<ProbeResult>;
  getProbe(): Promise<ProbeResult | null>;
  suggestImages(params?: P<'suggestImages'>): Promise<Suggestion[]>;
  /** How many predictions of the class reach the confidence (for the "accept above X" slider). */
  countPredictions(params: P<'countPredictions'>): Promise<{ count: number }>;
  acceptPredictions(params: P<'acceptPredictions'>): Promise<{ accepted: number }>;

  // export
  previewExport(params: ExportOptions): Promise<ExportPreview>;
  startExport(params: ExportOptions): Promise<JobRef>;

  // pipeline & jobs
  startPipeline(params?: PipelineOptions): Promise<JobRef>;
  listJobs(): Promise<JobInfo[]>;
  getJob(params: P<'getJob'>): Promise<JobInfo>;
  cancelJob(params: P<'cancelJob'>): Promise<void>;

  // interop: the encoder, embeddings and labels in and out
  /** Writes a run's encoder as torchvision-layout safetensors + card + README + PyTorch module. */
  exportModel(params: P<'exportModel'>): Promise<ModelExportInfo>;
  /** Makes a torchvision-layout ResNet checkpoint a completed run. */
  importModel(params: P<'importModel'>): Promise<ModelImportInfo>;
  exportEmbeddings(params: P<'exportEmbeddings'>): Promise<EmbeddingsExportInfo>;
  /** Embeddings computed elsewhere, matched by content hash, as a new run. */
  importEmbeddings(params: P<'importEmbeddings'>): Promise<EmbeddingsImportInfo>;
  /** Labels from a folder tree <class>/<file> (matched by content) or a CSV/JSONL of path,label. */
  importLabels(params: P<'importLabels'>): Promise<LabelsImportInfo>;
}

export type ApiMethodName = keyof LooktwiceApi;

/** Every method name, at runtime, so transports register them generically. */
export const API_METHODS = [
  'getLibrary', 'listFolders', 'addFolder', 'scanFolders', 'listIngestErrors', 'listImages', 'getImages', 'getImage',
  'getFilterOptions',
  'listBackends', 'planTraining', 'startTraining', 'resumeTraining', 'listRuns', 'getRunMetrics', 'startEmbedding',
  'findDuplicates', 'listDuplicateGroups', 'keepAllDuplicates', 'removeDuplicates', 'undoRemoval',
  'computeClusters', 'listClusters', 'nameCluster', 'computeMap', 'getMap', 'computeFlags', 'dismissFlags', 'findSimilar',
  'listClasses', 'createClass', 'renameClass', 'deleteClass', 'setLabels', 'clearLabels', 'runProbe', 'getProbe',
  'suggestImages', 'countPredictions', 'acceptPredictions',
  'previewExport', 'startExport',
  'startPipeline', 'listJobs', 'getJob', 'cancelJob',
  'exportModel', 'importModel', 'exportEmbeddings', 'importEmbeddings', 'importLabels',
] as const satisfies readonly ApiMethodName[];

// Compile-time check that API_METHODS lists every method (a missing name fails type-check here).
type MissingMethods = Exclude<ApiMethodName, (typeof API_METHODS)[number]>;
const everyMethodListed: MissingMethods extends never ? true : MissingMethods = true;
void everyMethodListed;
// …and that core/app/schemas.ts declares the parameters of exactly these methods.
type UnschemedMethods = Exclude<ApiMethodName, ParamsMethod> | Exclude<ParamsMethod, ApiMethodName>;
const everyMethodSchemed: UnschemedMethods extends never ? true : UnschemedMethods = true;
void everyMethodSchemed;

/** The parameter of a method (undefined for methods without one). */
export type ApiParams<M extends ApiMethodName> = Parameters<LooktwiceApi[M]>[0];
/** What a method's Promise resolves to. */
export type ApiResult<M extends ApiMethodName> = Awaited<ReturnType<LooktwiceApi[M]>>;

// ───────────────────────────── events ─────────────────────────────

/** Every event, by name, with its payload. */
export interface LooktwiceEventMap {
  /** A job's progress changed (throttled to a few per second per job). */
  progress: { jobId: string; kind: JobKind; progress: ProgressInfo };
  /** A job started, finished, failed or was cancelled. */
  job: JobInfo;
  /** One training step's metrics. */
  trainMetrics: {
    jobId: string;
    runId: number;
    step: number;
    stepsTotal: number | null;
    loss: number;
    imagesPerS: number | null;
    learningRate: number | null;
    etaS: number | null;
    /** A quality-gauge reading taken since the previous step event, if any. */
    gauge?: RunGauge;
  };
  /** A log line for the activity panel. */
  log: { level: 'info' | 'warn' | 'error'; message: string; at: string };
  /** Data changed; screens showing it should reload. */
  libraryChanged: { what: Array<'images' | 'folders' | 'runs' | 'embeddings' | 'duplicates' | 'clusters' | 'map' | 'flags' | 'labels' | 'probe'> };
}

export type ApiEventName = keyof LooktwiceEventMap;

/** Every event name, at runtime. */
export const API_EVENTS = ['progress', 'job', 'trainMetrics', 'log', 'libraryChanged'] as const satisfies readonly ApiEventName[];
type MissingEvents = Exclude<ApiEventName, (typeof API_EVENTS)[number]>;
const everyEventListed: MissingEvents extends never ? true : MissingEvents = true;
void everyEventListed;

export type ApiEventListener<E extends ApiEventName> = (payload: LooktwiceEventMap[E]) => void;

/** `onProgress(listener)`, `onTrainMetrics(listener)`, …: each returns an unsubscribe function. */
export type LooktwiceEventSubscriptions = {
  [E in ApiEventName as `on${Capitalize<E>}`]: (listener: ApiEventListener<E>) => () => void;
};

/** The name of the subscription method for an event: 'progress' → 'onProgress'. */
export function eventSubscriptionName<E extends ApiEventName>(event: E): `on${Capitalize<E>}` {
  return `on${event[0]!.toUpperCase()}${event.slice(1)}` as `on${Capitalize<E>}`;
}

/** What `window.looktwice` is inside Electron (exposed by the preload) — the whole API, events, and thumbnail URLs. */
export type LooktwiceBridge = LooktwiceApi &
  LooktwiceEventSubscriptions & {
    /** URL of the thumbnail of the image with this content hash (Electron: custom protocol). */
    thumbnailUrl(hash: string): string;
    /** URL of the full image with this content hash. */
    imageUrl(hash: string): string;
  };

// ───────────────────────────── errors & wire format ─────────────────────────────

/** Error codes a method can fail with (core/common/errors.ts); `message` is always in words a user understands. */
export type ApiErrorCode = ErrorCode;
export interface ApiErrorPayload {
  code: ApiErrorCode;
  message: string;
}

/**
 * HTTP transport (looktwice serve): POST /api/<method> with the JSON parameter as body; reply
 * `{ "result": … }` or `{ "error": ApiErrorPayload }`. Float32Array travels as
 * `{ "$float32": "<base64 of little-endian bytes>" }`. Events: GET /api/events (SSE), one
 * `event: <name>` per API_EVENTS entry with JSON data. Thumbnails: GET /thumbnails/<hash>;
 * full images: GET /images/<hash>.
 */
export const WIRE_FLOAT32_KEY = '$float32';
/** Content hashes are lowercase hex; anything else is refused before touching the disk. */
export const CONTENT_HASH_PATTERN = /^[0-9a-f]+$/;
