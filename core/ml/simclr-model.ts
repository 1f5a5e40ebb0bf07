/**
 * The SimCLR model (Chen et al. 2020): encoder f (ResNet) and projection head g, built from one
 * configuration, with their parameters named for checkpoints. Only f is needed after training.
 */
import * as tf from '@tensorflow/tfjs';
import { ResNet, resnetConfig, type ResNetArch } from './resnet.ts';
import { ProjectionHead, PROJECTION_DIM } from './projection-head.ts';
import { Random } from '../common/random.ts';
import type { CheckpointTensor } from './checkpoint.ts';
import type { Parameter, StatisticsUpdate } from './layers.ts';

/** What defines the network (saved with every run and checkpoint). */
export interface ModelConfig {
  arch: ResNetArch;
  sizePx: number;
  channels: number;
  widths?: number[];
  blocks?: number[];
  projectionDim?: number;
  /** The stem, when not the one sizePx implies (an imported encoder: core/interop). */
  stem?: 'cifar' | 'imagenet';
  /** Convolution padding (ResNetConfig.padding): absent = 'same', how Looktwice trains. */
  padding?: 'same' | 'symmetric';
  /** Pixel normalisation (ResNetConfig.normalisation): absent = Looktwice's p/255 − 0.5. */
  normalisation?: { mean: number[]; std: number[] };
  /** Seed of the initial weights. */
  seed: number;
}

export class SimclrModel {
  readonly encoder: ResNet;
  readonly head: ProjectionHead;

  constructor(readonly config: ModelConfig, options: { withHead?: boolean } = {}) {
    const random = new Random(config.seed ^ 0x5eed);
    const overrides: NonNullable<Parameters<typeof resnetConfig>[3]> = {};
    if (config.widths) overrides.widths = config.widths;
    if (config.blocks) overrides.blocks = config.blocks;
    if (config.stem) overrides.cifarStem = config.stem === 'cifar';
    if (config.padding) overrides.padding = config.padding;
    if (config.normalisation) overrides.normalisation = config.normalisation;
    this.encoder = new ResNet(resnetConfig(config.arch, config.sizePx, config.channels, overrides), random);
    // The head is always built so that initial encoder weights do not depend on whether it is.
    this.head = new ProjectionHead(this.encoder.featureDim, random, this.encoder.featureDim, config.projectionDim ?? PROJECTION_DIM);
    if (options.withHead === false) this.head.dispose();
  }

  get featureDim(): number {
    return this.encoder.featureDim;
  }

  /** Training forward pass: views [B, S, S, C] → z = g(f(x)) [B, projectionDim]; BN statistics queued on `updates`. */
  project(views: tf.Tensor4D, updates: StatisticsUpdate[]): tf.Tensor2D {
    const h = this.encoder.forward(views, true, updates); // [B, D]
    return this.head.forward(h, true, updates); // [B, 128]
  }

  parameters(includeHead = true): Parameter[] {
    return includeHead ? [...this.encoder.parameters.list, ...this.head.parameters.list] : [...this.encoder.parameters.list];
  }

  /** Current values of every parameter (and BN statistic), for a checkpoint (async: WebGPU cannot read synchronously). */
  async snapshot(includeHead = true): Promise<CheckpointTensor[]> {
    return Promise.all(this.parameters(includeHead).map(async (p) => ({ name: p.name, shape: p.variable.shape, values: (await p.variable.data()) as Float32Array })));
  }

  /** Loads values by name; throws naming the first missing or mis-shaped tensor. */
  restore(tensors: Map<string, CheckpointTensor>, includeHead = true): void {
    for (const p of this.parameters(includeHead)) {
      const saved = tensors.get(p.name);
      if (!saved) throw new Error(`checkpoint has no tensor ${p.name}`);
      if (saved.shape.join('x') !== p.variable.shape.join('x')) throw new Error(`checkpoint tensor ${p.name} has shape ${saved.shape.join('x')}, model expects ${p.variable.shape.join('x')}`);
      const value = tf.tensor(saved.values, saved.shape);
      p.variable.assign(value);
      value.dispose();
    }
  }

  dispose(): void {
    this.encoder.dispose();
    this.head.dispose();
  }
}
