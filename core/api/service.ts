/**
 * The service behind the API contract: one open library, composed from the engine
 * (core/library, core/ml, core/curate, core/label, core/export) and exposed as the methods and
 * events of contract.ts. Both transports (Electron IPC, `looktwice serve`) wrap one instance.
 * It holds logic only for composition (which run is active, job bookkeeping, events); the
 * algorithms live in the engine and the SQL in repositories.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openLibrary, type Library } from '../store/db.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { FilesRepository } from '../store/files.repository.ts';
import { LabelsRepository } from '../store/labels.repository.ts';
import { ingestFolders } from '../library/ingest.service.ts';
import { LabelsService } from '../label/labels.service.ts';
import { ProbeService, type ProbeOutcome } from '../label/probe.service.ts';
import { findDuplicateGroups, type DuplicateGroup as CoreDuplicateGroup } from '../curate/duplicates.ts';
import { applyRemovals, keepAll, undoLastApply } from '../curate/dedup.service.ts';
import { planExport, runExport, type ExportSettings } from '../export/export.service.ts';
import { clusterLibrary } from '../curate/clusters.service.ts';
import { computeMap } from '../curate/map.service.ts';
import { computeFlags, type ImageFlags } from '../curate/flags.service.ts';
import { findSimilar } from '../curate/similar.service.ts';
import type { BackendChoice } from '../ml/backend.ts';
// TensorFlow.js loads only when training or embedding is first asked for (see ml-loader.ts).
import { loadMl } from './ml-loader.ts';
import { RunsRepository } from '../store/runs.repository.ts';
import { createRequire } from 'node:module';
import os from 'node:os';
import { planTraining, TRAIN_ARCHS, TRAIN_SIZES_PX } from './training-plan.ts';
import { PIPELINE_STEPS, runPipelineStep, type PipelineContext } from './pipeline.ts';
import { CancelledError } from '../common/progress.ts';
import type {
  BackendInfo, ClassSummary, ClusterSummary, DuplicateGroup, DuplicateRemoval, ExportOptions, ExportPreview, FilterOptions,
  FlagKind, FolderInfo, ImageDetail, ImagePage, ImageQuery, ImageSummary, JobInfo, JobRef, LibraryInfo, LooktwiceApi,
  LooktwiceEventMap, MapData, PipelineOptions, ProbeResult, RunMetrics, RunSummary, SimilarImage, Suggestion, TrainOptions, TrainPlan,
} from './contract.ts';
import { FLAG_KINDS } from './contract.ts';
import { EventHub } from './events.ts';
import { JobRunner } from './jobs.ts';
import { LibraryViewRepository } from './library-view.repository.ts';
import { ApiError, notFound, invalid, fromEngine } from './errors.ts';
import {
  oneOf, optionalBoolean, optionalInt, optionalString, paramsObject, requireInt, requireIntArray, requireNumber, requireString,
} from './validate.ts';

const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif',
};

const SORT_KEYS = ['takenAt', 'addedAt', 'path', 'size', 'confidence'] as const;

/**
 * Effective label per image for the read model: the user's or an accepted label, else the
 * latest probe's confident (not unsure) prediction.
 */
const CURRENT_LABELS_SQL = `
  SELECT l.image_id, l.class_id, c.name AS class_name, l.source, l.confidence
    FROM labels l JOIN classes c ON c.id = l.class_id
  UNION ALL
  SELECT p.image_id, p.class_id, c.name AS class_name, 'probe' AS source, p.confidence
    FROM predictions p JOIN classes c ON c.id = p.class_id
   WHERE p.unsure = 0 AND NOT EXISTS (SELECT 1 FROM labels l2 WHERE l2.image_id = p.image_id)`;

function probeResult(outcome: ProbeOutcome): ProbeResult {
  return {
    classes: outcome.classes,
    labeled: outcome.labeled,
    cvAccuracy: outcome.cvAccuracy,
    predicted: outcome.predicted,
    unsure: outcome.unsure,
    trainedAt: outcome.trainedAt,
  };
}

export class LooktwiceService implements LooktwiceApi {
  readonly events = new EventHub();
  readonly jobs = new JobRunner(this.events);
  private readonly view: LibraryViewRepository;
  private readonly embeddings: EmbeddingsRepository;
  private readonly files: FilesRepository;
  private readonly labels: LabelsService;
  private readonly probe: ProbeService;
  private readonly thumbnailsRoot: string;
  /** The last duplicate search; groups leave it as the user resolves them. null: not searched yet. */
  private duplicateGroups: CoreDuplicateGroup[] | null = null;
  /** Whether quality flags were computed in this session (they are derived, not stored). */
  private flagsReady = false;
  /** Scores behind the flags (sharpness, brightness, …) per image, for the detail panel. */
  private flagScores = new Map<number, Record<string, number>>();

  constructor(readonly library: Library) {
    this.view = new LibraryViewRepository(library.db);
    this.view.useLabelTables({ currentLabels: CURRENT_LABELS_SQL });
    this.embeddings = new EmbeddingsRepository(library.db);
    this.files = new FilesRepository(library.db);
    const labelsRepository = new LabelsRepository(library.db);
    this.labels = new LabelsService(labelsRepository);
    this.probe = new ProbeService(labelsRepository, this.embeddings);
    this.thumbnailsRoot = path.resolve(library.dataDir, 'thumbnails');
  }

  /** Tells every window that some data changed. */
  private changed(...what: LooktwiceEventMap['libraryChanged']['what']): void {
    this.view.invalidate();
    this.events.emit('libraryChanged', { what });
  }

