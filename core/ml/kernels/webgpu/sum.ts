// Sum for the webgpu backend when it reduces every axis but the last of a float32 tensor (per-channel
// sums of NHWC activations, as in batch norm's gradient): Σ_{n,h,w} x[n, h, w, c] without the stock
// kernel's transpose (see column-sum.ts). Every other case runs the stock kernel.
import {
  backend_util,
  Sum,
  util,
  type KernelConfig,
  type KernelFunc,
  type SumAttrs,
  type SumInputs,
} from '@tensorflow/tfjs';
import { columnSum, reducesAllButLastAxis } from './column-sum.ts';
import type { WebGPUBackend } from './webgpu-program.ts';

/** Kernel registration for the webgpu backend; `fallback` is the stock kernel it replaces. */
export function sumConfig(fallback: KernelFunc | undefined): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as unknown as SumInputs;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    if (x === undefined) throw new Error('Sum: needs input x');
    const axes = util.parseAxisParam(axis, x.shape);
    if (x.dtype !== 'float32' || util.sizeFromShape(x.shape) === 0 || !reducesAllButLastAxis(axes, x.shape.length)) {
      if (fallback === undefined) throw new Error('Sum (webgpu): stock kernel missing');
      return fallback(args);
    }
    const [reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const outputShape = keepDims ? backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape;
    return columnSum(args.backend as WebGPUBackend, x, outputShape, 1);
  };
  return { kernelName: Sum, backendName: 'webgpu', kernelFunc };
}
