// Mean for the webgpu backend when it reduces every axis but the last of a float32 tensor (per-channel
// means of NHWC activations: batch norm's batch statistics): (1/R)·Σ_{n,h,w} x[n, h, w, c] without the stock
// kernel's transpose (see column-sum.ts). Every other case runs the stock kernel.
import {
  backend_util,
  Mean,
  util,
  type KernelConfig,
  type KernelFunc,
  type MeanAttrs,
  type MeanInputs,
} from '@tensorflow/tfjs';
import { columnSum, reducesAllButLastAxis } from './column-sum.ts';
import type { WebGPUBackend } from './webgpu-program.ts';

/** Kernel registration for the webgpu backend; `fallback` is the stock kernel it replaces. */
export function meanConfig(fallback: KernelFunc | undefined): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as unknown as MeanInputs;
    const { axis, keepDims } = args.attrs as unknown as MeanAttrs;
    if (x === undefined) throw new Error('Mean: needs input x');
    const axes = util.parseAxisParam(axis, x.shape);
    if (x.dtype !== 'float32' || util.sizeFromShape(x.shape) === 0 || !reducesAllButLastAxis(axes, x.shape.length)) {
      if (fallback === undefined) throw new Error('Mean (webgpu): stock kernel missing');
      return fallback(args);
    }
    const [reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const outputShape = keepDims ? backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape;
    const rows = util.sizeFromShape(x.shape) / (x.shape[x.shape.length - 1] ?? 1);
    return columnSum(args.backend as WebGPUBackend, x, outputShape, 1 / rows);
  };
  return { kernelName: Mean, backendName: 'webgpu', kernelFunc };
}
