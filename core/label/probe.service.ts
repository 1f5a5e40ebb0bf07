/**
 * The few-shot labeling loop on a library: train the linear probe on the user's labels over the
 * latest embeddings, estimate its accuracy by cross-validation, calibrate its confidences, and
 * predict every unlabeled image (with an "unsure" reject option); suggest what to label next;
 * accept confident predictions of a class in one action.
 */
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import type { EmbeddingMatrix, EmbeddingsRepository } from '../store/embeddings.repository.ts';
import type { LabelsRepository } from '../store/labels.repository.ts';
import { suggestForLabeling, type SuggestionPick } from './active-learning.ts';
import { fitTemperature, shrinkTemperature, temperatureForMeanConfidence } from './calibration.ts';
import { crossValidate } from './cross-validation.ts';
import { fitLinearProbe, predictLogits, softmaxRows, type LinearProbeModel } from './linear-probe.ts';

export interface ProbeSettings {
  /** Predictions with a calibrated confidence below this are "unsure" (default 0.5). */
  unsureBelow?: number;
  /** L2 weight decay of the probe (default 1e-2, on standardised embeddings). */
  weightDecay?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ProbeOutcome {
  probeRunId: number;
  embeddingRunId: number;
  /** Class names in the probe's output order. */
  classes: string[];
  /** User labels trained on. */
  labeled: number;
  /** Stratified k-fold accuracy, or null when some class has fewer than 2 labels. */
  cvAccuracy: number | null;
  /** Unlabeled images predicted with confidence ≥ unsureBelow. */
  predicted: number;
  /** Unlabeled images below the threshold: shown as unsure, never exported by default. */
  unsure: number;
  temperature: number;
  unsureBelow: number;
  trainMs: number;
  trainedAt: string;
}

export interface Suggested {
  imageId: number;
  kind: SuggestionPick['kind'];
  predictedClassId: number | null;
  predictedClassName: string | null;
  confidence: number | null;
  reason: string;
}

/** Rows of `matrix` for these image ids, in order; ids without an embedding are skipped. */
function gatherRows(matrix: EmbeddingMatrix, rowOf: Map<number, number>, imageIds: readonly number[]): { ids: number[]; features: Float32Array } {
  const ids = imageIds.filter((id) => rowOf.has(id));
  const features = new Float32Array(ids.length * matrix.dim); // [M, D]
  ids.forEach((id, k) => {
    const row = rowOf.get(id)!;
    features.set(matrix.vectors.subarray(row * matrix.dim, (row + 1) * matrix.dim), k * matrix.dim);
  });
  return { ids, features };
}

interface TrainingSet {
  matrix: EmbeddingMatrix;
  rowOf: Map<number, number>;
  classIds: number[];
  classNames: string[];
  labeledIds: number[];
  labels: number[];
  features: Float32Array; // [M, D]
}

export class ProbeService {
  constructor(
    private readonly labels: LabelsRepository,
    private readonly embeddings: EmbeddingsRepository,
  ) {}

  /** User labels that have an embedding in the latest run, as a training set. */
  private trainingSet(): TrainingSet {
    const runId = this.embeddings.latestRunWithEmbeddings();
    if (runId === null) throw new Error('no embeddings yet: run `looktwice train` and `looktwice embed` first');
    const matrix = this.embeddings.load(runId);
    const rowOf = new Map(matrix.imageIds.map((id, row) => [id, row]));
    const userLabels = this.labels.labels('user').filter((label) => rowOf.has(label.imageId));
    const classIds = [...new Set(userLabels.map((label) => label.classId))].sort((a, b) => a - b);
    const classNames = classIds.map((id) => userLabels.find((label) => label.classId === id)!.className);
    const indexOf = new Map(classIds.map((id, index) => [id, index]));
    const { ids, features } = gatherRows(matrix, rowOf, userLabels.map((label) => label.imageId));
    return { matrix, rowOf, classIds, classNames, labeledIds: ids, labels: userLabels.map((label) => indexOf.get(label.classId)!), features };
  }

