// Conv2DBackpropFilter for the webgpu backend as a tiled, split-K implicit GEMM (NHWC, float32).
//
// The filter gradient of y = conv2d(x, W) with strides (sh, sw) and padding (pt, pl) is
//
//   dW[r, c, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + r − pt, ow·sw + c − pl, ci] · dy[n, oh, ow, co]
//
// (x read as 0 outside the image). Seen as a matrix product dW = Aᵀ·B with
//   rows     m = (r·kw + c)·cin + ci    M = kh·kw·cin        (the memory order of dW [kh, kw, cin, co])
//   columns  n = co                     N = cout
//   depth    k = (n·outH + oh)·outW + ow K = batch·outH·outW  (dy is exactly B [K, N], row-major)
// and A[k, m] the im2col patch of x, gathered on the fly (never materialised).
//
// K is huge (batch × output pixels: 524,288 for ResNet-18's first stage at 32 px, batch 512) while
// M × N is small (576 × 64), so one thread per output element — tfjs's stock kernel — runs only
// M·N threads with a 524k-long serial loop each. Here each 16 × 16 workgroup computes a 64 × 64 tile
// of dW from 64 × 16 tiles of A and B staged in workgroup memory (each thread a 4 × 4 block), and
// K is cut into S slices (split-K) so that M/64 · N/64 · S workgroups fill the GPU; the S partial
// products land in a [S, M, N] buffer that a second pass (split-k-sum.ts) adds up in a fixed order.
// No atomics, so results are deterministic.
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { splitKSum } from './split-k-sum.ts';
import {
  ceilDiv,
  GEMM_TILE_K,
  GEMM_TILE_M,
  GEMM_TILE_N,
  GEMM_WORKGROUP,
  gemmTileDeclarationsWgsl,
  gemmTileProductWgsl,
  MAX_WORKGROUPS_PER_DIMENSION,
  runProgram,
  type WebGPUBackend,
  type WebGPUProgram,
} from './webgpu-program.ts';

/** How K is split; exposed so tests can force the split-K path on small shapes. */
export interface SplitKTuning {
  /** Aim for at least this many workgroups in flight (a few per compute unit of a large GPU). */
  targetWorkgroups: number;
  /** Never cut K into slices shorter than this many K-tiles (each GEMM_TILE_K deep). */
  minKTilesPerSplit: number;
  /** Cap on the partial-sum buffer, in float32 elements (S · M · N). */
  maxPartialElements: number;
}

const DEFAULT_TUNING: SplitKTuning = { targetWorkgroups: 512, minKTilesPerSplit: 16, maxPartialElements: 1 << 24 };
let tuning: SplitKTuning = { ...DEFAULT_TUNING };

/** Overrides part of the split-K tuning; returns the previous values (to restore them). */
export function setConv2DBackpropFilterTuning(change: Partial<SplitKTuning>): SplitKTuning {
  const previous = tuning;
  tuning = { ...tuning, ...change };
  return previous;
}

/** Number of K slices and K-tiles per slice for a GEMM of the given size. */
export function planSplitK(m: number, n: number, k: number, plan: SplitKTuning = tuning): { splits: number; kTilesPerSplit: number } {
  const outputTiles = ceilDiv(m, GEMM_TILE_M) * ceilDiv(n, GEMM_TILE_N);
  const kTiles = Math.max(1, ceilDiv(k, GEMM_TILE_K));
  let splits = Math.max(1, ceilDiv(plan.targetWorkgroups, outputTiles));
  splits = Math.min(splits, Math.max(1, Math.floor(kTiles / plan.minKTilesPerSplit)));
  splits = Math.min(splits, Math.max(1, Math.floor(plan.maxPartialElements / (m * n))), MAX_WORKGROUPS_PER_DIMENSION);
  const kTilesPerSplit = ceilDiv(kTiles, splits);
  return { splits: ceilDiv(kTiles, kTilesPerSplit), kTilesPerSplit };
}

