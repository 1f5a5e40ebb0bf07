/**
 * Conv2DBackpropInput for the wasm backend, replacing its own (an XNNPACK deconvolution measured
 * at ~2 GFLOP/s here, 5× slower than its forward convolution):
 *  - stride 1: the input gradient is the "full" correlation of dy with the filter rotated by 180°
 *    and its in/out channels swapped, i.e. one forward Conv2D (XNNPACK) with padding K − 1 − pad;
 *  - stride > 1: dcols[M, K] = dy[M, Co] · Wᵀ[Co, K] in the backend's matrix product, then col2im
 *    accumulates the patches into dx (chunked over images to bound memory).
 * Where Ci % 8 == 0 (every convolution of the ResNets but the stem, whose input needs no gradient)
 * the wasm SIMD kernel conv_input_grad (./training-kernels.wat) sums dx straight from a
 * zero-bordered copy of dy and the filter with Ci innermost, for any stride, padding and filter
 * size: measured 1.8–4× faster than the stride-2 route on the ResNets' strided convolutions and
 * 1.0–1.5× faster than XNNPACK on the stride-1 ones (bench:wasm-kernels). The routes above stay
 * for the other shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { allocate, floatOffset, heap, matMul, release, runWasmKernel, transpose2d, type WasmBackend } from './wasm-backend.ts';
import { col2imAdd, geometryOf, imagesPerChunk } from './im2col.ts';
import { simdKernels, type TrainingKernels } from './simd-kernels.ts';

/** Whether the SIMD kernel computes input gradients (else the routes below); for A/B benchmarks. */
let direct = true;

/** Routes input gradients through the SIMD kernel (true, the default) or the previous routes (false). */
export function setDirectInputGradient(value: boolean): void {
  direct = value;
}

/**
 * dx [B, H, W, Ci] from the SIMD kernel: dy is copied into a zero border wide enough that every
 * filter tap of every dx pixel reads inside it (rows the forward pass never produced read zeros).
 */
function directInputGradient(backend: WasmBackend, kernels: TrainingKernels, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // dx row ih reads dy rows (ih + top − kh)/sh: from (top − KH + 1)/sh up to (H − 1 + top)/sh.
  const borderTop = Math.ceil(Math.max(0, KH - 1 - top) / sh);
  const borderBottom = Math.max(0, Math.floor((H - 1 + top) / sh) - (OH - 1));
  const borderLeft = Math.ceil(Math.max(0, KW - 1 - left) / sw);
  const borderRight = Math.max(0, Math.floor((W - 1 + left) / sw) - (OW - 1));
  const OHp = OH + borderTop + borderBottom;
  const OWp = OW + borderLeft + borderRight;
  let padded = dy;
  if (OHp !== OH || OWp !== OW) {
    padded = allocate(backend, [B, OHp, OWp, Co]);
    const memory = heap(backend);
    const to = floatOffset(backend, padded);
    const from = floatOffset(backend, dy);
    memory.fill(0, to, to + B * OHp * OWp * Co);
    for (let b = 0; b < B; b++) {
      for (let oh = 0; oh < OH; oh++) {
        const src = from + (b * OH + oh) * OW * Co;
        memory.copyWithin(to + ((b * OHp + oh + borderTop) * OWp + borderLeft) * Co, src, src + OW * Co);
      }
    }
  }
  const wt = runWasmKernel(backend, 'Transpose', { x: filter }, { perm: [0, 1, 3, 2] }); // [KH, KW, Co, Ci]
  const dx = allocate(backend, [B, H, W, Ci]);
  kernels.conv_input_grad(
    floatOffset(backend, padded) * 4, floatOffset(backend, wt) * 4, floatOffset(backend, dx) * 4, B,
    H, W, Ci, OHp, OWp, Co, KH, KW, sh, sw, top + borderTop * sh, left + borderLeft * sw,
  );
  release(backend, wt);
  if (padded !== dy) release(backend, padded);
  return dx;
}

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
  const kernels = direct && info.inChannels % 8 === 0 ? simdKernels(backend) : null;
  if (kernels) return directInputGradient(backend, kernels, dy, filter, info);
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
