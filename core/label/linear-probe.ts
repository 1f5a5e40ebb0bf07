/**
 * Linear probe: multinomial (softmax) logistic regression on frozen embeddings, in plain typed
 * arrays so it runs anywhere without a tensor backend. It is the "linear evaluation" of SimCLR
 * (Chen et al. 2020, §4) used both as a benchmark protocol and as the product's label suggester.
 *
 * Objective, on (optionally) standardised features x̃ = (x − μ) / σ:
 *   L(W, b) = Σᵢ wᵢ · CE(softmax(W x̃ᵢ + b), yᵢ) / Σᵢ wᵢ + (λ / 2) ‖W‖²
 * with per-sample weights wᵢ = class weight of yᵢ ("balanced": N / (C · n_c), as scikit-learn)
 * and the bias not decayed. Two optimisers:
 *   - 'lbfgs': full-batch L-BFGS (Nocedal & Wright, Alg. 7.4/7.5) with Armijo backtracking; the
 *     objective is convex, so this converges to the unique optimum and is deterministic. Used by
 *     the product: thousands of labels retrain in a fraction of a second.
 *   - 'adam': minibatch Adam (Kingma & Ba 2015) with batches drawn with replacement and
 *     PyTorch-style coupled weight decay (g += λ·W), as a PyTorch linear-probe protocol runs it
 *     (lr 1e-3, batch 1,024, a fixed number of steps).
 * Parameters start at zero (the problem is convex; zero init also keeps weights of constant
 * features at exactly zero). The standardisation is folded into the returned weights, so
 * prediction works on raw features.
 */
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { randomInt, seededRandom } from '../common/random.ts';
import { dotVectors } from '../common/vectors.ts';

/** How training samples are weighted per class. */
export type ClassWeighting = 'balanced' | 'none';

export interface LinearProbeOptions {
  /** Number of classes; default max(label) + 1. Labels must be integers in [0, classCount). */
  classCount?: number;
  /** Standardise each feature with the training mean and standard deviation (default true). */
  standardize?: boolean;
  /** L2 weight decay λ on W (default 1e-2 for 'lbfgs', 1e-5 for 'adam'). */
  weightDecay?: number;
  /** 'balanced' (default) gives each class the same total weight; 'none' weights samples equally. */
  classWeighting?: ClassWeighting;
  /** 'lbfgs' (default) or 'adam'. */
  optimizer?: 'lbfgs' | 'adam';
  /**
   * L-BFGS: iteration cap (default 40). Test accuracy of a probe on Fashion-MNIST pixels stops
   * improving after ~30 iterations (bench:fewshot), and each costs one pass over the labels.
   */
  maxIterations?: number;
  /** L-BFGS: stop when the largest gradient component is below this (default 1e-5). */
  gradientTolerance?: number;
  /** L-BFGS: number of correction pairs kept (default 10). */
  historySize?: number;
  /** Adam: number of steps (default 1,000). */
  steps?: number;
  /** Adam: minibatch size, drawn with replacement; capped at N (default 1,024). */
  batchSize?: number;
  /** Adam: learning rate (default 1e-3). */
  learningRate?: number;
  /** Seed for minibatch sampling (default 0). L-BFGS uses no randomness. */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** A trained probe: logits = W x + b on raw (unstandardised) features. */
export interface LinearProbeModel {
  dim: number;
  classCount: number;
  weights: Float32Array; // [C, D], row c = class c
  bias: Float32Array; // [C]
  /** Training objective at the end (weighted mean cross-entropy + L2 term). */
  finalLoss: number;
  /** L-BFGS iterations or Adam steps actually run. */
  iterations: number;
}

/** Per-class sample weights. 'balanced' = N / (C · n_c) for the classes present. */
export function classWeights(labels: ArrayLike<number>, classCount: number, weighting: ClassWeighting): Float64Array {
  const weights = new Float64Array(classCount).fill(1);
  if (weighting === 'none') return weights;
  const counts = new Float64Array(classCount);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]! += 1;
  let present = 0;
  for (let c = 0; c < classCount; c++) if (counts[c]! > 0) present++;
  for (let c = 0; c < classCount; c++) weights[c] = counts[c]! > 0 ? labels.length / (present * counts[c]!) : 0;
  return weights;
}