  private fit(set: TrainingSet, settings: ProbeSettings): LinearProbeModel {
    return fitLinearProbe(set.features, set.matrix.dim, set.labels, {
      classCount: set.classIds.length,
      weightDecay: settings.weightDecay ?? 1e-2,
      signal: settings.signal,
      onProgress: settings.onProgress,
    });
  }

  /**
   * Trains on the user labels, predicts every image without a label, stores the run and its
   * predictions. Throws a clear error when fewer than two classes have labeled embeddings.
   */
  run(settings: ProbeSettings = {}): ProbeOutcome {
    const started = performance.now();
    const set = this.trainingSet();
    if (set.classIds.length < 2) {
      throw new Error(
        `the probe needs labels in at least two classes (has ${set.classIds.length}${set.classNames[0] ? `: ${set.classNames[0]}` : ''}); label a few images of each class with \`looktwice label <class> <path…>\``,
      );
    }
    const { matrix, rowOf } = set;
    const classCount = set.classIds.length;
    const unsureBelow = settings.unsureBelow ?? 0.5;
    const crossValidation = crossValidate(set.features, matrix.dim, set.labels, classCount, {
      weightDecay: settings.weightDecay ?? 1e-2,
      seed: settings.seed ?? 0,
      // Fold models only estimate accuracy: 25 iterations are within noise of converged
      // (bench:fewshot), and with thousands of labels 3 folds are plenty and keep it fast.
      maxIterations: 25,
      maxFolds: set.labels.length > 2000 ? 3 : 5,
      signal: settings.signal,
    });
    const model = this.fit(set, settings);
    throwIfCancelled(settings.signal);

    const labeledAny = new Set(this.labels.labels().map((label) => label.imageId));
    const candidates = matrix.imageIds.filter((id) => !labeledAny.has(id));
    const { ids, features } = gatherRows(matrix, rowOf, candidates);
    const logits = predictLogits(model, features); // [K, C]
    // Calibration needs held-out evidence: the CV accuracy. The temperature makes the mean
    // confidence on the unlabeled images equal to it (calibration.ts says why not plain NLL);
    // with no unlabeled image left, fall back to NLL on the out-of-fold logits; without CV, T = 1.
    const smallestClass = Math.min(...set.classIds.map((_, c) => set.labels.filter((label) => label === c).length));
    const temperature = !crossValidation
      ? 1
      : shrinkTemperature(
        ids.length > 0
          ? temperatureForMeanConfidence(logits, classCount, crossValidation.accuracy)
          : fitTemperature(crossValidation.outOfFoldLogits, classCount, set.labels),
        smallestClass,
      );
    const probabilities = softmaxRows(logits, classCount, temperature); // [K, C]
    let unsure = 0;
    const predictions = ids.map((imageId, k) => {
      const row = probabilities.subarray(k * classCount, (k + 1) * classCount);
      let first = 0;
      for (let c = 1; c < classCount; c++) if (row[c]! > row[first]!) first = c;
      let second = -1;
      for (let c = 0; c < classCount; c++) if (c !== first && (second < 0 || row[c]! > row[second]!)) second = c;
      const confidence = row[first]!;
      const isUnsure = confidence < unsureBelow;
      if (isUnsure) unsure++;
      return { imageId, classId: set.classIds[first]!, confidence, margin: confidence - (second >= 0 ? row[second]! : 0), unsure: isUnsure };
    });
    const trainMs = performance.now() - started;
    const params = { weightDecay: settings.weightDecay ?? 1e-2, optimizer: 'lbfgs', classWeighting: 'balanced', folds: crossValidation?.folds ?? 0, iterations: model.iterations, trainMs: Math.round(trainMs) };
    const probeRunId = this.labels.saveProbeRun(
      { embeddingRunId: matrix.runId, classIds: set.classIds, labeled: set.labeledIds.length, cvAccuracy: crossValidation?.accuracy ?? null, temperature, unsureBelow, predicted: predictions.length - unsure, unsure, params },
      predictions,
    );
    const saved = this.labels.latestProbeRun()!;
    return {
      probeRunId,
      embeddingRunId: matrix.runId,
      classes: set.classNames,
      labeled: set.labeledIds.length,
      cvAccuracy: crossValidation?.accuracy ?? null,
      predicted: predictions.length - unsure,
      unsure,
      temperature,
      unsureBelow,
      trainMs,
      trainedAt: saved.trainedAt,
    };
  }

