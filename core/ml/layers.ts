/**
 * Parameters and the few layers the encoder and the projection head are made of, written with
 * plain tfjs ops and tf.Variables (no tfjs-layers): the trainer needs direct control over variable
 * names (optimizer slots are keyed by them), batch-norm statistics, and checkpoint contents.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../common/random.ts';
import { batchNormTraining } from './batch-norm.ts';

/** Whether a parameter is learned by the optimizer or is a running statistic. */
export type ParameterRole = 'weight' | 'bias' | 'bn-scale' | 'bn-offset' | 'bn-mean' | 'bn-variance';

export interface Parameter {
  name: string;
  role: ParameterRole;
  variable: tf.Variable;
}

/**
 * A named collection of variables. Names are prefixed (e.g. "encoder/…", "head/…") and made
 * unique per instance, because tfjs keys optimizer slots and variable registry by name.
 */
export class Parameters {
  readonly list: Parameter[] = [];
  private static instances = 0;
  readonly uniquePrefix: string;

  constructor(readonly prefix: string) {
    Parameters.instances += 1;
    this.uniquePrefix = `${prefix}#${Parameters.instances}`;
  }

  add(name: string, role: ParameterRole, initial: tf.Tensor): tf.Variable {
    const trainable = role !== 'bn-mean' && role !== 'bn-variance';
    const variable = tf.variable(initial, trainable, `${this.uniquePrefix}/${name}`);
    initial.dispose();
    this.list.push({ name: `${this.prefix}/${name}`, role, variable });
    return variable;
  }

  trainable(): Parameter[] {
    return this.list.filter((p) => p.variable.trainable);
  }

  count(): number {
    return this.list.filter((p) => p.variable.trainable).reduce((sum, p) => sum + p.variable.size, 0);
  }

  dispose(): void {
    for (const p of this.list) p.variable.dispose();
    this.list.length = 0;
  }
}

/** He (Kaiming) normal initialisation, fan-in mode, for layers followed by ReLU (He et al. 2015). */
export function heNormal(shape: number[], fanIn: number, random: Random): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < values.length; i++) values[i] = random.normal() * std;
  return tf.tensor(values, shape);
}

/** Uniform ±1/sqrt(fanIn) (PyTorch's Linear default), for the last layer of the head. */
export function uniformFanIn(shape: number[], fanIn: number, random: Random): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < values.length; i++) values[i] = random.uniform(-bound, bound);
  return tf.tensor(values, shape);
}

/** Batch-norm parameters and running statistics for `channels` features (Ioffe & Szegedy 2015). */
export interface BatchNormParameters {
  scale: tf.Variable; // gamma [C]
  offset: tf.Variable; // beta [C]
  movingMean: tf.Variable; // [C]
  movingVariance: tf.Variable; // [C]
}

export function addBatchNorm(parameters: Parameters, name: string, channels: number): BatchNormParameters {
  return {
    scale: parameters.add(`${name}/scale`, 'bn-scale', tf.ones([channels])),
    offset: parameters.add(`${name}/offset`, 'bn-offset', tf.zeros([channels])),
    movingMean: parameters.add(`${name}/moving_mean`, 'bn-mean', tf.zeros([channels])),
    movingVariance: parameters.add(`${name}/moving_variance`, 'bn-variance', tf.ones([channels])),
  };
}

/** Batch statistics produced by a training forward pass, applied to the running averages afterwards. */
export interface StatisticsUpdate {
  target: tf.Variable;
  batchValue: tf.Tensor; // kept (tf.keep); disposed by applyStatisticsUpdates
}

export const BATCH_NORM_EPSILON = 1e-5;
export const BATCH_NORM_MOMENTUM = 0.9;

/**
 * Batch norm over every axis but the last, then a ReLU when `relu` (fused into the training
 * kernel where the backend has it: one pass and one tensor fewer each way). In training mode it
 * normalises with the batch's own statistics and queues them for the running averages (applied
 * after the gradient step, outside the taped function); in inference mode it uses the running
 * averages.
 */
export function batchNorm(x: tf.Tensor, bn: BatchNormParameters, training: boolean, updates: StatisticsUpdate[] | null, relu = false): tf.Tensor {
  if (!training) {
    const y = tf.batchNorm(x, bn.movingMean, bn.movingVariance, bn.offset, bn.scale, BATCH_NORM_EPSILON);
    return relu ? tf.relu(y) : y;
  }
  const { y, mean, variance } = batchNormTraining(x, bn.scale, bn.offset, BATCH_NORM_EPSILON, relu);
  if (updates) {
    updates.push({ target: bn.movingMean, batchValue: tf.keep(mean) });
    updates.push({ target: bn.movingVariance, batchValue: tf.keep(variance) });
  }
  return y;
}

/** moving ← momentum·moving + (1 − momentum)·batch, then frees the kept batch values. */
export function applyStatisticsUpdates(updates: StatisticsUpdate[]): void {
  for (const update of updates) {
    const next = tf.tidy(() => update.target.mul(BATCH_NORM_MOMENTUM).add(update.batchValue.mul(1 - BATCH_NORM_MOMENTUM)));
    update.target.assign(next);
    next.dispose();
    update.batchValue.dispose();
  }
  updates.length = 0;
}

/** Frees queued updates without applying them (used on errors). */
export function discardStatisticsUpdates(updates: StatisticsUpdate[]): void {
  for (const update of updates) update.batchValue.dispose();
  updates.length = 0;
}
