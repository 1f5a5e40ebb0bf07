// LooktwiceBatchNormGrad (webgpu): the backward pass of training-mode batch norm (+ optional ReLU)
// (Ioffe & Szegedy 2015, §3), with the batch statistics as functions of x:
//
//   g[r, c]   = dy[r, c] · [y[r, c] > 0]   (ReLU; g = dy without it)      x̂ = (x − mean) / √(variance + ε)
//   dOffset[c] = Σ_r g[r, c]                dScale[c] = Σ_r g[r, c] · x̂[r, c]
//   dx[r, c]  = scale[c] / √(variance[c] + ε) · ( g[r, c] − dOffset[c]/R − x̂[r, c] · dScale[c]/R )
//
// Pass 1 reduces both sums per column over row chunks into partials [S, 2, C] (coalesced along C, as
// in column-sum.ts), pass 2 (split-k-sum.ts) adds them into [2, C] = [dOffset; dScale], pass 3 forms
// dx elementwise. Outputs [dx, sums [2, C]]. Replaces the ~20 dispatches tfjs's autodiff of
// moments → batchNorm → relu produces per layer.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { columnChunkMainWgsl, planRowChunks } from './column-sum.ts';
import { splitKSum } from './split-k-sum.ts';
import { ceilDiv, ElementwiseProgram, runProgram, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.ts';

export const BATCH_NORM_GRAD = 'LooktwiceBatchNormGrad';

const COLUMNS_PER_GROUP = 64;
const ROW_LANES = 4;

const GRADIENT_SNIPPET = (relu: boolean): string => `
  fn gradientAt(index : i32) -> f32 {
    ${relu ? 'return select(0.0, dy[index], y[index] > 0.0);' : 'return dy[index];'}
  }`;

// A binding the shader never reads is dropped from the 'auto' pipeline layout and then rejected in
// the bind group, so `y` is an input only with the ReLU.
const withY = (names: string[], relu: boolean): string[] => (relu ? names : names.filter((name) => name !== 'y'));

class BatchNormGradSumsProgram implements WebGPUProgram {
  variableNames: string[];
  uniforms = 'rows : i32, channels : i32, rowsPerChunk : i32, epsilon : f32,';
  workgroupSize: [number, number, number] = [COLUMNS_PER_GROUP, ROW_LANES, 1];
  outputShape: number[];
  dispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  shaderKey: string;

  constructor(partialRows: number, channels: number, chunks: number, private readonly relu: boolean) {
    this.variableNames = withY(['dy', 'x', 'y', 'mean', 'variance'], relu);
    this.outputShape = [partialRows, 2, channels];
    this.dispatch = [ceilDiv(channels, COLUMNS_PER_GROUP), chunks, 1];
    this.shaderKey = `looktwice_batchNormGradSums_${relu}`;
  }

  getUserCode(): string {
    return `
  ${GRADIENT_SNIPPET(this.relu)}

  ${columnChunkMainWgsl(
    'uniforms.channels',
    `let mu = mean[column];
      let inverseStd = inverseSqrt(variance[column] + uniforms.epsilon);
      var sumG = 0.0;
      var sumGX = 0.0;
      for (var row = rowStart + lane; row < rowEnd; row += ${ROW_LANES}) {
        let index = row * uniforms.channels + column;
        let g = gradientAt(index);
        sumG += g;
        sumGX += g * (x[index] - mu) * inverseStd;
      }
      let base = (chunk * ${ROW_LANES} + lane) * 2 * uniforms.channels;
      result[base + column] = sumG;
      result[base + uniforms.channels + column] = sumGX;`,
  )}`;
  }
}

class BatchNormGradInputProgram extends ElementwiseProgram implements WebGPUProgram {
  variableNames: string[];
  uniforms = 'channels : i32, epsilon : f32, inverseRows : f32,';
  shaderKey: string;

  constructor(shape: number[], private readonly relu: boolean) {
    super(shape);
    this.variableNames = withY(['dy', 'x', 'y', 'mean', 'variance', 'scale', 'sums'], relu);
    this.shaderKey = `looktwice_batchNormGradInput_${relu}`;
  }

  getUserCode(): string {
    return `
  ${GRADIENT_SNIPPET(this.relu)}

  fn main(index : i32) {
    if (index < uniforms.size) {
      let c = index % uniforms.channels;
      let inverseStd = inverseSqrt(variance[c] + uniforms.epsilon);
      let normalised = (x[index] - mean[c]) * inverseStd;
      let meanG = sums[c] * uniforms.inverseRows;
      let meanGX = sums[uniforms.channels + c] * uniforms.inverseRows;
      setOutputAtIndex(index, scale[c] * inverseStd * (gradientAt(index) - meanG - normalised * meanGX));
    }
  }`;
  }
}

/**
 * [dx, sums [2, C] = (dOffset; dScale)] for training batch norm (+ ReLU when `y` is given, the
 * forward output whose sign masks dy).
 */
export function batchNormGradient(
  backend: WebGPUBackend,
  inputs: { dy: TensorInfo; x: TensorInfo; y?: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale: TensorInfo },
  epsilon: number,
): [TensorInfo, TensorInfo] {
  const { dy, x, y, mean, variance, scale } = inputs;
  const relu = y !== undefined;
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const rows = util.sizeFromShape(x.shape) / channels;
  const { chunks, rowsPerChunk } = planRowChunks(rows, ceilDiv(channels, COLUMNS_PER_GROUP), ROW_LANES);
  const partialRows = chunks * ROW_LANES;
  const partial = runProgram(backend, new BatchNormGradSumsProgram(partialRows, channels, chunks, relu), y !== undefined ? [dy, x, y, mean, variance] : [dy, x, mean, variance], [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [rowsPerChunk] },
    { type: 'float32', data: [epsilon] },
  ]); // [S, 2, C]
  const sums = splitKSum(backend, partial, partialRows, [2, channels]); // [dOffset; dScale]
  backend.disposeData(partial.dataId);
  const dx = runProgram(backend, new BatchNormGradInputProgram(x.shape, relu), y !== undefined ? [dy, x, y, mean, variance, scale, sums] : [dy, x, mean, variance, scale, sums], [
    { type: 'int32', data: [channels] },
    { type: 'float32', data: [epsilon] },
    { type: 'float32', data: [1 / rows] },
  ]);
  return [dx, sums];
}

export function batchNormGradConfig(): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { dy, x, y, mean, variance, scale } = args.inputs as Record<string, TensorInfo | undefined>;
    const { epsilon, relu } = args.attrs as { epsilon: number; relu: boolean };
    if (dy === undefined || x === undefined || y === undefined || mean === undefined || variance === undefined || scale === undefined) {
      throw new Error(`${BATCH_NORM_GRAD}: needs dy, x, y, mean, variance, scale`);
    }
    return batchNormGradient(args.backend as WebGPUBackend, { dy, x, y: relu ? y : undefined, mean, variance, scale }, epsilon);
  };
  return { kernelName: BATCH_NORM_GRAD, backendName: 'webgpu', kernelFunc };
}
