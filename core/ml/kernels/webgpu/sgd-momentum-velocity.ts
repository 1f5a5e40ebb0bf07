// LooktwiceSgdMomentumVelocity (webgpu): the velocity of SGD with momentum and L2 weight decay, in
// one elementwise pass (the form optimizer.ts's `sgd` uses, lr inside the velocity):
//
//   v'[i] = μ · v[i] + lr · ( g[i] + λ · w[i] )
//
// lr, μ, λ travel as uniforms, so no scalar tensors are uploaded per step and the shader is shared
// by every variable of every size. Replaces 4–5 dispatches (mul, add, mul, mul, add) per variable.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { ElementwiseProgram, runProgram, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.ts';

export const SGD_MOMENTUM_VELOCITY = 'LooktwiceSgdMomentumVelocity';

class SgdMomentumVelocityProgram extends ElementwiseProgram implements WebGPUProgram {
  variableNames = ['velocity', 'gradient', 'weight'];
  uniforms = 'learningRate : f32, momentum : f32, weightDecay : f32,';
  shaderKey = 'looktwice_sgdMomentumVelocity';

  getUserCode(): string {
    return `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let g = gradient[index] + uniforms.weightDecay * weight[index];
      setOutputAtIndex(index, uniforms.momentum * velocity[index] + uniforms.learningRate * g);
    }
  }`;
  }
}

export function sgdMomentumVelocityConfig(): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { velocity, gradient, weight } = args.inputs as Record<string, TensorInfo | undefined>;
    const { learningRate, momentum, weightDecay } = args.attrs as { learningRate: number; momentum: number; weightDecay: number };
    if (velocity === undefined || gradient === undefined || weight === undefined) {
      throw new Error(`${SGD_MOMENTUM_VELOCITY}: needs velocity, gradient, weight`);
    }
    return runProgram(args.backend as WebGPUBackend, new SgdMomentumVelocityProgram(velocity.shape), [velocity, gradient, weight], [
      { type: 'float32', data: [learningRate] },
      { type: 'float32', data: [momentum] },
      { type: 'float32', data: [weightDecay] },
    ]);
  };
  return { kernelName: SGD_MOMENTUM_VELOCITY, backendName: 'webgpu', kernelFunc };
}
