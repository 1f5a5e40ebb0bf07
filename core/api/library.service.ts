/** The library area of the API: overview, folders and scans, the grid, image detail, filters. */
import path from 'node:path';
import { CancelledError } from '../common/progress.ts';
import { addFolder, ingest, ingestSummary, libraryFolders } from '../app/ingest.ts';
import { imageDetail, libraryOverview } from '../app/library.ts';
import { listClasses } from '../app/labels.ts';
import type { ParamsOut } from '../app/schemas.ts';
import { invalid } from '../common/errors.ts';
import type { FilterOptions, FlagKind, FolderInfo, ImageDetail, ImagePage, ImageSummary, JobRef, LibraryInfo } from './contract.ts';
import type { ServiceContext } from './service-context.ts';
import type { CurationArea } from './curation.service.ts';

export class LibraryArea {
  constructor(private readonly context: ServiceContext, private readonly curation: CurationArea) {}

  async getLibrary(): Promise<LibraryInfo> {
    const { library, jobs } = this.context;
    const overview = libraryOverview(library);
    const classes = listClasses(library);
    return {
      dbPath: library.dbPath,
      dataDir: library.dataDir,
      images: overview.counts.images,
      files: { present: overview.counts.present, missing: overview.counts.missing },
      folders: overview.counts.folders,
      ingestErrors: overview.counts.ingestErrors,
      activeRunId: overview.activeRunId,
      embedded: overview.embedded,
      classes: classes.length,
      labels: { user: classes.reduce((sum, c) => sum + c.userLabels, 0), probe: classes.reduce((sum, c) => sum + c.probeLabels, 0) },
      duplicateGroupsOpen: overview.duplicateGroupsOpen,
      clusters: overview.clusters,
      mapPoints: overview.mapPoints,
      flagged: overview.flagged,
      runningJobs: jobs.running(),
      derived: overview.derived,
    };
  }

  async listFolders(): Promise<FolderInfo[]> {
    return this.context.view.folders();
  }

  async addFolder(params: ParamsOut<'addFolder'>): Promise<{ folder: FolderInfo; job: JobRef }> {
    const added = addFolder(this.context.library, params.path);
    this.context.changed('folders');
    const job = this.startIngest([added.path], `Adding ${path.basename(added.path) || added.path}`);
    const folder = this.context.view.folders().find((f) => f.id === added.folderId)!;
    return { folder, job };
  }

  async scanFolders(params: ParamsOut<'scanFolders'>): Promise<JobRef> {
    const folders = libraryFolders(this.context.library, params.folderIds);
    if (folders.length === 0) throw invalid('There is no folder to scan yet: add a folder of photos first.');
    return this.startIngest(folders.map((f) => f.path), folders.length === 1 ? `Scanning ${path.basename(folders[0]!.path)}` : `Scanning ${folders.length} folders`);
  }

  private startIngest(folders: string[], title: string): JobRef {
    return this.context.jobs.start('ingest', title, async (job) => {
      const report = await ingest(this.context.library, folders, { signal: job.signal, onProgress: job.onProgress });
      // New or changed images make duplicates, flags, clusters and the map stale (store triggers).
      this.context.changed('images', 'folders', 'duplicates', 'flags');
      if (report.cancelled) throw new CancelledError();
      for (const failure of report.failed.slice(0, 20)) job.log('warn', `${failure.path}: ${failure.reason}`);
      return ingestSummary(report);
    });
  }

  async listIngestErrors(): Promise<Array<{ path: string; reason: string; at: string }>> {
    return this.context.view.ingestErrors();
  }

  async listImages(query: ParamsOut<'listImages'>): Promise<ImagePage> {
    return this.context.view.listImages(query);
  }

  async getImages(params: ParamsOut<'getImages'>): Promise<ImageSummary[]> {
    return this.context.view.imagesByIds(params.imageIds);
  }

  async getImage(params: ParamsOut<'getImage'>): Promise<ImageDetail> {
    return imageDetail(this.context.library, params.imageId);
  }

  async getFilterOptions(): Promise<FilterOptions> {
    const { view, library } = this.context;
    const clusters = await this.curation.listClusters();
    return {
      folders: view.folders(),
      classes: listClasses(library),
      clusters: clusters.map((c) => ({ id: c.id, name: c.name, size: c.size })),
      flags: this.curation.flagCounts() as Array<{ kind: FlagKind; count: number }>,
      takenRange: view.takenRange(),
    };
  }
}
