/**
 * The service behind the API contract: one open library, exposed as the methods and events of
 * contract.ts. Both transports (Electron IPC, `looktwice serve`) wrap one instance. Every call
 * is validated here against its schema (core/app/schemas.ts) — so IPC and HTTP check exactly
 * the same — and handed to the area that owns it (library, training, curation, labels,
 * export); the areas call the use cases of core/app and hold no rules of their own.
 */
import { openLibrary, type Library } from '../store/db.ts';
import { parseParams, type ParamsMethod, type ParamsOut } from '../app/schemas.ts';
import { imageFile, thumbnailFile, type ServedImage } from '../app/library.ts';
import { recoverInterruptedWork } from '../app/curation.ts';
// TensorFlow.js loads only when training or embedding is first asked for (see ml-loader.ts).
import { loadMl } from './ml-loader.ts';
import type { ApiParams, ApiResult, JobInfo, LooktwiceApi } from './contract.ts';
import { EventHub } from './events.ts';
import { JobRunner } from './jobs.ts';
import { fromEngine } from './errors.ts';
import { ServiceContext } from './service-context.ts';
import { LibraryArea } from './library.service.ts';
import { TrainingArea } from './training.service.ts';
import { CurationArea } from './curation.service.ts';
import { LabelsArea } from './labels.service.ts';
import { ExportArea } from './export.service.ts';
import { InteropArea } from './interop.service.ts';

export class LooktwiceService implements LooktwiceApi {
  readonly events = new EventHub();
  readonly jobs = new JobRunner(this.events);
  private readonly context: ServiceContext;
  private readonly libraryArea: LibraryArea;
  private readonly trainingArea: TrainingArea;
  private readonly curationArea: CurationArea;
  private readonly labelsArea: LabelsArea;
  private readonly exportArea: ExportArea;
  private readonly interopArea: InteropArea;

  constructor(readonly library: Library) {
    this.context = new ServiceContext(library, this.jobs, this.events, loadMl);
    this.curationArea = new CurationArea(this.context);
    this.libraryArea = new LibraryArea(this.context, this.curationArea);
    this.trainingArea = new TrainingArea(this.context);
    this.labelsArea = new LabelsArea(this.context);
    this.exportArea = new ExportArea(this.context, this.trainingArea);
    this.interopArea = new InteropArea(this.context);
  }

  /** Opens (creating if needed) the library at dbPath and serves it. */
  static open(dbPath: string): LooktwiceService {
    const library = openLibrary(dbPath);
    recoverInterruptedWork(library); // a crash's half-done moves are settled before anything reads the library
    return new LooktwiceService(library);
  }

  /** Stops running jobs (training checkpoints) and closes the database. */
  async close(): Promise<void> {
    await this.jobs.cancelAll();
    if (this.library.db.open) this.library.close();
  }

  /** Validates the parameters of `method`, runs it, and words engine errors for people. */
  private async call<M extends ParamsMethod & keyof LooktwiceApi>(method: M, params: unknown, work: (params: ParamsOut<M>) => Promise<ApiResult<M>>): Promise<ApiResult<M>> {
    try {
      return await work(parseParams(method, params));
    } catch (error) {
      throw fromEngine(error);
    }
  }

  // ───────────── files by content hash (transports) ─────────────

  /** The thumbnail file for a content hash (regenerated from the original when its file is gone). */
  thumbnailFile(hash: string): Promise<string | null> {
    return thumbnailFile(this.library, hash);
  }

  /** The image with this hash as browsers show it, checked against the catalogue (or refused with the reason). */
  imageFile(hash: string): Promise<ServedImage | null> {
    return imageFile(this.library, hash);
  }

  // ───────────── library ─────────────
  getLibrary = (p?: ApiParams<'getLibrary'>) => this.call('getLibrary', p, () => this.libraryArea.getLibrary());
  listFolders = (p?: ApiParams<'listFolders'>) => this.call('listFolders', p, () => this.libraryArea.listFolders());
  addFolder = (p: ApiParams<'addFolder'>) => this.call('addFolder', p, (v) => this.libraryArea.addFolder(v));
  scanFolders = (p?: ApiParams<'scanFolders'>) => this.call('scanFolders', p, (v) => this.libraryArea.scanFolders(v));
  listIngestErrors = (p?: ApiParams<'listIngestErrors'>) => this.call('listIngestErrors', p, () => this.libraryArea.listIngestErrors());
  listImages = (p: ApiParams<'listImages'>) => this.call('listImages', p, (v) => this.libraryArea.listImages(v));
  getImages = (p: ApiParams<'getImages'>) => this.call('getImages', p, (v) => this.libraryArea.getImages(v));
  getImage = (p: ApiParams<'getImage'>) => this.call('getImage', p, (v) => this.libraryArea.getImage(v));
  getFilterOptions = (p?: ApiParams<'getFilterOptions'>) => this.call('getFilterOptions', p, () => this.libraryArea.getFilterOptions());

  // ───────────── training & embeddings ─────────────
  listBackends = (p?: ApiParams<'listBackends'>) => this.call('listBackends', p, () => this.trainingArea.listBackends());
  planTraining = (p?: ApiParams<'planTraining'>) => this.call('planTraining', p, (v) => this.trainingArea.planTraining(v));
  startTraining = (p: ApiParams<'startTraining'>) => this.call('startTraining', p, (v) => this.trainingArea.startTraining(v));
  resumeTraining = (p: ApiParams<'resumeTraining'>) => this.call('resumeTraining', p, (v) => this.trainingArea.resumeTraining(v));
  listRuns = (p?: ApiParams<'listRuns'>) => this.call('listRuns', p, () => this.trainingArea.listRuns());
  getRunMetrics = (p: ApiParams<'getRunMetrics'>) => this.call('getRunMetrics', p, (v) => this.trainingArea.getRunMetrics(v));
  startEmbedding = (p?: ApiParams<'startEmbedding'>) => this.call('startEmbedding', p, (v) => this.trainingArea.startEmbedding(v));

