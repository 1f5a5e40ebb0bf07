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
import type {
  BackendInfo, ClassSummary, ClusterSummary, DuplicateGroup, DuplicateRemoval, ExportOptions, ExportPreview, FilterOptions,
  FlagKind, FolderInfo, ImageDetail, ImagePage, ImageQuery, ImageSummary, JobInfo, JobRef, LibraryInfo, LooktwiceApi,
  MapData, PipelineOptions, ProbeResult, RunMetrics, RunSummary, SimilarImage, Suggestion, TrainOptions, TrainPlan,
} from './contract.ts';
import { FLAG_KINDS } from './contract.ts';
import { EventHub } from './events.ts';
import { JobRunner } from './jobs.ts';
import { LibraryViewRepository } from './library-view.repository.ts';
import { notAvailable, notFound, invalid } from './errors.ts';
import {
  oneOf, optionalInt, optionalString, paramsObject, requireInt, requireIntArray,
} from './validate.ts';

const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif',
};

const SORT_KEYS = ['takenAt', 'addedAt', 'path', 'size', 'confidence'] as const;

export class LooktwiceService implements LooktwiceApi {
  readonly events = new EventHub();
  readonly jobs = new JobRunner(this.events);
  private readonly view: LibraryViewRepository;
  private readonly embeddings: EmbeddingsRepository;
  private readonly thumbnailsRoot: string;

