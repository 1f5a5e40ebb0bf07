// LooktwiceBatchNormApply (webgpu): normalise, scale, shift and (optionally) ReLU in one pass,
//
//   y[r, c] = act( (x[r, c] − mean[c]) · scale[c] / √(variance[c] + ε) + offset[c] ),  act = ReLU or identity
//
// one thread per element of x viewed as [R, C]. Replaces tf.batchNorm followed by tf.relu (two
// dispatches and one intermediate activation) in the training forward pass.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { ElementwiseProgram, runProgram, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.ts';

export const BATCH_NORM_APPLY = 'LooktwiceBatchNormApply';

class BatchNormApplyProgram extends ElementwiseProgram implements WebGPUProgram {
  variableNames = ['x', 'mean', 'variance', 'scale', 'offset'];
  uniforms = 'channels : i32, epsilon : f32,';
  shaderKey: string;

  constructor(shape: number[], private readonly relu: boolean) {
    super(shape);
    this.shaderKey = `looktwice_batchNormApply_${relu}`;
  }

  getUserCode(): string {
    return `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let c = index % uniforms.channels;
      let normalised = (x[index] - mean[c]) * inverseSqrt(variance[c] + uniforms.epsilon);
      let value = normalised * scale[c] + offset[c];
      setOutputAtIndex(index, ${this.relu ? 'max(value, 0.0)' : 'value'});
    }
  }`;
  }
}

/** y = act((x − mean)·scale/√(variance + ε) + offset) for x [..., C] and [C] parameters. */
export function batchNormApply(
  backend: WebGPUBackend,
  inputs: { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale: TensorInfo; offset: TensorInfo },
  epsilon: number,
  relu: boolean,
): TensorInfo {
  const { x, mean, variance, scale, offset } = inputs;
  const channels = x.shape[x.shape.length - 1] ?? 1;
  return runProgram(backend, new BatchNormApplyProgram(x.shape, relu), [x, mean, variance, scale, offset], [
    { type: 'int32', data: [channels] },
    { type: 'float32', data: [epsilon] },
  ]);
}

export function batchNormApplyConfig(): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x, mean, variance, scale, offset } = args.inputs as Record<string, TensorInfo | undefined>;
    const { epsilon, relu } = args.attrs as { epsilon: number; relu: boolean };
    if (x === undefined || mean === undefined || variance === undefined || scale === undefined || offset === undefined) {
      throw new Error(`${BATCH_NORM_APPLY}: needs x, mean, variance, scale, offset`);
    }
    return batchNormApply(args.backend as WebGPUBackend, { x, mean, variance, scale, offset }, epsilon, relu);
  };
  return { kernelName: BATCH_NORM_APPLY, backendName: 'webgpu', kernelFunc };
}