  // ───────────── duplicates, clusters, map, flags, similar ─────────────
  findDuplicates = (p?: ApiParams<'findDuplicates'>) => this.call('findDuplicates', p, () => this.curationArea.findDuplicates());
  listDuplicateGroups = (p?: ApiParams<'listDuplicateGroups'>) => this.call('listDuplicateGroups', p, () => this.curationArea.listDuplicateGroups());
  keepAllDuplicates = (p: ApiParams<'keepAllDuplicates'>) => this.call('keepAllDuplicates', p, (v) => this.curationArea.keepAllDuplicates(v));
  removeDuplicates = (p: ApiParams<'removeDuplicates'>) => this.call('removeDuplicates', p, (v) => this.curationArea.removeDuplicates(v));
  undoRemoval = (p?: ApiParams<'undoRemoval'>) => this.call('undoRemoval', p, (v) => this.curationArea.undoRemoval(v));
  computeClusters = (p?: ApiParams<'computeClusters'>) => this.call('computeClusters', p, (v) => this.curationArea.computeClusters(v));
  listClusters = (p?: ApiParams<'listClusters'>) => this.call('listClusters', p, () => this.curationArea.listClusters());
  nameCluster = (p: ApiParams<'nameCluster'>) => this.call('nameCluster', p, (v) => this.curationArea.nameCluster(v));
  computeMap = (p?: ApiParams<'computeMap'>) => this.call('computeMap', p, () => this.curationArea.computeMap());
  getMap = (p?: ApiParams<'getMap'>) => this.call('getMap', p, () => this.curationArea.getMap());
  computeFlags = (p?: ApiParams<'computeFlags'>) => this.call('computeFlags', p, () => this.curationArea.computeFlags());
  dismissFlags = (p: ApiParams<'dismissFlags'>) => this.call('dismissFlags', p, (v) => this.curationArea.dismissFlags(v));
  findSimilar = (p: ApiParams<'findSimilar'>) => this.call('findSimilar', p, (v) => this.curationArea.findSimilar(v));

  // ───────────── labels & probe ─────────────
  listClasses = (p?: ApiParams<'listClasses'>) => this.call('listClasses', p, () => this.labelsArea.listClasses());
  createClass = (p: ApiParams<'createClass'>) => this.call('createClass', p, (v) => this.labelsArea.createClass(v));
  renameClass = (p: ApiParams<'renameClass'>) => this.call('renameClass', p, (v) => this.labelsArea.renameClass(v));
  deleteClass = (p: ApiParams<'deleteClass'>) => this.call('deleteClass', p, (v) => this.labelsArea.deleteClass(v));
  setLabels = (p: ApiParams<'setLabels'>) => this.call('setLabels', p, (v) => this.labelsArea.setLabels(v));
  clearLabels = (p: ApiParams<'clearLabels'>) => this.call('clearLabels', p, (v) => this.labelsArea.clearLabels(v));
  runProbe = (p?: ApiParams<'runProbe'>) => this.call('runProbe', p, () => this.labelsArea.runProbe());
  getProbe = (p?: ApiParams<'getProbe'>) => this.call('getProbe', p, () => this.labelsArea.getProbe());
  suggestImages = (p?: ApiParams<'suggestImages'>) => this.call('suggestImages', p, (v) => this.labelsArea.suggestImages(v));
  countPredictions = (p: ApiParams<'countPredictions'>) => this.call('countPredictions', p, (v) => this.labelsArea.countPredictions(v));
  acceptPredictions = (p: ApiParams<'acceptPredictions'>) => this.call('acceptPredictions', p, (v) => this.labelsArea.acceptPredictions(v));

  // ───────────── export, pipeline & jobs ─────────────
  previewExport = (p: ApiParams<'previewExport'>) => this.call('previewExport', p, (v) => this.exportArea.previewExport(v));
  startExport = (p: ApiParams<'startExport'>) => this.call('startExport', p, (v) => this.exportArea.startExport(v));
  startPipeline = (p?: ApiParams<'startPipeline'>) => this.call('startPipeline', p, (v) => this.exportArea.startPipeline(v));
  listJobs = (p?: ApiParams<'listJobs'>) => this.call('listJobs', p, async (): Promise<JobInfo[]> => this.jobs.list());
  getJob = (p: ApiParams<'getJob'>) => this.call('getJob', p, async (v) => this.jobs.get(v.jobId));
  cancelJob = (p: ApiParams<'cancelJob'>) => this.call('cancelJob', p, async (v) => this.jobs.cancel(v.jobId));

  // ───────────── interop: the encoder, embeddings and labels in and out ─────────────
  exportModel = (p: ApiParams<'exportModel'>) => this.call('exportModel', p, (v) => this.interopArea.exportModel(v));
  importModel = (p: ApiParams<'importModel'>) => this.call('importModel', p, (v) => this.interopArea.importModel(v));
  exportEmbeddings = (p: ApiParams<'exportEmbeddings'>) => this.call('exportEmbeddings', p, (v) => this.interopArea.exportEmbeddings(v));
  importEmbeddings = (p: ApiParams<'importEmbeddings'>) => this.call('importEmbeddings', p, (v) => this.interopArea.importEmbeddings(v));
  importLabels = (p: ApiParams<'importLabels'>) => this.call('importLabels', p, (v) => this.interopArea.importLabels(v));
}
