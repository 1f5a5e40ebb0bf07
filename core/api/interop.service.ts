/**
 * The interop area of the API: the encoder, embeddings and labels in and out (core/app/interop.ts).
 * Each call is quick enough (one file written or read) to answer directly rather than as a job.
 */
import { exportEmbeddings, exportModel, importEmbeddings, importLabels, importModel } from '../app/interop.ts';
import type { ParamsOut } from '../app/schemas.ts';
import type { EmbeddingsExportInfo, EmbeddingsImportInfo, LabelsImportInfo, ModelExportInfo, ModelImportInfo } from './contract.ts';
import type { ServiceContext } from './service-context.ts';

export class InteropArea {
  constructor(private readonly context: ServiceContext) {}

  async exportModel(params: ParamsOut<'exportModel'>): Promise<ModelExportInfo> {
    return exportModel(this.context.library, params);
  }

  async importModel(params: ParamsOut<'importModel'>): Promise<ModelImportInfo> {
    const result = importModel(this.context.library, params);
    this.context.changed('runs');
    return result;
  }

  async exportEmbeddings(params: ParamsOut<'exportEmbeddings'>): Promise<EmbeddingsExportInfo> {
    return exportEmbeddings(this.context.library, params);
  }

  async importEmbeddings(params: ParamsOut<'importEmbeddings'>): Promise<EmbeddingsImportInfo> {
    const result = await importEmbeddings(this.context.library, params);
    if (result.run !== null) this.context.changed('runs', 'embeddings');
    return result;
  }

  async importLabels(params: ParamsOut<'importLabels'>): Promise<LabelsImportInfo> {
    const result = await importLabels(this.context.library, params);
    if (!result.dryRun && result.labeled > 0) this.context.changed('labels');
    return result;
  }
}
