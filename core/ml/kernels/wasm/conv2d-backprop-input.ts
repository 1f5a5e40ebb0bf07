/**
 * Conv2DBackpropInput for the wasm backend, replacing its own (an XNNPACK deconvolution measured
 * at ~2 GFLOP/s here, 5× slower than its forward convolution):
 *  - stride 1: the input gradient is the "full" correlation of dy with the filter rotated by 180°
 *    and its in/out channels swapped, i.e. one forward Conv2D (XNNPACK) with padding K − 1 − pad;
 *  - stride > 1: dcols[M, K] = dy[M, Co] · Wᵀ[Co, K] in the backend's matrix product, then col2im
 *    accumulates the patches into dx (chunked over images to bound memory).
 */
import * as tf from '@tensorflow/tfjs';
import { allocate, floatOffset, heap, matMul, release, runWasmKernel, transpose2d, type WasmBackend } from './wasm-backend.ts';
import { col2imAdd, geometryOf, imagesPerChunk } from './im2col.ts';

function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') throw new Error('Conv2DBackpropInput (wasm): float32 only');
  if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropInput (wasm): NHWC only');
  const inputShape = [...attrs.inputShape] as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { top, left } = info.padInfo;
  // Full correlation: output rows = OH + padTop + padBottom − KH + 1 must equal H; rows of x the
  // forward pass never read (valid padding, odd sizes) come out of the extra bottom/right padding as zeros.
  const fullTop = info.filterHeight - 1 - top;
  const fullLeft = info.filterWidth - 1 - left;
  const fullBottom = inputShape[1] - info.outHeight - fullTop + info.filterHeight - 1;
  const fullRight = inputShape[2] - info.outWidth - fullLeft + info.filterWidth - 1;
  const stride1 = info.strideHeight === 1 && info.strideWidth === 1;
  if (stride1 && fullTop >= 0 && fullLeft >= 0 && fullBottom >= 0 && fullRight >= 0) {
    const reversed = runWasmKernel(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = runWasmKernel(backend, 'Transpose', { x: reversed }, { perm: [0, 1, 3, 2] }); // [KH, KW, Co, Ci]
    release(backend, reversed);
    const dx = runWasmKernel(backend, 'Conv2D', { x: dy, filter: swapped }, {
      strides: [1, 1],
      pad: [[0, 0], [fullTop, fullBottom], [fullLeft, fullRight], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    });
    release(backend, swapped);
    return dx;
  }
  const g = geometryOf(info);
  const outChannels = info.outChannels;
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const pixelsPerImage = g.outHeight * g.outWidth;
  const filterT = transpose2d(backend, { ...filter, shape: [k, outChannels] }); // [Co, K]
  const dx = allocate(backend, inputShape);
  heap(backend).fill(0, floatOffset(backend, dx), floatOffset(backend, dx) + g.batch * g.inHeight * g.inWidth * g.inChannels);
  const chunk = imagesPerChunk(g);
  for (let first = 0; first < g.batch; first += chunk) {
    const count = Math.min(chunk, g.batch - first);
    const rows = count * pixelsPerImage;
    const dyChunk = allocate(backend, [rows, outChannels]);
    {
      const memory = heap(backend);
      const from = floatOffset(backend, dy) + first * pixelsPerImage * outChannels;
      memory.copyWithin(floatOffset(backend, dyChunk), from, from + rows * outChannels);
    }
    const dcols = matMul(backend, dyChunk, filterT); // [rows, K]
    col2imAdd(heap(backend), floatOffset(backend, dcols), g, first, count, floatOffset(backend, dx));
    release(backend, dyChunk, dcols);
  }
  release(backend, filterT);
  return dx;
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
