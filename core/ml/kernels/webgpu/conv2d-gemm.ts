// What the two implicit-GEMM convolution gradient kernels (conv2d-backprop-filter.ts,
// conv2d-backprop-input.ts) share: the NHWC float32 gate in front of the stock fallback, the
// Conv2DInfo they both compute, the conv geometry uniforms, and the program fields set by the tile.
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { chooseGemmTile, type GemmTile, type ProgramUniformValue, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.ts';

/** The attributes both Conv2DBackpropFilter and Conv2DBackpropInput carry. */
interface Conv2DGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * A tfjs kernel that runs `gemm` on two float32 NHWC inputs (named `names` in `args.inputs`) and
 * hands every other case (NCHW, other dtypes) to `fallback`, the stock kernel.
 */
export function makeConv2DGradientKernel<Attrs extends Conv2DGradientAttrs>(
  kernelName: string,
  names: [string, string],
  fallback: KernelFunc | undefined,
  gemm: (backend: WebGPUBackend, a: TensorInfo, b: TensorInfo, attrs: Attrs) => TensorInfo,
): KernelFunc {
  return (args) => {
    const inputs = args.inputs as unknown as Record<string, TensorInfo | undefined>;
    const a = inputs[names[0]];
    const b = inputs[names[1]];
    const attrs = args.attrs as unknown as Attrs;
    if (a === undefined || b === undefined) throw new Error(`${kernelName}: needs inputs ${names[0]} and ${names[1]}`);
    if (attrs.dataFormat === 'NCHW' || a.dtype !== 'float32' || b.dtype !== 'float32') {
      if (fallback === undefined) throw new Error(`${kernelName} (webgpu): only NHWC float32 is implemented`);
      return fallback(args);
    }
    return gemm(args.backend as WebGPUBackend, a, b, attrs);
  };
}

/** Conv2DInfo of the forward conv x [N, H, W, Cin] * W [kh, kw, Cin, Cout] (NHWC, no dilation). */
export function conv2DInfoNhwc(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: Conv2DGradientAttrs,
): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** WGSL uniform declarations of conv2DGemmUniforms, in the same order. */
export const CONV2D_GEMM_UNIFORMS_WGSL =
  'inHeight : i32, inWidth : i32, inChannels : i32, outHeight : i32, outWidth : i32, outChannels : i32, ' +
  'filterWidth : i32, strideHeight : i32, strideWidth : i32, padTop : i32, padLeft : i32, ' +
  'gemmM : i32, gemmK : i32,';

/** The conv geometry and GEMM sizes M, K as int32 uniforms, then `extra` (declared after them). */
export function conv2DGemmUniforms(info: backend_util.Conv2DInfo, m: number, k: number, extra: number[] = []): ProgramUniformValue[] {
  return [
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    m,
    k,
    ...extra,
  ].map((value) => ({ type: 'int32' as const, data: [value] }));
}

/** Program fields every tiled GEMM kernel sets the same way from its output shape and tile. */
export abstract class GemmProgram implements Partial<WebGPUProgram> {
  workgroupSize: [number, number, number];
  outputShape: number[];
  protected readonly tile: GemmTile;

  /** `n`: the GEMM's output columns, which choose the tile (chooseGemmTile). */
  constructor(outputShape: number[], n: number) {
    this.outputShape = outputShape;
    this.tile = chooseGemmTile(n);
    this.workgroupSize = this.tile.workgroupSize;
  }
}