  /** Opens (creating if needed) the library at dbPath and serves it. */
  static open(dbPath: string): LooktwiceService {
    return new LooktwiceService(openLibrary(dbPath));
  }

  /** Stops running jobs (training checkpoints) and closes the database. */
  async close(): Promise<void> {
    await this.jobs.cancelAll();
    if (this.library.db.open) this.library.close();
  }

  /** Runs a synchronous engine call, turning its errors into user-facing API errors. */
  private engine<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw fromEngine(error);
    }
  }

  // ───────────── files by content hash (transports) ─────────────

  /** The thumbnail file for a content hash, only if it resolves inside `<dataDir>/thumbnails/`. */
  thumbnailFile(hash: string): string | null {
    if (!/^[0-9a-f]+$/.test(hash)) return null;
    const relpath = this.view.thumbnailRelpath(hash);
    if (!relpath) return null;
    const file = path.resolve(this.library.dataDir, relpath);
    if (!file.startsWith(this.thumbnailsRoot + path.sep)) return null;
    return fs.existsSync(file) ? file : null;
  }

  /** A present original file of the image with this hash, when browsers can display its format. */
  imageFile(hash: string): { path: string; contentType: string } | null {
    if (!/^[0-9a-f]+$/.test(hash)) return null;
    const file = this.view.presentFileByHash(hash);
    if (!file) return null;
    const contentType = MIME_BY_FORMAT[file.format.toLowerCase()];
    if (contentType) return { path: file.path, contentType };
    // TIFF/HEIF: browsers cannot show them; the largest thumbnail stands in.
    const thumbnail = this.thumbnailFile(hash);
    return thumbnail ? { path: thumbnail, contentType: 'image/webp' } : null;
  }

  // ───────────── library ─────────────

  async getLibrary(): Promise<LibraryInfo> {
    await this.ensureFlags();
    const counts = this.view.counts();
    const activeRunId = this.embeddings.latestRunWithEmbeddings();
    const classes = await this.listClasses().catch(() => [] as ClassSummary[]);
    return {
      dbPath: this.library.dbPath,
      dataDir: this.library.dataDir,
      images: counts.images,
      files: { present: counts.present, missing: counts.missing },
      folders: counts.folders,
      ingestErrors: counts.ingestErrors,
      activeRunId,
      embedded: this.view.embeddedCount(activeRunId),
      classes: classes.length,
      labels: {
        user: classes.reduce((sum, c) => sum + c.userLabels, 0),
        probe: classes.reduce((sum, c) => sum + c.probeLabels, 0),
      },
      duplicateGroupsOpen: this.duplicateGroups?.length ?? null,
      clusters: this.view.clusterCount(),
      mapPoints: this.view.mapPointCount(),
      flagged: this.view.flaggedImages(),
      runningJobs: this.jobs.running(),
    };
  }

  async listFolders(): Promise<FolderInfo[]> {
    return this.view.folders();
  }

  async addFolder(params: { path: string }): Promise<{ folder: FolderInfo; job: JobRef }> {
    const given = requireString(paramsObject(params).path, 'path');
    const absolute = path.resolve(given);
    let real: string;
    try {
      real = fs.realpathSync(absolute);
    } catch {
      throw invalid(`The folder ${absolute} does not exist.`);
    }
    if (!fs.statSync(real).isDirectory()) throw invalid(`${absolute} is a file, not a folder.`);
    try {
      fs.accessSync(real, fs.constants.R_OK | fs.constants.X_OK);
    } catch {
      throw invalid(`The folder ${absolute} cannot be read (permission denied).`);
    }
    const folderId = this.files.ensureFolder(real);
    this.changed('folders');
    const job = this.startIngest([real], `Adding ${path.basename(real) || real}`);
    const folder = this.view.folders().find((f) => f.id === folderId)!;
    return { folder, job };
  }

  async scanFolders(params?: { folderIds?: number[] }): Promise<JobRef> {
    const p = paramsObject(params);
    const wanted = p.folderIds === undefined ? null : new Set(requireIntArray(p.folderIds, 'folderIds'));
    const folders = this.view.folders().filter((f) => wanted === null || wanted.has(f.id));
    if (folders.length === 0) throw invalid('There is no folder to scan yet: add a folder of photos first.');
    return this.startIngest(folders.map((f) => f.path), folders.length === 1 ? `Scanning ${path.basename(folders[0]!.path)}` : `Scanning ${folders.length} folders`);
  }

  private startIngest(folders: string[], title: string): JobRef {
    return this.jobs.start('ingest', title, async (context) => {
      const report = await ingestFolders(this.library, folders, { signal: context.signal, onProgress: context.onProgress });
      this.changed('images', 'folders');
      if (report.cancelled) throw new CancelledError();
      for (const failure of report.failed.slice(0, 20)) context.log('warn', `${failure.path}: ${failure.reason}`);
      // Duplicates found earlier may be stale now.
      this.duplicateGroups = null;
      return {
        added: report.added,
        updated: report.updated,
        unchanged: report.unchanged,
        moved: report.moved,
        missing: report.missing,
        failed: report.failed,
      };
    });
  }

  async listIngestErrors(): Promise<Array<{ path: string; reason: string; at: string }>> {
    return this.view.ingestErrors();
  }

  async listImages(query: ImageQuery): Promise<ImagePage> {
    const q = paramsObject(query);
    const checked: ImageQuery = {
      folderId: optionalInt(q.folderId, 'folderId'),
      takenFrom: optionalString(q.takenFrom, 'takenFrom'),
      takenTo: optionalString(q.takenTo, 'takenTo'),
      flag: q.flag === undefined ? undefined : oneOf(q.flag, 'flag', [...FLAG_KINDS, 'any'] as const),
      clusterId: q.clusterId === undefined ? undefined : requireInt(q.clusterId, 'clusterId', -1),
      label:
        q.label === undefined
          ? undefined
          : typeof q.label === 'number'
            ? requireInt(q.label, 'label')
            : oneOf(q.label, 'label', ['unlabeled', 'user', 'probe'] as const),
      text: optionalString(q.text, 'text'),
      imageIds: q.imageIds === undefined ? undefined : requireIntArray(q.imageIds, 'imageIds'),
      sort: q.sort === undefined ? undefined : oneOf(q.sort, 'sort', SORT_KEYS),
      order: q.order === undefined ? undefined : oneOf(q.order, 'order', ['asc', 'desc'] as const),
      offset: optionalInt(q.offset, 'offset'),
      limit: optionalInt(q.limit, 'limit', 1),
    };
    if (checked.flag !== undefined) await this.ensureFlags();
    return this.view.listImages(checked);
  }

  async getImages(params: { imageIds: number[] }): Promise<ImageSummary[]> {
    const imageIds = requireIntArray(paramsObject(params).imageIds, 'imageIds', 5000);
    return this.view.imagesByIds(imageIds);
  }

  async getImage(params: { imageId: number }): Promise<ImageDetail> {
    const imageId = requireInt(paramsObject(params).imageId, 'imageId');
    const [summary] = this.view.imagesByIds([imageId]);
    const facts = this.view.imageFacts(imageId);
    if (!summary || !facts) throw notFound('That image is no longer in the library.');
    // The catalogue keeps the main tags in columns and the rest as a small JSON object.
    const exif: ImageDetail['exif'] = {};
    const main: Array<[string, string | number | null]> = [
      ['Make', facts.cameraMake],
      ['Model', facts.cameraModel],
      ['DateTimeOriginal', summary.takenAt],
      ['Orientation', facts.orientation],
      ['GPSLatitude', facts.gpsLat],
      ['GPSLongitude', facts.gpsLon],
    ];
    for (const [key, value] of main) if (value !== null) exif[key] = value;
    if (facts.exifJson) {
      try {
        const parsed = JSON.parse(facts.exifJson) as Record<string, unknown>;
        for (const [key, value] of Object.entries(parsed)) {
          if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) exif[key] = value as string | number | boolean | null;
          else exif[key] = JSON.stringify(value);
        }
      } catch {
        // A damaged EXIF blob hides the extra tags, not the image.
      }
    }
    const camera = [facts.cameraMake, facts.cameraModel].filter(Boolean).join(' ') || null;
    return {
      ...summary,
      byteSize: facts.byteSize,
      format: facts.format,
      camera,
      gps: facts.gpsLat !== null && facts.gpsLon !== null ? { lat: facts.gpsLat, lon: facts.gpsLon } : null,
      paths: facts.paths,
      exif,
      flagScores: this.flagScores.get(imageId) ?? {},
      hasEmbedding: this.view.hasEmbedding(imageId),
    };
  }

  async getFilterOptions(): Promise<FilterOptions> {
    await this.ensureFlags();
    const classes = await this.listClasses().catch(() => [] as ClassSummary[]);
    const clusters = await this.listClusters();
    return {
      folders: this.view.folders(),
      classes,
      clusters: clusters.map((c) => ({ id: c.id, name: c.name, size: c.size })),
      flags: this.view.flagCounts(),
      takenRange: this.view.takenRange(),
    };
  }

  // ───────────── training & embeddings ─────────────

  async listBackends(): Promise<BackendInfo[]> {
    const require = createRequire(import.meta.url);
    const installed = (name: string): boolean => {
      try {
        require.resolve(name);
        return true;
      } catch {
        return false;
      }
    };
    const active = (await loadMl()).activeBackend();
    const skippedReason = (name: string): string | null => active?.skipped.find((line) => line.startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? null;
    const deviceOf = (name: BackendInfo['name']): string | null => (active?.backend === name ? active.device : null);
    const cpu = `${os.cpus()[0]?.model.trim() ?? 'CPU'} (${os.cpus().length} cores)`;
    const tensorflow = installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node');
    const webgpu = installed('webgpu');
    return [
      { name: 'tensorflow', available: tensorflow, device: deviceOf('tensorflow'), reason: tensorflow ? skippedReason('tensorflow') : 'TensorFlow for Node is not installed (an optional download when installing Looktwice).' },
      { name: 'webgpu', available: webgpu, device: deviceOf('webgpu'), reason: webgpu ? skippedReason('webgpu') : 'The WebGPU runtime (Dawn) is not installed.' },
      { name: 'wasm', available: true, device: deviceOf('wasm') ?? `${cpu}, WebAssembly`, reason: null },
      { name: 'cpu', available: true, device: deviceOf('cpu') ?? `${cpu}, plain JavaScript (slow)`, reason: null },
    ];
  }

  /** Checks training options from the wire. */
  private trainOptions(params: TrainOptions | undefined): TrainOptions {
    const p = paramsObject(params);
    const out: TrainOptions = {};
    if (p.backend !== undefined) out.backend = oneOf(p.backend, 'backend', ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const);
    if (p.arch !== undefined) out.arch = oneOf(p.arch, 'arch', TRAIN_ARCHS);
    if (p.sizePx !== undefined) {
      const sizePx = requireInt(p.sizePx, 'sizePx', 1);
      if (!(TRAIN_SIZES_PX as readonly number[]).includes(sizePx)) throw invalid(`The image size must be one of ${TRAIN_SIZES_PX.join(', ')} px.`);
      out.sizePx = sizePx;
    }
    if (p.batchSize !== undefined) out.batchSize = requireInt(p.batchSize, 'batchSize', 2);
    if (p.epochs !== undefined) out.epochs = requireNumber(p.epochs, 'epochs', 0.01, 100000);
    if (p.steps !== undefined) out.steps = requireInt(p.steps, 'steps', 1);
    if (p.temperature !== undefined) out.temperature = requireNumber(p.temperature, 'temperature', 0.01, 10);
    if (p.learningRate !== undefined) out.learningRate = requireNumber(p.learningRate, 'learningRate', 1e-7, 10);
    if (p.seed !== undefined) out.seed = requireInt(p.seed, 'seed');
    return out;
  }

  async planTraining(params?: TrainOptions): Promise<TrainPlan> {
    const options = this.trainOptions(params);
    let backend;
    try {
      backend = await (await loadMl()).initBackend((options.backend ?? 'auto') as BackendChoice);
    } catch (error) {
      throw fromEngine(error);
    }
    return planTraining({ backend: backend.backend, device: backend.device, softwareDevice: backend.softwareDevice }, this.view.counts().images, await this.listRuns(), options);
  }

  /** Emits a trainMetrics event for a step of the run being trained now. */
  private trainStepListener(jobId: string): (event: { step: number; stepsTotal: number; loss: number; learningRate: number; imagesPerS?: number | null; etaS?: number | null; runId?: number }) => void {
    let runId = -1;
    return (event) => {
      if (event.runId !== undefined && event.runId >= 0) runId = event.runId;
      if (runId < 0) runId = new RunsRepository(this.library.db).list().find((run) => run.status === 'running')?.id ?? -1;
      this.events.emit('trainMetrics', {
        jobId,
        runId,
        step: event.step,
        stepsTotal: event.stepsTotal,
        loss: event.loss,
        imagesPerS: event.imagesPerS ?? null,
        learningRate: event.learningRate,
        etaS: event.etaS ?? null,
      });
    };
  }

  private startTrainJob(title: string, options: TrainOptions, resume: boolean): JobRef {
    return this.jobs.start(
      'train',
      title,
      async (context) => {
        const plan = resume ? null : await this.planTraining(options);
        if (plan) context.log('info', `Training ${plan.options.arch} at ${plan.options.sizePx} px for ${plan.options.steps} steps on ${plan.backend} (${plan.device}).`);
        this.changed('runs');
        const onStep = this.trainStepListener(context.jobId);
        const { trainLibrary } = await loadMl();
        const result = await trainLibrary(
          this.library,
          {
            backend: (options.backend ?? 'auto') as BackendChoice,
            resume,
            config: plan
              ? {
                  arch: plan.options.arch as (typeof TRAIN_ARCHS)[number],
                  sizePx: plan.options.sizePx,
                  batchSize: plan.options.batchSize,
                  steps: plan.options.steps,
                  ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
                  ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
                  ...(options.seed !== undefined ? { seed: options.seed } : {}),
                }
              : {},
          },
          {
            signal: context.signal,
            onProgress: context.onProgress,
            onStep: (event) => onStep(event),
          },
        ).catch((error: unknown) => {
          this.changed('runs');
          throw error instanceof Error && error.name === 'CancelledError' ? error : fromEngine(error);
        });
        this.changed('runs');
        if (result.stopped) throw new CancelledError();
        return { runId: result.run, backend: result.backend.backend, device: result.backend.device, steps: result.steps, finalLoss: result.finalLoss, imagesPerS: result.imagesPerS };
      },
      ['embed', 'pipeline'],
    );
  }

  async startTraining(params: TrainOptions): Promise<JobRef> {
    const options = this.trainOptions(params);
    if (this.view.counts().images < 2) throw invalid('Training needs at least 2 images: add a folder of photos first.');
    return this.startTrainJob('Training a model', options, false);
  }

  async resumeTraining(params: { runId: number }): Promise<JobRef> {
    const runId = requireInt(paramsObject(params).runId, 'runId', 1);
    const runs = new RunsRepository(this.library.db).list();
    const run = runs.find((r) => r.id === runId);
    if (!run) throw notFound(`There is no run ${runId}.`);
    if (run.status === 'completed') throw invalid(`Run ${runId} is already complete.`);
    if (!run.checkpointPath) throw invalid(`Run ${runId} never saved a checkpoint, so it cannot be resumed; start a new run.`);
    const newest = runs.find((r) => r.checkpointPath && r.status !== 'completed');
    if (newest && newest.id !== runId) throw invalid(`Only the most recent unfinished run (#${newest.id}) can be resumed.`);
    return this.startTrainJob(`Resuming run ${runId}`, {}, true);
  }
  async listRuns(): Promise<RunSummary[]> {
    const training = this.jobs.running().some((job) => job.kind === 'train' || job.kind === 'pipeline');
    return this.view.runs(this.library.dataDir, (file) => fs.existsSync(file)).map((run) => {
      if (run.status !== 'running') return run;
      // A 'running' run with no training job here was interrupted (crash, Ctrl-C): it resumes like a stopped one.
      return training ? { ...run, resumable: false } : { ...run, status: 'stopped' as const };
    });
  }

  async getRunMetrics(params: { runId: number }): Promise<RunMetrics> {
    return this.view.runMetrics(requireInt(paramsObject(params).runId, 'runId'));
  }

  async startEmbedding(params?: { runId?: number }): Promise<JobRef> {
    const runId = optionalInt(paramsObject(params).runId, 'runId', 1);
    const runs = new RunsRepository(this.library.db);
    const run = runId !== undefined ? runs.byId(runId) : runs.latestWithCheckpoint(['completed', 'stopped']);
    if (!run) throw invalid(runId !== undefined ? `There is no run ${runId}.` : 'There is no trained model yet: train one first.');
    if (!run.checkpointPath) throw invalid(`Run ${run.id} has no saved model to embed with.`);
    return this.jobs.start(
      'embed',
      `Embedding with run ${run.id}`,
      async (context) => {
        const { embedLibrary } = await loadMl();
        const result = await embedLibrary(this.library, { runId: run.id, signal: context.signal, onProgress: context.onProgress }).catch((error: unknown) => {
          throw error instanceof Error && error.name === 'CancelledError' ? error : fromEngine(error);
        });
        for (const failure of result.failed.slice(0, 20)) context.log('warn', `${failure.path}: ${failure.reason}`);
        // Duplicates and outliers get better with embeddings: recompute them when next asked.
        this.duplicateGroups = null;
        this.flagsReady = false;
        this.changed('embeddings', 'runs');
        return { runId: result.run, embedded: result.embedded, dim: result.dim };
      },
      ['train', 'pipeline'],
    );
  }

  // ───────────── duplicates ─────────────

  async findDuplicates(): Promise<JobRef> {
    return this.jobs.start('duplicates', 'Finding duplicates', async (context) => {
      const groups = await findDuplicateGroups(this.library.db, { dataDir: this.library.dataDir, signal: context.signal, onProgress: context.onProgress });
      this.duplicateGroups = groups;
      this.changed('duplicates');
      return { groups: groups.length, exact: groups.filter((g) => g.kind === 'exact').length, near: groups.filter((g) => g.kind === 'near').length };
    });
  }

  /** Groups by their smallest image id: stable while the group is unchanged. */
  private static groupId(group: CoreDuplicateGroup): number {
    return Math.min(...group.imageIds);
  }

  async listDuplicateGroups(): Promise<DuplicateGroup[]> {
    if (this.duplicateGroups === null) {
      // Not searched in this session: the features are cached in the library, so this is quick.
      this.duplicateGroups = await findDuplicateGroups(this.library.db, { dataDir: this.library.dataDir }).catch((error: unknown) => {
        throw fromEngine(error);
      });
    }
    const groups = this.duplicateGroups;
    const summaries = new Map(this.view.imagesByIds([...new Set(groups.flatMap((g) => g.imageIds))]).map((image) => [image.id, image]));
    return groups.map((group) => {
      const members = group.members.flatMap((memberPath) => {
        const file = this.view.fileFacts(memberPath);
        const summary = file ? summaries.get(file.imageId) : undefined;
        if (!file || !summary) return [];
        return [{ ...summary, path: memberPath, fileName: path.basename(memberPath), byteSize: file.byteSize, format: file.format, isKeeper: memberPath === group.keep }];
      });
      return {
        id: LooktwiceService.groupId(group),
        kind: group.kind,
        similarity: group.similarity,
        keeperImageId: group.keepImageId,
        keeperPath: group.keep,
        keeperReason: group.why,
        members,
      };
    });
  }

  private findGroup(groupId: number): CoreDuplicateGroup {
    const group = this.duplicateGroups?.find((g) => LooktwiceService.groupId(g) === groupId);
    if (!group) throw notFound('That duplicate group is gone (already resolved, or the library changed). Reload the list.');
    return group;
  }

  async keepAllDuplicates(params: { groupId: number }): Promise<void> {
    const group = this.findGroup(requireInt(paramsObject(params).groupId, 'groupId'));
    try {
      keepAll(this.library.db, group);
    } catch (error) {
      throw fromEngine(error);
    }
    this.duplicateGroups = this.duplicateGroups!.filter((g) => g !== group);
    this.changed('duplicates');
  }

  async removeDuplicates(params: { groupId: number; keepPath?: string }): Promise<DuplicateRemoval> {
    const p = paramsObject(params);
    const group = this.findGroup(requireInt(p.groupId, 'groupId'));
    const keep = optionalString(p.keepPath, 'keepPath') ?? group.keep;
    if (!group.members.includes(keep)) throw invalid('The file to keep is not part of this group.');
    const keepImageId = this.view.fileFacts(keep)?.imageId ?? group.keepImageId;
    const chosen = keep === group.keep ? group : { ...group, keep, keepImageId, members: [keep, ...group.members.filter((m) => m !== keep)] };
    let result;
    try {
      result = applyRemovals(this.library.db, [chosen], { fallbackQuarantineDir: path.join(this.library.dataDir, 'quarantine') });
    } catch (error) {
      throw fromEngine(error);
    }
    if (result.errors.length > 0 && result.moved.length === 0) {
      throw new ApiError('failed', `Nothing was moved: ${result.errors.map((e) => `${e.path}: ${e.reason}`).join('; ')}`);
    }
    for (const failure of result.errors) this.events.emit('log', { level: 'warn', message: `${failure.path}: ${failure.reason}`, at: new Date().toISOString() });
    if (result.note) this.events.emit('log', { level: 'info', message: result.note, at: new Date().toISOString() });
    this.duplicateGroups = this.duplicateGroups!.filter((g) => g !== group);
    this.changed('duplicates', 'images');
    return { actionId: result.batchId ?? 0, removed: result.moved.map((m) => ({ path: m.from, movedTo: m.to })) };
  }

  async undoRemoval(params?: { actionId?: number }): Promise<{ restored: string[] }> {
    const actionId = optionalInt(paramsObject(params).actionId, 'actionId');
    const result = undoLastApply(this.library.db);
    if (result.batchId === null) throw invalid('There is no removal left to undo.');
    if (actionId !== undefined && actionId !== 0 && result.batchId !== actionId) {
      this.events.emit('log', { level: 'info', message: `Undid the latest removal (#${result.batchId}).`, at: new Date().toISOString() });
    }
    if (result.errors.length > 0) {
      this.events.emit('log', { level: 'warn', message: `Some files could not be restored: ${result.errors.map((e) => `${e.path}: ${e.reason}`).join('; ')}`, at: new Date().toISOString() });
    }
    // Restored files are present again; their group comes back on the next search.
    this.duplicateGroups = null;
    this.changed('duplicates', 'images');
    return { restored: result.restored.map((r) => r.to) };
  }

  // ───────────── clusters, map, flags, similar ─────────────

  async computeClusters(params?: { k?: number | 'auto'; method?: 'kmeans' | 'density' }): Promise<JobRef> {
    const p = paramsObject(params);
    const k = p.k === undefined || p.k === 'auto' ? 'auto' : requireInt(p.k, 'k', 2);
    const method = p.method === undefined ? 'kmeans' : oneOf(p.method, 'method', ['kmeans', 'density'] as const);
    return this.jobs.start('clusters', 'Finding clusters', async (context) => {
      const result = await clusterLibrary(this.library.db, { k, method, dataDir: this.library.dataDir, signal: context.signal, onProgress: context.onProgress });
      context.log('info', `Clusters: ${result.k} (${result.how}) from ${result.source}.`);
      this.changed('clusters');
      return { clusters: result.clusters.filter((c) => c.id >= 0).length, method: result.method };
    });
  }

  async listClusters(): Promise<ClusterSummary[]> {
    const clusters = this.view.clusters();
    const representatives = new Map(this.view.imagesByIds(clusters.flatMap((c) => c.representativeIds)).map((image) => [image.id, image]));
    return clusters.map((cluster) => {
      const images = cluster.representativeIds.flatMap((id) => representatives.get(id) ?? []);
      // A cluster is "named" when the user labelled its representatives with one class.
      const reps = this.view.representativesOf(cluster.id);
      const repImages = reps.flatMap((id) => representatives.get(id) ?? []);
      const first = repImages[0]?.label;
      const named = first && first.source === 'user' && repImages.every((image) => image.label?.source === 'user' && image.label.classId === first.classId) ? first : null;
      return { id: cluster.id, size: cluster.size, name: named?.className ?? null, classId: named?.classId ?? null, representatives: images };
    });
  }

  async nameCluster(params: { clusterId: number; name: string }): Promise<{ classId: number; labeled: number }> {
    const p = paramsObject(params);
    const clusterId = requireInt(p.clusterId, 'clusterId', -1);
    const name = requireString(p.name, 'name', 200);
    const representatives = this.view.representativesOf(clusterId);
    if (representatives.length === 0) throw notFound('That cluster is gone (the library was clustered again). Reload the list.');
    const created = this.engine(() => this.labels.createClass(name));
    const labeled = this.engine(() => this.labels.setLabels(representatives, created.id));
    this.changed('labels', 'clusters');
    return { classId: created.id, labeled };
  }

  async computeMap(): Promise<JobRef> {
    return this.jobs.start('map', 'Computing the map', async (context) => {
      const result = await computeMap(this.library.db, { dataDir: this.library.dataDir, signal: context.signal, onProgress: context.onProgress });
      context.log('info', `Map of ${result.points.length} images from ${result.source}.`);
      this.changed('map');
      return { points: result.points.length };
    });
  }

  async getMap(): Promise<MapData> {
    await this.ensureFlags();
    const points = this.view.mapPoints();
    const clusterOf = this.view.clusterOf();
    const labelOf = this.view.labelOf();
    const flags = this.view.allFlags();
    const coords = new Float32Array(points.length * 2); // [N, 2]
    points.forEach((point, i) => {
      coords[i * 2] = point.x;
      coords[i * 2 + 1] = point.y;
    });
    return {
      runId: this.embeddings.latestRunWithEmbeddings(),
      imageIds: points.map((p) => p.imageId),
      coords,
      clusterIds: points.map((p) => clusterOf.get(p.imageId) ?? -1),
      classIds: points.map((p) => labelOf.get(p.imageId)?.classId ?? -1),
      labelSources: points.map((p) => labelOf.get(p.imageId)?.source ?? null),
      flagMasks: points.map((p) => (flags.get(p.imageId) ?? []).reduce((mask, kind) => mask | (1 << FLAG_KINDS.indexOf(kind)), 0)),
    };
  }

  /** Puts computed flags (minus dismissed ones) into the read model. */
  private storeFlags(flags: readonly ImageFlags[]): number {
    const known = new Set<string>(FLAG_KINDS);
    const dismissed = this.view.dismissedFlags();
    const rows = flags.map((f) => ({
      imageId: f.imageId,
      kinds: f.flags.filter((kind) => known.has(kind) && !dismissed.has(`${f.imageId}:${kind}`)) as FlagKind[],
    }));
    this.view.setFlags(rows);
    this.flagScores = new Map(flags.map((f) => [f.imageId, f.scores]));
    this.flagsReady = true;
    return rows.filter((row) => row.kinds.length > 0).length;
  }

  /** Quality flags are derived from cached features: compute them once per session when those exist. */
  private async ensureFlags(): Promise<void> {
    if (this.flagsReady || !this.view.hasCurationFeatures() || this.jobs.running().some((job) => job.kind === 'flags')) return;
    this.flagsReady = true;
    try {
      this.storeFlags(await computeFlags(this.library.db, { dataDir: this.library.dataDir }));
    } catch {
      // Flags are a convenience here; "Check quality" reports errors properly.
      this.flagsReady = false;
    }
  }

  async computeFlags(): Promise<JobRef> {
    return this.jobs.start('flags', 'Checking quality', async (context) => {
      const flags = await computeFlags(this.library.db, { dataDir: this.library.dataDir, signal: context.signal, onProgress: context.onProgress });
      const flagged = this.storeFlags(flags);
      const byKind: Partial<Record<FlagKind, number>> = {};
      for (const { kind, count } of this.view.flagCounts()) byKind[kind] = count;
      this.changed('flags');
      return { flagged, byKind };
    });
  }

  async dismissFlags(params: { imageIds: number[]; kind?: FlagKind }): Promise<{ dismissed: number }> {
    const p = paramsObject(params);
    const imageIds = requireIntArray(p.imageIds, 'imageIds');
    const kinds: readonly FlagKind[] = p.kind === undefined ? FLAG_KINDS : [oneOf(p.kind, 'kind', FLAG_KINDS)];
    const current = this.view.flagsOf(imageIds);
    const pairs = imageIds.flatMap((imageId) => kinds.filter((kind) => (current.get(imageId) ?? []).includes(kind)).map((kind) => ({ imageId, kind })));
    // Stored, so the flag stays dismissed when flags are computed again (or the app restarts).
    this.view.dismissFlags(pairs);
    this.view.removeFlags(imageIds, kinds);
    this.changed('flags');
    return { dismissed: pairs.length };
  }

  async findSimilar(params: { imageId: number; k?: number }): Promise<SimilarImage[]> {
    const p = paramsObject(params);
    const imageId = requireInt(p.imageId, 'imageId');
    const k = Math.min(200, optionalInt(p.k, 'k', 1) ?? 12);
    const [image] = this.view.imagesByIds([imageId]);
    if (!image || !image.path) throw notFound('That image has no file in the library any more.');
    let result;
    try {
      result = await findSimilar(this.library.db, image.path, k, { dataDir: this.library.dataDir });
    } catch (error) {
      throw fromEngine(error);
    }
    const summaries = new Map(this.view.imagesByIds(result.results.map((r) => r.imageId)).map((summary) => [summary.id, summary]));
    return result.results.flatMap((r) => {
      const summary = summaries.get(r.imageId);
      return summary ? [{ ...summary, score: r.score }] : [];
    });
  }

  // ───────────── labels & probe ─────────────

  async listClasses(): Promise<ClassSummary[]> {
    return this.labels.listClasses();
  }

  async createClass(params: { name: string }): Promise<ClassSummary> {
    const name = requireString(paramsObject(params).name, 'name', 200);
    const created = this.engine(() => this.labels.createClass(name));
    this.changed('labels');
    return created;
  }

  async renameClass(params: { classId: number; name: string }): Promise<ClassSummary> {
    const p = paramsObject(params);
    const renamed = this.engine(() => this.labels.renameClass(requireInt(p.classId, 'classId'), requireString(p.name, 'name', 200)));
    this.changed('labels');
    return renamed;
  }

  async deleteClass(params: { classId: number }): Promise<void> {
    const classId = requireInt(paramsObject(params).classId, 'classId');
    this.engine(() => this.labels.deleteClass(classId));
    this.changed('labels');
  }

  async setLabels(params: { imageIds: number[]; classId: number }): Promise<{ labeled: number }> {
    const p = paramsObject(params);
    const imageIds = requireIntArray(p.imageIds, 'imageIds');
    const classId = requireInt(p.classId, 'classId');
    const labeled = this.engine(() => this.labels.setLabels(imageIds, classId));
    this.changed('labels');
    return { labeled };
  }

  async clearLabels(params: { imageIds: number[] }): Promise<{ cleared: number }> {
    const imageIds = requireIntArray(paramsObject(params).imageIds, 'imageIds');
    const cleared = this.engine(() => this.labels.clearLabels(imageIds));
    this.changed('labels');
    return { cleared };
  }

  async runProbe(): Promise<ProbeResult> {
    const outcome = this.engine(() => this.probe.run());
    this.changed('labels', 'probe');
    return probeResult(outcome);
  }

  async getProbe(): Promise<ProbeResult | null> {
    const latest = this.probe.latest();
    return latest ? probeResult(latest) : null;
  }

  async suggestImages(params?: { n?: number }): Promise<Suggestion[]> {
    const count = Math.min(200, optionalInt(paramsObject(params).n, 'n', 1) ?? 24);
    const picks = this.engine(() => this.probe.suggest({ count }));
    const images = new Map(this.view.imagesByIds(picks.map((pick) => pick.imageId)).map((image) => [image.id, image]));
    return picks.flatMap((pick) => {
      const image = images.get(pick.imageId);
      if (!image) return [];
      return [{ image, predictedClassId: pick.predictedClassId, predictedClassName: pick.predictedClassName, confidence: pick.confidence, reason: pick.reason }];
    });
  }

  async countPredictions(params: { classId: number; minConfidence: number }): Promise<{ count: number }> {
    const p = paramsObject(params);
    return { count: this.probe.countPredictions(requireInt(p.classId, 'classId'), requireNumber(p.minConfidence, 'minConfidence', 0, 1)) };
  }

  async acceptPredictions(params: { classId: number; minConfidence: number }): Promise<{ accepted: number }> {
    const p = paramsObject(params);
    const classId = requireInt(p.classId, 'classId');
    const minConfidence = requireNumber(p.minConfidence, 'minConfidence', 0, 1);
    const accepted = this.engine(() => this.probe.acceptPredictions(classId, minConfidence));
    this.changed('labels');
    return { accepted };
  }

  // ───────────── export ─────────────

  /** Checks export options from the wire into the engine's settings. */
  private exportSettings(params: ExportOptions): ExportSettings {
    const p = paramsObject(params);
    let split: [number, number, number] | undefined;
    if (p.split !== undefined) {
      if (!Array.isArray(p.split) || p.split.length !== 3) throw invalid('split must be three fractions: train, val, test.');
      split = p.split.map((x, i) => requireNumber(x, `split[${i}]`, 0, 1)) as [number, number, number];
      if (Math.abs(split[0] + split[1] + split[2] - 1) > 1e-6) throw invalid('The train, val and test fractions must add up to 100 %.');
    }
    const resizePx = p.resizePx === null ? null : optionalInt(p.resizePx, 'resizePx', 1);
    return {
      out: path.resolve(requireString(p.out, 'out')),
      format: oneOf(p.format, 'format', ['imagefolder', 'csv', 'jsonl'] as const),
      split,
      seed: optionalInt(p.seed, 'seed'),
      minConfidence: p.minConfidence === undefined ? undefined : requireNumber(p.minConfidence, 'minConfidence', 0, 1),
      onlyUserLabels: optionalBoolean(p.onlyUserLabels, 'onlyUserLabels'),
      dedup: optionalBoolean(p.dedup, 'dedup'),
      mode: p.mode === undefined ? undefined : oneOf(p.mode, 'mode', ['copy', 'hardlink', 'symlink'] as const),
      resizePx: resizePx ?? null,
      force: optionalBoolean(p.force, 'force'),
      dataDir: this.library.dataDir,
    };
  }

  async previewExport(params: ExportOptions): Promise<ExportPreview> {
    const settings = this.exportSettings(params);
    try {
      const plan = await planExport(this.library.db, settings);
      return { total: plan.images.length, splits: plan.splits, classes: plan.classes, skipped: plan.skipped };
    } catch (error) {
      throw fromEngine(error);
    }
  }

  async startExport(params: ExportOptions): Promise<JobRef> {
    const settings = this.exportSettings(params);
    return this.jobs.start('export', `Exporting to ${path.basename(settings.out)}`, async (context) => {
      const outcome = await runExport(this.library.db, { ...settings, signal: context.signal, onProgress: context.onProgress });
      for (const failure of outcome.errors.slice(0, 20)) context.log('warn', `${failure.path}: ${failure.reason}`);
      for (const warning of outcome.warnings) context.log('warn', warning);
      return { exported: outcome.exported, splits: outcome.splits, classes: outcome.classes, out: outcome.out };
    });
  }

  // ───────────── pipeline & jobs ─────────────

  async startPipeline(params?: PipelineOptions): Promise<JobRef> {
    const p = paramsObject(params);
    const folders = p.folders === undefined ? [] : (Array.isArray(p.folders) ? p.folders : [p.folders]).map((folder, i) => path.resolve(requireString(folder, `folders[${i}]`)));
    const steps = p.steps === undefined ? PIPELINE_STEPS : (Array.isArray(p.steps) ? p.steps : []).map((step) => oneOf(step, 'steps', PIPELINE_STEPS));
    const train = this.trainOptions(p.train as TrainOptions | undefined);
    for (const folder of folders) {
      if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw invalid(`The folder ${folder} does not exist.`);
    }
    return this.jobs.start(
      'pipeline',
      'Curating the library',
      async (context) => {
        const onStep = this.trainStepListener(context.jobId);
        const pipeline: PipelineContext = {
          library: this.library,
          folders,
          train,
          signal: context.signal,
          onProgress: context.onProgress,
          log: context.log,
          onTrainStep: (event) => onStep(event),
        };
        const outcomes: Array<{ step: (typeof PIPELINE_STEPS)[number]; status: 'done' | 'skipped' | 'failed'; summary: string }> = [];
        for (const step of PIPELINE_STEPS.filter((s) => steps.includes(s))) {
          context.log('info', `Pipeline: ${step}…`);
          try {
            const outcome = await runPipelineStep(step, pipeline);
            outcomes.push({ step, status: outcome.status, summary: outcome.summary });
            context.log('info', `Pipeline: ${step}: ${outcome.summary}`);
          } catch (error) {
            if (error instanceof Error && error.name === 'CancelledError') throw error;
            const message = fromEngine(error).message;
            outcomes.push({ step, status: 'failed', summary: message });
            context.log('error', `Pipeline: ${step} failed: ${message}`);
            // Later steps depend on earlier ones only loosely (curation works without a model).
          }
          this.duplicateGroups = null;
          this.flagsReady = false;
          this.changed('images', 'runs', 'embeddings', 'duplicates', 'clusters', 'map', 'flags');
        }
        return { steps: outcomes };
      },
      ['ingest', 'train', 'embed', 'duplicates', 'clusters', 'map', 'flags'],
    );
  }

  async listJobs(): Promise<JobInfo[]> {
    return this.jobs.list();
  }

  async getJob(params: { jobId: string }): Promise<JobInfo> {
    const jobId = paramsObject(params).jobId;
    if (typeof jobId !== 'string') throw invalid('jobId must be given.');
    return this.jobs.get(jobId);
  }

  async cancelJob(params: { jobId: string }): Promise<void> {
    const jobId = paramsObject(params).jobId;
    if (typeof jobId !== 'string') throw invalid('jobId must be given.');
    this.jobs.cancel(jobId);
  }
}
