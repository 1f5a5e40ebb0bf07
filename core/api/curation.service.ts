/** The curation area of the API: duplicates, clusters, the map, quality flags and similar images. */
import path from 'node:path';
import { FLAG_KINDS } from '../common/flag-kinds.ts';
import { FlagsRepository } from '../store/flags.repository.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import {
  clusterName, computeClusters, computeFlags, computeMap, dismissFlags, findDuplicates, findSimilar, keepAllDuplicates, openDuplicateGroups,
  removeDuplicates, undoRemoval,
} from '../app/curation.ts';
import { createClass, setLabels } from '../app/labels.ts';
import type { ParamsOut } from '../app/schemas.ts';
import { notFound } from '../common/errors.ts';
import type { ClusterSummary, DuplicateGroup, DuplicateRemoval, JobRef, MapData, SimilarImage } from './contract.ts';
import type { ServiceContext } from './service-context.ts';

export class CurationArea {
  constructor(private readonly context: ServiceContext) {}

  // ───────────── duplicates ─────────────

  async findDuplicates(): Promise<JobRef> {
    return this.context.jobs.start('duplicates', 'Finding duplicates', async (job) => {
      const groups = await findDuplicates(this.context.library, {}, { signal: job.signal, onProgress: job.onProgress });
      this.context.changed('duplicates');
      return { groups: groups.length, exact: groups.filter((g) => g.kind === 'exact').length, near: groups.filter((g) => g.kind === 'near').length };
    });
  }

  /** The stored groups left to review, as cards (no search: that is findDuplicates' job). */
  async listDuplicateGroups(): Promise<DuplicateGroup[]> {
    const groups = openDuplicateGroups(this.context.library);
    const { view } = this.context;
    const summaries = new Map(view.imagesByIds([...new Set(groups.flatMap((g) => g.imageIds))]).map((image) => [image.id, image]));
    return groups.map((group) => ({
      id: group.id,
      kind: group.kind,
      similarity: group.similarity,
      keeperImageId: group.keepImageId,
      keeperPath: group.keep,
      keeperReason: group.why,
      members: group.members.flatMap((memberPath) => {
        const file = view.fileFacts(memberPath);
        const summary = file ? summaries.get(file.imageId) : undefined;
        if (!file || !summary) return [];
        return [{ ...summary, path: memberPath, fileName: path.basename(memberPath), byteSize: file.byteSize, format: file.format, isKeeper: memberPath === group.keep }];
      }),
    }));
  }

  async keepAllDuplicates(params: ParamsOut<'keepAllDuplicates'>): Promise<void> {
    keepAllDuplicates(this.context.library, params.groupId);
    this.context.changed('duplicates');
  }

  async removeDuplicates(params: ParamsOut<'removeDuplicates'>): Promise<DuplicateRemoval> {
    const result = removeDuplicates(this.context.library, params.groupId, params.keepPath);
    for (const failure of result.errors) this.context.log('warn', `${failure.path}: ${failure.reason}`);
    if (result.note) this.context.log('info', result.note);
    this.context.changed('duplicates', 'images');
    return { actionId: result.batchId ?? 0, removed: result.moved.map((m) => ({ path: m.from, movedTo: m.to })) };
  }

  async undoRemoval(params: ParamsOut<'undoRemoval'>): Promise<{ restored: string[] }> {
    const result = undoRemoval(this.context.library, params.actionId === 0 ? undefined : params.actionId);
    if (result.errors.length > 0) {
      this.context.log('warn', `Some files could not be restored: ${result.errors.map((e) => `${e.path}: ${e.reason}`).join('; ')}`);
    }
    this.context.changed('duplicates', 'images');
    return { restored: result.restored.map((r) => r.to) };
  }

  // ───────────── clusters, map, flags, similar ─────────────

  async computeClusters(params: ParamsOut<'computeClusters'>): Promise<JobRef> {
    return this.context.jobs.start('clusters', 'Finding clusters', async (job) => {
      const result = await computeClusters(this.context.library, params, { signal: job.signal, onProgress: job.onProgress });
      job.log('info', `Clusters: ${result.k} (${result.how}) from ${result.source}.`);
      this.context.changed('clusters');
      return { clusters: result.clusters.filter((c) => c.id >= 0).length, method: result.method };
    });
  }