  /** The latest stored probe run as an outcome, or null when the probe never ran. */
  latest(): ProbeOutcome | null {
    const run = this.labels.latestProbeRun();
    if (!run) return null;
    const names = run.classIds.map((id) => this.labels.classById(id)?.name ?? `deleted class ${id}`);
    return {
      probeRunId: run.id,
      embeddingRunId: run.embeddingRunId ?? -1,
      classes: names,
      labeled: run.labeled,
      cvAccuracy: run.cvAccuracy,
      predicted: run.predicted,
      unsure: run.unsure,
      temperature: run.temperature,
      unsureBelow: run.unsureBelow,
      trainMs: Number(run.params.trainMs ?? 0),
      trainedAt: run.trainedAt,
    };
  }

  /**
   * Up to `count` images to label next (see active-learning.ts). Retrains the probe on the current
   * user labels first (fast, no CV) so suggestions never lag behind the latest labels.
   */
  suggest(options: { count?: number; seed?: number; signal?: AbortSignal } = {}): Suggested[] {
    const count = options.count ?? 20;
    const set = this.trainingSet();
    const { matrix, rowOf } = set;
    const labeledAny = new Set(this.labels.labels().map((label) => label.imageId));
    const { ids, features } = gatherRows(matrix, rowOf, matrix.imageIds.filter((id) => !labeledAny.has(id)));
    let probabilities: Float32Array | null = null;
    if (set.classIds.length >= 2) {
      const model = this.fit(set, { signal: options.signal });
      probabilities = softmaxRows(predictLogits(model, features), set.classIds.length, this.labels.latestProbeRun()?.temperature ?? 1);
    }
    const picks = suggestForLabeling({
      features,
      dim: matrix.dim,
      probabilities,
      classNames: set.classNames,
      labeledFeatures: set.features.length > 0 ? set.features : null,
      count,
      seed: options.seed ?? 0,
      signal: options.signal,
    });
    return picks.map((pick) => ({
      imageId: ids[pick.index]!,
      kind: pick.kind,
      predictedClassId: pick.predictedClass === null ? null : set.classIds[pick.predictedClass]!,
      predictedClassName: pick.predictedClass === null ? null : set.classNames[pick.predictedClass]!,
      confidence: pick.confidence,
      reason: pick.reason,
    }));
  }

  /** How many current predictions of the class reach `minConfidence`. */
  countPredictions(classId: number, minConfidence: number): number {
    return this.labels.predictions({ classId, minConfidence }).length;
  }

  /**
   * Accepts every prediction of the class at or above `minConfidence` as a label (source probe,
   * its confidence kept, history recorded). The probe keeps training on user labels only, so
   * accepted predictions never reinforce themselves.
   */
  acceptPredictions(classId: number, minConfidence: number): number {
    const accepted = this.labels.predictions({ classId, minConfidence });
    const probeRunId = this.labels.latestProbeRun()?.id ?? null;
    return this.labels.transaction(() => {
      let total = 0;
      for (const prediction of accepted) {
        total += this.labels.setLabels([prediction.imageId], classId, { source: 'probe', confidence: prediction.confidence, probeRunId, action: 'accept' });
      }
      return total;
    });
  }
}