class Conv2DBackpropFilterGemmProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  uniforms =
    'inHeight : i32, inWidth : i32, inChannels : i32, outHeight : i32, outWidth : i32, outChannels : i32, ' +
    'filterWidth : i32, strideHeight : i32, strideWidth : i32, padTop : i32, padLeft : i32, ' +
    'gemmM : i32, gemmK : i32, kTilesPerSplit : i32,';
  workgroupSize = GEMM_WORKGROUP;
  outputShape: number[];
  dispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  shaderKey = 'looktwice_conv2dBackpropFilterGemm';

  constructor(outputShape: number[], m: number, n: number, splits: number) {
    this.outputShape = outputShape;
    this.dispatch = [ceilDiv(n, GEMM_TILE_N), ceilDiv(m, GEMM_TILE_M), splits];
  }

  getUserCode(): string {
    // Loads: thread li stages column (li % 64) of rows (li / 64) + 4·i, i < 4, of both 16 × 64 tiles,
    // so its m → (r, c, ci) decoding is done once; consecutive threads read consecutive ci / co.
    return `
  ${gemmTileDeclarationsWgsl(GEMM_TILE_M)}

  fn main() {
    let tileRow = i32(workgroupId.y) * ${GEMM_TILE_M};
    let tileColumn = i32(workgroupId.x) * ${GEMM_TILE_N};
    let split = i32(workgroupId.z);
    let gemmN = uniforms.outChannels;
    let li = i32(localIndex);
    let tx = i32(localId.x);
    let ty = i32(localId.y);

    let loadColumn = li % ${GEMM_TILE_M};
    let loadRow = li / ${GEMM_TILE_M};
    let m = tileRow + loadColumn;
    let mInRange = m < uniforms.gemmM;
    let ci = m % uniforms.inChannels;
    let rc = m / uniforms.inChannels;
    let filterColumn = rc % uniforms.filterWidth;
    let filterRow = rc / uniforms.filterWidth;
    let co = tileColumn + loadColumn;
    let coInRange = co < gemmN;

    var acc : array<vec4<f32>, 4>;
    let kStart = split * uniforms.kTilesPerSplit * ${GEMM_TILE_K};
    for (var t = 0; t < uniforms.kTilesPerSplit; t++) {
      let k0 = kStart + t * ${GEMM_TILE_K};
      for (var i = 0; i < 4; i++) {
        let kk = loadRow + i * 4;
        let k = k0 + kk;
        var a = 0.0;
        var b = 0.0;
        if (k < uniforms.gemmK) {
          let ow = k % uniforms.outWidth;
          let nh = k / uniforms.outWidth;
          let oh = nh % uniforms.outHeight;
          let batch = nh / uniforms.outHeight;
          let ih = oh * uniforms.strideHeight + filterRow - uniforms.padTop;
          let iw = ow * uniforms.strideWidth + filterColumn - uniforms.padLeft;
          if (mInRange && ih >= 0 && ih < uniforms.inHeight && iw >= 0 && iw < uniforms.inWidth) {
            a = x[((batch * uniforms.inHeight + ih) * uniforms.inWidth + iw) * uniforms.inChannels + ci];
          }
          if (coInRange) {
            b = dy[k * gemmN + co];
          }
        }
        tileA[kk * ${GEMM_TILE_M} + loadColumn] = a;
        tileB[kk * ${GEMM_TILE_N} + loadColumn] = b;
      }
      workgroupBarrier();
      ${gemmTileProductWgsl(GEMM_TILE_M)}
      workgroupBarrier();
    }

    let outBase = split * uniforms.gemmM * gemmN;
    for (var i = 0; i < 4; i++) {
      let row = tileRow + ty * 4 + i;
      if (row < uniforms.gemmM) {
        for (var j = 0; j < 4; j++) {
          let column = tileColumn + tx * 4 + j;
          if (column < gemmN) {
            result[outBase + row * gemmN + column] = acc[i][j];
          }
        }
      }
    }
  }`;
  }
}

/**
 * dW for NHWC float32 on the webgpu backend; anything else goes to `fallback` (the stock kernel).
 */
export function makeConv2DBackpropFilter(fallback: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const backend = args.backend as WebGPUBackend;
    const { x, dy } = args.inputs as unknown as Conv2DBackpropFilterInputs;
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter: needs inputs x and dy');
    if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
      if (fallback === undefined) throw new Error('Conv2DBackpropFilter (webgpu): only NHWC float32 is implemented');
      return fallback(args);
    }
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    return conv2DBackpropFilterGemm(backend, x, dy, info);
  };
}

function conv2DBackpropFilterGemm(
  backend: WebGPUBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const k = info.batchSize * info.outHeight * info.outWidth;
  const { splits, kTilesPerSplit } = planSplitK(m, n, k);
  const uniforms = [
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
    kTilesPerSplit,
  ].map((value) => ({ type: 'int32' as const, data: [value] }));
  const filterShape = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
  if (splits === 1) {
    return runProgram(backend, new Conv2DBackpropFilterGemmProgram(filterShape, m, n, 1), [x, dy], uniforms);
  }
  const partial = runProgram(backend, new Conv2DBackpropFilterGemmProgram([splits, m, n], m, n, splits), [x, dy], uniforms); // [S, M, N]
  const summed = splitKSum(backend, partial, splits, filterShape);
  backend.disposeData(partial.dataId);
  return summed;
}

/** Kernel registration for the webgpu backend; `fallback` is the stock kernel it replaces. */
export function conv2DBackpropFilterConfig(fallback: KernelFunc | undefined): KernelConfig {
  return { kernelName: Conv2DBackpropFilter, backendName: 'webgpu', kernelFunc: makeConv2DBackpropFilter(fallback) };
}