/** Column mean and (unbiased) standard deviation; σ of a constant feature is reported as 1. */
export function featureMoments(features: Float32Array, dim: number): { mean: Float64Array; std: Float64Array } {
  const count = features.length / dim;
  const mean = new Float64Array(dim);
  const squares = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    const offset = i * dim;
    for (let d = 0; d < dim; d++) mean[d]! += features[offset + d]!;
  }
  for (let d = 0; d < dim; d++) mean[d]! /= count;
  for (let i = 0; i < count; i++) {
    const offset = i * dim;
    for (let d = 0; d < dim; d++) {
      const centred = features[offset + d]! - mean[d]!;
      squares[d]! += centred * centred;
    }
  }
  const std = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    const value = Math.sqrt(squares[d]! / Math.max(1, count - 1));
    std[d] = value > 1e-6 ? value : 1;
  }
  return { mean, std };
}

/** Row offset of the k-th sample of the batch. */
function rowOf(indices: Int32Array | null, k: number, dim: number): number {
  return (indices ? indices[k]! : k) * dim;
}

/**
 * The objective over `count` samples (indices[k], or k itself when indices is null) and its
 * gradient, written into `gradient` (same layout as theta: W [C, D] then b [C]).
 * Samples are processed four at a time so each weight is loaded once per four rows: that
 * halves the time of this, the hot loop of the whole probe, in V8.
 */
function lossAndGradient(
  theta: Float64Array,
  gradient: Float64Array,
  features: Float32Array,
  dim: number,
  classCount: number,
  labels: Int32Array,
  sampleWeights: Float64Array, // per class
  indices: Int32Array | null,
  count: number,
  weightDecay: number,
  coefficients: Float64Array, // scratch [≥ count, C]: logits, then ∂L/∂logits
): number {
  gradient.fill(0);
  const biasOffset = classCount * dim;
  let totalWeight = 0;
  for (let k = 0; k < count; k++) totalWeight += sampleWeights[labels[indices ? indices[k]! : k]!]!;
  if (totalWeight <= 0) totalWeight = 1;

  // Forward: logits [count, C].
  let k = 0;
  for (; k + 3 < count; k += 4) {
    const x0 = rowOf(indices, k, dim), x1 = rowOf(indices, k + 1, dim);
    const x2 = rowOf(indices, k + 2, dim), x3 = rowOf(indices, k + 3, dim);
    for (let c = 0; c < classCount; c++) {
      const w = c * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let d = 0; d < dim; d++) {
        const v = theta[w + d]!;
        s0 += v * features[x0 + d]!;
        s1 += v * features[x1 + d]!;
        s2 += v * features[x2 + d]!;
        s3 += v * features[x3 + d]!;
      }
      const b = theta[biasOffset + c]!;
      coefficients[k * classCount + c] = s0 + b;
      coefficients[(k + 1) * classCount + c] = s1 + b;
      coefficients[(k + 2) * classCount + c] = s2 + b;
      coefficients[(k + 3) * classCount + c] = s3 + b;
    }
  }
  for (; k < count; k++) {
    const x = rowOf(indices, k, dim);
    for (let c = 0; c < classCount; c++) {
      const w = c * dim;
      let s = theta[biasOffset + c]!;
      for (let d = 0; d < dim; d++) s += theta[w + d]! * features[x + d]!;
      coefficients[k * classCount + c] = s;
    }
  }

  // Softmax cross-entropy; coefficients become wᵢ (pᵢ − onehot(yᵢ)) / Σw.
  let loss = 0;
  for (k = 0; k < count; k++) {
    const label = labels[indices ? indices[k]! : k]!;
    const weight = sampleWeights[label]! / totalWeight;
    const offset = k * classCount;
    let maxLogit = -Infinity;
    for (let c = 0; c < classCount; c++) maxLogit = Math.max(maxLogit, coefficients[offset + c]!);
    let sum = 0;
    for (let c = 0; c < classCount; c++) {
      const e = Math.exp(coefficients[offset + c]! - maxLogit);
      coefficients[offset + c] = e;
      sum += e;
    }
    loss += weight * -Math.log(coefficients[offset + label]! / sum);
    for (let c = 0; c < classCount; c++) {
      const g = weight * (coefficients[offset + c]! / sum - (c === label ? 1 : 0));
      coefficients[offset + c] = g;
      gradient[biasOffset + c]! += g;
    }
  }

  // Backward: ∂L/∂W [C, D] = coefficientsᵀ [C, count] · X [count, D].
  for (k = 0; k + 3 < count; k += 4) {
    const x0 = rowOf(indices, k, dim), x1 = rowOf(indices, k + 1, dim);
    const x2 = rowOf(indices, k + 2, dim), x3 = rowOf(indices, k + 3, dim);
    for (let c = 0; c < classCount; c++) {
      const g0 = coefficients[k * classCount + c]!, g1 = coefficients[(k + 1) * classCount + c]!;
      const g2 = coefficients[(k + 2) * classCount + c]!, g3 = coefficients[(k + 3) * classCount + c]!;
      const w = c * dim;
      for (let d = 0; d < dim; d++) {
        gradient[w + d]! += g0 * features[x0 + d]! + g1 * features[x1 + d]! + g2 * features[x2 + d]! + g3 * features[x3 + d]!;
      }
    }
  }
  for (; k < count; k++) {
    const x = rowOf(indices, k, dim);
    for (let c = 0; c < classCount; c++) {
      const g = coefficients[k * classCount + c]!;
      if (g === 0) continue;
      const w = c * dim;
      for (let d = 0; d < dim; d++) gradient[w + d]! += g * features[x + d]!;
    }
  }

  if (weightDecay > 0) {
    let squared = 0;
    for (let p = 0; p < biasOffset; p++) {
      squared += theta[p]! * theta[p]!;
      gradient[p]! += weightDecay * theta[p]!;
    }
    loss += 0.5 * weightDecay * squared;
  }
  return loss;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

