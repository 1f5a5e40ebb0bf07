// Second pass of a split-K GEMM: sums the partial products of the S slices of the reduction axis.
//
//   out[i] = scale · Σ_{s=0}^{S−1} partial[offset + s·L + i]      partial: [S, L] (flat, from `offset`), out: L elements
//
// Deterministic (fixed summation order, no atomics), one thread per 4 outputs when L % 4 == 0.
import type { TensorInfo } from '@tensorflow/tfjs';
import { ElementwiseProgram, runProgram, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.ts';

class SplitKSumProgram extends ElementwiseProgram implements WebGPUProgram {
  variableNames = ['partial'];
  uniforms = 'splits : i32, scale : f32, offset : i32,';
  shaderKey: string;
  outputComponent: number;
  variableComponents: number[];

  constructor(outputShape: number[], vectorWidth: 1 | 4) {
    super(outputShape, 64, vectorWidth);
    this.outputComponent = vectorWidth;
    this.variableComponents = [vectorWidth];
    this.shaderKey = `looktwice_splitKSum_${vectorWidth}`;
  }

  getUserCode(): string {
    const zero = this.outputComponent === 4 ? 'vec4<f32>(0.0)' : '0.0';
    return `
    fn main(index : i32) {
      if (index < uniforms.size) {
        var sum = ${zero};
        for (var s = 0; s < uniforms.splits; s++) {
          sum += partial[uniforms.offset + s * uniforms.size + index];
        }
        setOutputAtIndex(index, sum * uniforms.scale);
      }
    }`;
  }
}

/**
 * Sums `partial` ([splits, …], each slice as many elements as `outputShape`) into a new float32 tensor
 * of `outputShape`, times `scale` (1 for a plain sum), reading from element `offset` of `partial`
 * (with splits = 1: a copy of one slice). The caller keeps ownership of `partial`.
 */
export function splitKSum(
  backend: WebGPUBackend,
  partial: TensorInfo,
  splits: number,
  outputShape: number[],
  scale = 1,
  offset = 0,
): TensorInfo {
  const elements = outputShape.reduce((a, b) => a * b, 1);
  const vectorWidth = elements % 4 === 0 && offset % 4 === 0 ? 4 : 1;
  const program = new SplitKSumProgram(outputShape, vectorWidth);
  return runProgram(backend, program, [partial], [
    { type: 'int32', data: [splits] },
    { type: 'float32', data: [scale] },
    { type: 'int32', data: [offset / vectorWidth] },
  ]);
}
