/**
 * The encoder f: a ResNet (He, Zhang, Ren, Sun, CVPR 2016) of basic blocks, as SimCLR uses it
 * (Chen et al. 2020): h = global average pool of the last stage, the representation kept after
 * training. For inputs ≤ 64 px the stem is the CIFAR one (3×3 conv, stride 1, no max-pool), as in
 * the SimCLR paper's CIFAR-10 experiments; larger inputs get the ImageNet stem (7×7/2 + max-pool).
 *
 * Architectures: `resnet18` (widths 64-128-256-512, two blocks per stage, h is 512-d) and
 * `resnet-small`, a CPU-sized variant (by default widths 16-32-64-128, one block per stage,
 * h is 128-d); `widths` and `blocks` are configurable.
 */
import * as tf from '@tensorflow/tfjs';
import { Parameters, addBatchNorm, batchNorm, heNormal, type BatchNormParameters, type StatisticsUpdate } from './layers.ts';
import type { Random } from '../common/random.ts';

import type { ResNetArch } from './choices.ts';

export { RESNET_ARCHS, type ResNetArch } from './choices.ts';

export interface ResNetConfig {
  arch: ResNetArch;
  /** Channels per stage; each stage after the first halves the resolution. */
  widths: number[];
  /** Basic blocks per stage. */
  blocks: number[];
  inputChannels: number;
  /** 3×3 stride-1 stem without max-pool (for ≤ 64 px inputs). */
  cifarStem: boolean;
  /**
   * How convolutions and the stem's max-pool pad: 'same' is TensorFlow's (what Looktwice trains
   * with: a stride-2 layer on an even size pads only bottom/right), 'symmetric' is PyTorch's
   * (k//2 on every side), for encoders imported from torchvision (core/interop). Default 'same'.
   */
  padding?: 'same' | 'symmetric';
  /**
   * Per-channel pixel normalisation the encoder expects, in [0, 1] units: x = (p/255 − mean)/std
   * (embed.ts). Absent: Looktwice's own, p/255 − 0.5.
   */
  normalisation?: { mean: number[]; std: number[] };
}

/** The standard configuration of `arch` for square inputs of `sizePx`. */
export function resnetConfig(arch: ResNetArch, sizePx: number, inputChannels = 3, overrides: Partial<Pick<ResNetConfig, 'widths' | 'blocks' | 'cifarStem' | 'padding' | 'normalisation'>> = {}): ResNetConfig {
  const base = arch === 'resnet18' ? { widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2] } : { widths: [16, 32, 64, 128], blocks: [1, 1, 1, 1] };
  const widths = overrides.widths ?? base.widths;
  const blocks = overrides.blocks ?? base.blocks;
  if (widths.length !== blocks.length || widths.length === 0) throw new Error('resnet: widths and blocks must be non-empty and of equal length');
  const config: ResNetConfig = { arch, widths, blocks, inputChannels, cifarStem: overrides.cifarStem ?? sizePx <= 64 };
  if (overrides.padding) config.padding = overrides.padding;
  if (overrides.normalisation) config.normalisation = overrides.normalisation;
  return config;
}

interface Conv {
  filter: tf.Variable; // [k, k, in, out]
  stride: number;
}

interface Block {
  conv1: Conv;
  bn1: BatchNormParameters;
  conv2: Conv;
  bn2: BatchNormParameters;
  shortcut: { conv: Conv; bn: BatchNormParameters } | null;
}

/** A ResNet encoder with its own parameters. */
export class ResNet {
  readonly parameters: Parameters;
  readonly featureDim: number;
  private readonly stem: { conv: Conv; bn: BatchNormParameters };
  private readonly stages: Block[][] = [];

  constructor(readonly config: ResNetConfig, random: Random, prefix = 'encoder') {
    this.parameters = new Parameters(prefix);
    const p = this.parameters;
    const conv = (name: string, k: number, inChannels: number, outChannels: number, stride: number): Conv => ({
      filter: p.add(`${name}/filter`, 'weight', heNormal([k, k, inChannels, outChannels], k * k * inChannels, random)),
      stride,
    });
    const first = config.widths[0]!;
    this.stem = config.cifarStem
      ? { conv: conv('stem/conv', 3, config.inputChannels, first, 1), bn: addBatchNorm(p, 'stem/bn', first) }
      : { conv: conv('stem/conv', 7, config.inputChannels, first, 2), bn: addBatchNorm(p, 'stem/bn', first) };
    let channels = first;
    config.widths.forEach((width, stageIndex) => {
      const stage: Block[] = [];
      for (let b = 0; b < config.blocks[stageIndex]!; b++) {
        const stride = b === 0 && stageIndex > 0 ? 2 : 1;
        const name = `stage${stageIndex + 1}/block${b + 1}`;
        stage.push({
          conv1: conv(`${name}/conv1`, 3, channels, width, stride),
          bn1: addBatchNorm(p, `${name}/bn1`, width),
          conv2: conv(`${name}/conv2`, 3, width, width, 1),
          bn2: addBatchNorm(p, `${name}/bn2`, width),
          shortcut:
            stride !== 1 || channels !== width
              ? { conv: conv(`${name}/shortcut/conv`, 1, channels, width, stride), bn: addBatchNorm(p, `${name}/shortcut/bn`, width) }
              : null,
        });
        channels = width;
      }
      this.stages.push(stage);
    });
    this.featureDim = channels;
  }

  /**
   * x: [B, S, S, C] float32 (normalised pixels) → h: [B, featureDim].
   * In training mode batch-norm statistics are queued on `updates`.
   */
  forward(x: tf.Tensor4D, training: boolean, updates: StatisticsUpdate[] | null = null): tf.Tensor2D {
    const symmetric = this.config.padding === 'symmetric';
    // filter [k, k, in, out]: PyTorch pads k//2 on every side.
    const conv = (input: tf.Tensor4D, c: Conv): tf.Tensor4D => tf.conv2d(input, c.filter as tf.Tensor4D, c.stride, symmetric ? (c.filter.shape[0]! - 1) / 2 : 'same');
    const bn = (input: tf.Tensor4D, params: BatchNormParameters): tf.Tensor4D => batchNorm(input, params, training, updates) as tf.Tensor4D;
    const bnRelu = (input: tf.Tensor4D, params: BatchNormParameters): tf.Tensor4D => batchNorm(input, params, training, updates, true) as tf.Tensor4D;
    let out = bnRelu(conv(x, this.stem.conv), this.stem.bn);
    if (!this.config.cifarStem) out = tf.maxPool(out, 3, 2, symmetric ? 1 : 'same');
    for (const stage of this.stages) {
      for (const block of stage) {
        const residual = block.shortcut ? bn(conv(out, block.shortcut.conv), block.shortcut.bn) : out;
        const inner = bnRelu(conv(out, block.conv1), block.bn1);
        out = tf.relu(tf.add(bn(conv(inner, block.conv2), block.bn2), residual)) as tf.Tensor4D;
      }
    }
    return tf.mean(out, [1, 2]); // [B, featureDim]
  }

  dispose(): void {
    this.parameters.dispose();
  }
}