interface Problem {
  features: Float32Array;
  dim: number;
  classCount: number;
  labels: Int32Array;
  sampleWeights: Float64Array;
  weightDecay: number;
}

function runLbfgs(problem: Problem, options: LinearProbeOptions): { theta: Float64Array; loss: number; iterations: number } {
  const { features, dim, classCount, labels, sampleWeights, weightDecay } = problem;
  const count = labels.length;
  const size = classCount * dim + classCount;
  const maxIterations = options.maxIterations ?? 40;
  const tolerance = options.gradientTolerance ?? 1e-5;
  const historySize = options.historySize ?? 10;
  const coefficients = new Float64Array(count * classCount);
  const evaluate = (theta: Float64Array, gradient: Float64Array) =>
    lossAndGradient(theta, gradient, features, dim, classCount, labels, sampleWeights, null, count, weightDecay, coefficients);

  let theta = new Float64Array(size);
  let gradient = new Float64Array(size);
  let loss = evaluate(theta, gradient);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const alpha = new Float64Array(historySize);
  const direction = new Float64Array(size);
  let nextTheta = new Float64Array(size);
  let nextGradient = new Float64Array(size);
  let iterations = 0;

  for (; iterations < maxIterations; iterations++) {
    throwIfCancelled(options.signal);
    if (maxAbs(gradient) < tolerance) break;
    // Two-loop recursion: direction = −H·g.
    direction.set(gradient);
    for (let h = sHistory.length - 1; h >= 0; h--) {
      const a = rhoHistory[h]! * dotVectors(sHistory[h]!, direction);
      alpha[h] = a;
      const y = yHistory[h]!;
      for (let p = 0; p < size; p++) direction[p]! -= a * y[p]!;
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      const gamma = dotVectors(sHistory[last]!, yHistory[last]!) / dotVectors(yHistory[last]!, yHistory[last]!);
      for (let p = 0; p < size; p++) direction[p]! *= gamma;
    }
    for (let h = 0; h < sHistory.length; h++) {
      const beta = rhoHistory[h]! * dotVectors(yHistory[h]!, direction);
      const s = sHistory[h]!;
      const a = alpha[h]!;
      for (let p = 0; p < size; p++) direction[p]! += s[p]! * (a - beta);
    }
    for (let p = 0; p < size; p++) direction[p] = -direction[p]!;
    let slope = dotVectors(gradient, direction);
    if (!(slope < 0)) {
      // Curvature information went bad: restart from steepest descent.
      sHistory.length = 0;
      yHistory.length = 0;
      rhoHistory.length = 0;
      for (let p = 0; p < size; p++) direction[p] = -gradient[p]!;
      slope = dotVectors(gradient, direction);
    }
    // The first step has no curvature scale yet: keep it short.
    let step = sHistory.length === 0 ? Math.min(1, 1 / Math.sqrt(dotVectors(gradient, gradient))) : 1;
    let nextLoss = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let p = 0; p < size; p++) nextTheta[p] = theta[p]! + step * direction[p]!;
      nextLoss = evaluate(nextTheta, nextGradient);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextLoss < loss)) break; // no progress possible at float precision
    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let p = 0; p < size; p++) {
      s[p] = nextTheta[p]! - theta[p]!;
      y[p] = nextGradient[p]! - gradient[p]!;
    }
    const sy = dotVectors(s, y);
    if (sy > 1e-12) {
      if (sHistory.length === historySize) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
    }
    const relativeDecrease = (loss - nextLoss) / Math.max(Math.abs(loss), Math.abs(nextLoss), 1);
    [theta, nextTheta] = [nextTheta, theta];
    [gradient, nextGradient] = [nextGradient, gradient];
    loss = nextLoss;
    options.onProgress?.({ phase: 'probe', done: iterations + 1, total: maxIterations, message: `loss ${loss.toFixed(4)}` });
    if (relativeDecrease < 1e-10) {
      iterations++;
      break;
    }
  }
  return { theta, loss, iterations };
}

