/** The labels area of the API: classes, labels, the linear probe, suggestions and accepting predictions. */
import {
  acceptPredictions, clearLabels, countPredictions, createClass, deleteClass, latestProbe, listClasses, renameClass, runProbe, setLabels, suggestImages,
} from '../app/labels.ts';
import type { ParamsOut } from '../app/schemas.ts';
import type { ProbeOutcome } from '../label/probe.service.ts';
import type { ClassSummary, ProbeResult, Suggestion } from './contract.ts';
import type { ServiceContext } from './service-context.ts';

function probeResult(outcome: ProbeOutcome): ProbeResult {
  return { classes: outcome.classes, labeled: outcome.labeled, cvAccuracy: outcome.cvAccuracy, predicted: outcome.predicted, unsure: outcome.unsure, trainedAt: outcome.trainedAt };
}

export class LabelsArea {
  constructor(private readonly context: ServiceContext) {}

  async listClasses(): Promise<ClassSummary[]> {
    return listClasses(this.context.library);
  }

  async createClass(params: ParamsOut<'createClass'>): Promise<ClassSummary> {
    const created = createClass(this.context.library, params.name);
    this.context.changed('labels');
    return created;
  }

  async renameClass(params: ParamsOut<'renameClass'>): Promise<ClassSummary> {
    const renamed = renameClass(this.context.library, params.classId, params.name);
    this.context.changed('labels');
    return renamed;
  }

  async deleteClass(params: ParamsOut<'deleteClass'>): Promise<void> {
    deleteClass(this.context.library, params.classId);
    this.context.changed('labels');
  }

  async setLabels(params: ParamsOut<'setLabels'>): Promise<{ labeled: number }> {
    const labeled = setLabels(this.context.library, params.imageIds, params.classId);
    this.context.changed('labels');
    return { labeled };
  }

  async clearLabels(params: ParamsOut<'clearLabels'>): Promise<{ cleared: number }> {
    const cleared = clearLabels(this.context.library, params.imageIds);
    this.context.changed('labels');
    return { cleared };
  }

  async runProbe(): Promise<ProbeResult> {
    const outcome = await runProbe(this.context.library);
    this.context.changed('labels', 'probe');
    return probeResult(outcome);
  }

  async getProbe(): Promise<ProbeResult | null> {
    const latest = latestProbe(this.context.library);
    return latest ? probeResult(latest) : null;
  }

  async suggestImages(params: ParamsOut<'suggestImages'>): Promise<Suggestion[]> {
    const picks = suggestImages(this.context.library, { count: params.n });
    const images = new Map(this.context.view.imagesByIds(picks.map((pick) => pick.imageId)).map((image) => [image.id, image]));
    return picks.flatMap((pick) => {
      const image = images.get(pick.imageId);
      if (!image) return [];
      return [{ image, predictedClassId: pick.predictedClassId, predictedClassName: pick.predictedClassName, confidence: pick.confidence, reason: pick.reason }];
    });
  }

  async countPredictions(params: ParamsOut<'countPredictions'>): Promise<{ count: number }> {
    return { count: countPredictions(this.context.library, params.classId, params.minConfidence) };
  }

  async acceptPredictions(params: ParamsOut<'acceptPredictions'>): Promise<{ accepted: number }> {
    const accepted = acceptPredictions(this.context.library, params.classId, params.minConfidence);
    this.context.changed('labels');
    return { accepted };
  }
}