  async listClusters(): Promise<ClusterSummary[]> {
    const { view } = this.context;
    const clusters = view.clusters();
    const named = clusters.map((cluster) => ({ cluster, representatives: view.representativesOf(cluster.id) }));
    const images = new Map(view.imagesByIds([...new Set(named.flatMap((c) => [...c.cluster.representativeIds, ...c.representatives]))]).map((image) => [image.id, image]));
    return named.map(({ cluster, representatives }) => {
      const name = clusterName(representatives.flatMap((id) => images.get(id) ?? []).map((image) => image.label));
      return {
        id: cluster.id,
        size: cluster.size,
        name: name?.name ?? null,
        classId: name?.classId ?? null,
        representatives: cluster.representativeIds.flatMap((id) => images.get(id) ?? []),
      };
    });
  }

  async nameCluster(params: ParamsOut<'nameCluster'>): Promise<{ classId: number; labeled: number }> {
    const representatives = this.context.view.representativesOf(params.clusterId);
    if (representatives.length === 0) throw notFound('That cluster is gone (the library was clustered again). Reload the list.');
    const created = createClass(this.context.library, params.name);
    const labeled = setLabels(this.context.library, representatives, created.id);
    this.context.changed('labels', 'clusters');
    return { classId: created.id, labeled };
  }

  async computeMap(): Promise<JobRef> {
    return this.context.jobs.start('map', 'Computing the map', async (job) => {
      const result = await computeMap(this.context.library, {}, { signal: job.signal, onProgress: job.onProgress });
      job.log('info', `Map of ${result.points.length} images from ${result.source}.`);
      this.context.changed('map');
      return { points: result.points.length };
    });
  }

  async getMap(): Promise<MapData> {
    const { view, library } = this.context;
    const points = view.mapPoints();
    const clusterOf = view.clusterOf();
    const labelOf = view.labelOf();
    const flags = new FlagsRepository(library.db).of();
    const coords = new Float32Array(points.length * 2); // [N, 2]
    points.forEach((point, i) => {
      coords[i * 2] = point.x;
      coords[i * 2 + 1] = point.y;
    });
    return {
      runId: new EmbeddingsRepository(library.db).latestRunWithEmbeddings(),
      imageIds: points.map((p) => p.imageId),
      coords,
      clusterIds: points.map((p) => clusterOf.get(p.imageId) ?? -1),
      classIds: points.map((p) => labelOf.get(p.imageId)?.classId ?? -1),
      labelSources: points.map((p) => labelOf.get(p.imageId)?.source ?? null),
      flagMasks: points.map((p) => (flags.get(p.imageId) ?? []).reduce((mask, kind) => mask | (1 << (FLAG_KINDS as readonly string[]).indexOf(kind)), 0)),
    };
  }

  async computeFlags(): Promise<JobRef> {
    return this.context.jobs.start('flags', 'Checking quality', async (job) => {
      const result = await computeFlags(this.context.library, { signal: job.signal, onProgress: job.onProgress });
      this.context.changed('flags');
      return { flagged: result.flagged, byKind: result.byKind };
    });
  }

  /** Raised flags per kind (for the filter bar). */
  flagCounts(): Array<{ kind: string; count: number }> {
    return new FlagsRepository(this.context.library.db).counts();
  }

  async dismissFlags(params: ParamsOut<'dismissFlags'>): Promise<{ dismissed: number }> {
    const dismissed = dismissFlags(this.context.library, params.imageIds, params.kind);
    this.context.changed('flags');
    return { dismissed };
  }

  async findSimilar(params: ParamsOut<'findSimilar'>): Promise<SimilarImage[]> {
    const { view, library } = this.context;
    const [image] = view.imagesByIds([params.imageId]);
    if (!image || !image.path) throw notFound('That image has no file in the library any more.');
    const result = await findSimilar(library, image.path, params.k);
    const summaries = new Map(view.imagesByIds(result.results.map((r) => r.imageId)).map((summary) => [summary.id, summary]));
    return result.results.flatMap((r) => {
      const summary = summaries.get(r.imageId);
      return summary ? [{ ...summary, score: r.score }] : [];
    });
  }
}