function runAdam(problem: Problem, options: LinearProbeOptions): { theta: Float64Array; loss: number; iterations: number } {
  const { features, dim, classCount, labels, sampleWeights, weightDecay } = problem;
  const count = labels.length;
  const size = classCount * dim + classCount;
  const steps = options.steps ?? 1000;
  const batchSize = Math.min(options.batchSize ?? 1024, count);
  const learningRate = options.learningRate ?? 1e-3;
  const beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  const random = seededRandom(options.seed ?? 0);
  const theta = new Float64Array(size);
  const gradient = new Float64Array(size);
  const firstMoment = new Float64Array(size);
  const secondMoment = new Float64Array(size);
  const batch = new Int32Array(batchSize);
  const coefficients = new Float64Array(batchSize * classCount);
  const reportEvery = Math.max(1, Math.floor(steps / 100));
  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    if (step % 16 === 0) throwIfCancelled(options.signal);
    for (let k = 0; k < batchSize; k++) batch[k] = randomInt(random, count);
    // Coupled weight decay (g += λW) happens inside lossAndGradient, as torch.optim.Adam does.
    loss = lossAndGradient(theta, gradient, features, dim, classCount, labels, sampleWeights, batch, batchSize, weightDecay, coefficients);
    const correction1 = 1 - Math.pow(beta1, step);
    const correction2 = 1 - Math.pow(beta2, step);
    for (let p = 0; p < size; p++) {
      const g = gradient[p]!;
      const m = (firstMoment[p] = beta1 * firstMoment[p]! + (1 - beta1) * g);
      const v = (secondMoment[p] = beta2 * secondMoment[p]! + (1 - beta2) * g * g);
      theta[p]! -= (learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + epsilon);
    }
    if (step % reportEvery === 0 || step === steps) {
      options.onProgress?.({ phase: 'probe', done: step, total: steps, message: `loss ${loss.toFixed(4)}` });
    }
  }
  return { theta, loss, iterations: steps };
}

/**
 * Fits the probe on `features` [N, dim] (row-major) with integer `labels` [N].
 * Throws on empty input or labels outside [0, classCount).
 */