  constructor(readonly library: Library) {
    this.view = new LibraryViewRepository(library.db);
    this.embeddings = new EmbeddingsRepository(library.db);
    this.thumbnailsRoot = path.resolve(library.dataDir, 'thumbnails');
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
      duplicateGroupsOpen: 0,
      clusters: this.view.clusters().length,
      mapPoints: this.view.latestMapId() === null ? 0 : this.view.mapPoints().length,
      flagged: this.view.flaggedImages(),
      runningJobs: this.jobs.running(),
    };
  }

  async listFolders(): Promise<FolderInfo[]> {
    return this.view.folders();
  }

  async addFolder(_params: { path: string }): Promise<{ folder: FolderInfo; job: JobRef }> {
    throw notAvailable('Adding folders');
  }

  async scanFolders(_params?: { folderIds?: number[] }): Promise<JobRef> {
    throw notAvailable('Scanning folders');
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
    let exif: ImageDetail['exif'] = {};
    if (facts.exifJson) {
      try {
        const parsed = JSON.parse(facts.exifJson) as Record<string, unknown>;
        for (const [key, value] of Object.entries(parsed)) {
          if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) exif[key] = value as string | number | boolean | null;
          else exif[key] = JSON.stringify(value);
        }
      } catch {
        exif = {};
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
      flagScores: {},
      hasEmbedding: this.view.hasEmbedding(imageId),
    };
  }

  async getFilterOptions(): Promise<FilterOptions> {
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
    throw notAvailable('Choosing a training backend');
  }

  async planTraining(_params?: TrainOptions): Promise<TrainPlan> {
    throw notAvailable('Training');
  }

  async startTraining(_params: TrainOptions): Promise<JobRef> {
    throw notAvailable('Training');
  }

  async resumeTraining(_params: { runId: number }): Promise<JobRef> {
    throw notAvailable('Resuming training');
  }

  async listRuns(): Promise<RunSummary[]> {
    return this.view.runs(this.library.dataDir, (file) => fs.existsSync(file));
  }

  async getRunMetrics(params: { runId: number }): Promise<RunMetrics> {
    return this.view.runMetrics(requireInt(paramsObject(params).runId, 'runId'));
  }

  async startEmbedding(_params?: { runId?: number }): Promise<JobRef> {
    throw notAvailable('Computing embeddings');
  }

  // ───────────── duplicates ─────────────

  async findDuplicates(): Promise<JobRef> {
    throw notAvailable('Finding duplicates');
  }

  async listDuplicateGroups(): Promise<DuplicateGroup[]> {
    throw notAvailable('Finding duplicates');
  }

  async keepAllDuplicates(_params: { groupId: number }): Promise<void> {
    throw notAvailable('Resolving duplicates');
  }

  async removeDuplicates(_params: { groupId: number; keepImageId?: number }): Promise<DuplicateRemoval> {
    throw notAvailable('Removing duplicates');
  }

  async undoRemoval(_params?: { actionId?: number }): Promise<{ restored: string[] }> {
    throw notAvailable('Undoing a removal');
  }

  // ───────────── clusters, map, flags, similar ─────────────

  async computeClusters(_params?: { k?: number | 'auto'; method?: 'kmeans' | 'density' }): Promise<JobRef> {
    throw notAvailable('Clustering');
  }

  async listClusters(): Promise<ClusterSummary[]> {
    const clusters = this.view.clusters();
    const representatives = new Map(this.view.imagesByIds(clusters.flatMap((c) => c.representativeIds)).map((image) => [image.id, image]));
    return clusters.map((cluster) => ({
      id: cluster.id,
      size: cluster.size,
      name: null,
      classId: null,
      representatives: cluster.representativeIds.flatMap((id) => representatives.get(id) ?? []),
    }));
  }

  async nameCluster(_params: { clusterId: number; name: string }): Promise<{ classId: number; labeled: number }> {
    throw notAvailable('Naming clusters');
  }

  async computeMap(): Promise<JobRef> {
    throw notAvailable('The 2-D map');
  }

  async getMap(): Promise<MapData> {
    const points = this.view.mapPoints();
    const clusterOf = this.view.clusterOf();
    const labelOf = this.view.labelOf();
    const flags = this.view.flagsOf(points.map((p) => p.imageId));
    const coords = new Float32Array(points.length * 2);
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

  async computeFlags(): Promise<JobRef> {
    throw notAvailable('Quality flags');
  }

  async dismissFlags(_params: { imageIds: number[]; kind?: FlagKind }): Promise<{ dismissed: number }> {
    throw notAvailable('Dismissing flags');
  }

  async findSimilar(_params: { imageId: number; k?: number }): Promise<SimilarImage[]> {
    throw notAvailable('Similar-image search');
  }

  // ───────────── labels & probe ─────────────

  async listClasses(): Promise<ClassSummary[]> {
    throw notAvailable('Labels');
  }

  async createClass(_params: { name: string }): Promise<ClassSummary> {
    throw notAvailable('Labels');
  }

  async renameClass(_params: { classId: number; name: string }): Promise<ClassSummary> {
    throw notAvailable('Labels');
  }

  async deleteClass(_params: { classId: number }): Promise<void> {
    throw notAvailable('Labels');
  }

  async setLabels(_params: { imageIds: number[]; classId: number }): Promise<{ labeled: number }> {
    throw notAvailable('Labels');
  }

  async clearLabels(_params: { imageIds: number[] }): Promise<{ cleared: number }> {
    throw notAvailable('Labels');
  }

  async runProbe(): Promise<ProbeResult> {
    throw notAvailable('The linear probe');
  }

  async getProbe(): Promise<ProbeResult | null> {
    return null;
  }

  async suggestImages(_params?: { n?: number }): Promise<Suggestion[]> {
    throw notAvailable('Suggestions');
  }

  async countPredictions(_params: { classId: number; minConfidence: number }): Promise<{ count: number }> {
    throw notAvailable('The linear probe');
  }

  async acceptPredictions(_params: { classId: number; minConfidence: number }): Promise<{ accepted: number }> {
    throw notAvailable('The linear probe');
  }

  // ───────────── export ─────────────

  async previewExport(_params: ExportOptions): Promise<ExportPreview> {
    throw notAvailable('Export');
  }

  async startExport(_params: ExportOptions): Promise<JobRef> {
    throw notAvailable('Export');
  }

  // ───────────── pipeline & jobs ─────────────

  async startPipeline(_params?: PipelineOptions): Promise<JobRef> {
    throw notAvailable('The whole pipeline');
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
