/**
 * Conv2DBackpropFilter for the wasm backend, which has none (tfjs 4.22). The filter gradient of an
 * NHWC convolution is itself a convolution once batch and channels swap roles:
 *   dW[kh, kw, ci, co] = Σ_{b,oh,ow} x[b, oh·s + kh − pad, ow·s + kw − pad, ci] · dy[b, oh, ow, co]
 * is the stride-1 convolution of x' = xᵀ [Ci, H, W, B] (B as channels) with the "filter"
 * dy' [OH, OW, B, Co], dilated by the forward stride, over the forward padding; its output
 * [Ci, KH, KW, Co] is transposed to [KH, KW, Ci, Co]. That runs in the backend's XNNPACK
 * convolution, measured 2–3× faster here than im2col plus its matrix product.
 *
 * Where Co % 8 == 0 the wasm SIMD kernel conv_filter_grad (./training-kernels.wat) sums dW straight
 * from x and dy instead, with no transposes: measured faster on every convolution of the ResNets
 * (bench:wasm-kernels); the XNNPACK route stays for the other shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels, type TrainingKernels } from './simd-kernels.ts';
import { allocate, floatOffset, heap, release, runWasmKernel, type WasmBackend } from './wasm-backend.ts';

function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('Conv2DBackpropFilter (wasm): float32 only');
  if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (wasm): NHWC only');
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const kernels = info.outChannels % 8 === 0 && info.dilationHeight === 1 && info.dilationWidth === 1 ? simdKernels(backend) : null;
  if (kernels) return directFilterGradient(backend, kernels, x, dy, info);
  const { top, bottom, left, right } = info.padInfo;
  const xT = runWasmKernel(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
  const dyT = runWasmKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  let gradient = runWasmKernel(backend, 'Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [info.strideHeight, info.strideWidth],
    dimRoundingMode: undefined,
  }); // [Ci, KH', KW', Co] with KH' ≥ KH (rows the forward pass never reached come last)
  release(backend, xT, dyT);
  const [, height, width] = gradient.shape as [number, number, number, number];
  if (height !== info.filterHeight || width !== info.filterWidth) {
    const sliced = runWasmKernel(backend, 'Slice', { x: gradient }, { begin: [0, 0, 0, 0], size: [info.inChannels, info.filterHeight, info.filterWidth, info.outChannels] });
    release(backend, gradient);
    gradient = sliced;
  }
  const result = runWasmKernel(backend, 'Transpose', { x: gradient }, { perm: [1, 2, 0, 3] }); // [KH, KW, Ci, Co]
  release(backend, gradient);
  return result;
}

/** Images per call of the SIMD kernel: their x and dy (~256 KB) stay in L2 across its tiles. */
function imagesPerCall(info: tf.backend_util.Conv2DInfo): number {
  const bytesPerImage = 4 * (info.inHeight * info.inWidth * info.inChannels + info.outHeight * info.outWidth * info.outChannels);
  return Math.max(1, Math.floor((256 * 1024) / bytesPerImage));
}

/** dW [KH, KW, Ci, Co] summed straight from x and dy by the wasm SIMD kernel, a few images per call. */
function directFilterGradient(backend: WasmBackend, kernels: TrainingKernels, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const dw = allocate(backend, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels]);
  const dwAt = floatOffset(backend, dw);
  heap(backend).fill(0, dwAt, dwAt + info.filterHeight * info.filterWidth * info.inChannels * info.outChannels);
  const xBytes = 4 * info.inHeight * info.inWidth * info.inChannels;
  const dyBytes = 4 * info.outHeight * info.outWidth * info.outChannels;
  const xAt = floatOffset(backend, x) * 4;
  const dyAt = floatOffset(backend, dy) * 4;
  const chunk = imagesPerCall(info);
  for (let first = 0; first < info.batchSize; first += chunk) {
    const count = Math.min(chunk, info.batchSize - first);
    kernels.conv_filter_grad(
      xAt + first * xBytes, dyAt + first * dyBytes, dwAt * 4, count,
      info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    );
  }
  return dw;
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