export function fitLinearProbe(
  features: Float32Array,
  dim: number,
  labels: ArrayLike<number>,
  options: LinearProbeOptions = {},
): LinearProbeModel {
  const count = labels.length;
  if (count === 0) throw new Error('linear probe: no labeled samples to train on');
  if (dim <= 0 || features.length !== count * dim) {
    throw new Error(`linear probe: features have ${features.length} values, expected ${count} × ${dim}`);
  }
  let maxLabel = 0;
  const labelArray = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0) throw new Error(`linear probe: label ${label} at row ${i} is not a class index`);
    labelArray[i] = label;
    maxLabel = Math.max(maxLabel, label);
  }
  const classCount = options.classCount ?? maxLabel + 1;
  if (maxLabel >= classCount) throw new Error(`linear probe: label ${maxLabel} ≥ classCount ${classCount}`);
  const optimizer = options.optimizer ?? 'lbfgs';
  const weightDecay = options.weightDecay ?? (optimizer === 'adam' ? 1e-5 : 1e-2);
  const standardize = options.standardize ?? true;

  let trainFeatures = features;
  let moments: { mean: Float64Array; std: Float64Array } | null = null;
  if (standardize) {
    moments = featureMoments(features, dim);
    trainFeatures = new Float32Array(features.length); // [N, D] standardised copy
    for (let i = 0; i < count; i++) {
      const offset = i * dim;
      for (let d = 0; d < dim; d++) trainFeatures[offset + d] = (features[offset + d]! - moments.mean[d]!) / moments.std[d]!;
    }
  }
  const problem: Problem = {
    features: trainFeatures,
    dim,
    classCount,
    labels: labelArray,
    sampleWeights: classWeights(labelArray, classCount, options.classWeighting ?? 'balanced'),
    weightDecay,
  };
  const { theta, loss, iterations } = optimizer === 'adam' ? runAdam(problem, options) : runLbfgs(problem, options);

  // Fold the standardisation into the weights: W x̃ + b = (W/σ) x + (b − Σ W μ/σ).
  const weights = new Float32Array(classCount * dim);
  const bias = new Float32Array(classCount);
  for (let c = 0; c < classCount; c++) {
    let shift = 0;
    for (let d = 0; d < dim; d++) {
      const w = theta[c * dim + d]!;
      const scaled = moments ? w / moments.std[d]! : w;
      weights[c * dim + d] = scaled;
      if (moments) shift += scaled * moments.mean[d]!;
    }
    bias[c] = theta[classCount * dim + c]! - shift;
  }
  return { dim, classCount, weights, bias, finalLoss: loss, iterations };
}

/** Raw logits [N, C] for `features` [N, dim]. */
export function predictLogits(model: LinearProbeModel, features: Float32Array): Float32Array {
  const { dim, classCount, weights, bias } = model;
  if (features.length % dim !== 0) throw new Error(`linear probe: ${features.length} values are not rows of ${dim}`);
  const count = features.length / dim;
  const out = new Float32Array(count * classCount); // [N, C]
  for (let i = 0; i < count; i++) {
    const x = i * dim;
    for (let c = 0; c < classCount; c++) {
      const w = c * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let d = 0;
      for (; d + 3 < dim; d += 4) {
        s0 += weights[w + d]! * features[x + d]!;
        s1 += weights[w + d + 1]! * features[x + d + 1]!;
        s2 += weights[w + d + 2]! * features[x + d + 2]!;
        s3 += weights[w + d + 3]! * features[x + d + 3]!;
      }
      for (; d < dim; d++) s0 += weights[w + d]! * features[x + d]!;
      out[i * classCount + c] = s0 + s1 + s2 + s3 + bias[c]!;
    }
  }
  return out;
}

/** Row-wise softmax of logits [N, C] divided by `temperature`, in place; returns the array. */
export function softmaxRows(logits: Float32Array, classCount: number, temperature = 1): Float32Array {
  const count = logits.length / classCount;
  for (let i = 0; i < count; i++) {
    const offset = i * classCount;
    let max = -Infinity;
    for (let c = 0; c < classCount; c++) max = Math.max(max, logits[offset + c]! / temperature);
    let sum = 0;
    for (let c = 0; c < classCount; c++) {
      const e = Math.exp(logits[offset + c]! / temperature - max);
      logits[offset + c] = e;
      sum += e;
    }
    for (let c = 0; c < classCount; c++) logits[offset + c]! /= sum;
  }
  return logits;
}

/**
 * Class probabilities [N, C]. `temperature` > 1 softens overconfident probes (see
 * calibration.ts, which fits it on held-out predictions).
 */
export function predictProba(model: LinearProbeModel, features: Float32Array, temperature = 1): Float32Array {
  return softmaxRows(predictLogits(model, features), model.classCount, temperature);
}

/** Arg-max class per row of scores [N, C]. */
export function argmaxRows(scores: Float32Array, classCount: number): Int32Array {
  const count = scores.length / classCount;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < classCount; c++) if (scores[i * classCount + c]! > scores[i * classCount + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows whose arg-max equals the label. */
export function accuracy(scores: Float32Array, classCount: number, labels: ArrayLike<number>): number {
  const predicted = argmaxRows(scores, classCount);
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) correct++;
  return predicted.length === 0 ? 0 : correct / predicted.length;
}
