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
// M·N threads with a 524k-long serial loop each. Here each 256-thread workgroup computes a 64 × 64
// tile of dW (128 × 32 or 256 × 16 when cout is small) from 16-deep tiles of A and B staged in
// workgroup memory (each thread a 4 × 4 block), and
// K is cut into S slices (split-K) so that M/64 · N/64 · S workgroups fill the GPU; the S partial
// products land in a [S, M, N] buffer that a second pass (split-k-sum.ts) adds up in a fixed order.
// No atomics, so results are deterministic.
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { conv2DGemmUniforms, conv2DInfoNhwc, CONV2D_GEMM_UNIFORMS_WGSL, GemmProgram, makeConv2DGradientKernel } from './conv2d-gemm.ts';
import { splitKSum } from './split-k-sum.ts';
import {
  ceilDiv,
  chooseGemmTile,
  GEMM_TILE_K,
  gemmStoreWgsl,
  gemmThreadIndicesWgsl,
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
  const { tileM, tileN } = chooseGemmTile(n);
  const outputTiles = ceilDiv(m, tileM) * ceilDiv(n, tileN);
  const kTiles = Math.max(1, ceilDiv(k, GEMM_TILE_K));
  let splits = Math.max(1, ceilDiv(plan.targetWorkgroups, outputTiles));
  splits = Math.min(splits, Math.max(1, Math.floor(kTiles / plan.minKTilesPerSplit)));
  splits = Math.min(splits, Math.max(1, Math.floor(plan.maxPartialElements / (m * n))), MAX_WORKGROUPS_PER_DIMENSION);
  const kTilesPerSplit = ceilDiv(kTiles, splits);
  return { splits: ceilDiv(kTiles, kTilesPerSplit), kTilesPerSplit };
}

class Conv2DBackpropFilterGemmProgram extends GemmProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  uniforms = `${CONV2D_GEMM_UNIFORMS_WGSL} kTilesPerSplit : i32,`;
  dispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  shaderKey: string;

  constructor(outputShape: number[], m: number, n: number, splits: number) {
    super(outputShape, n);
    this.dispatch = [ceilDiv(n, this.tile.tileN), ceilDiv(m, this.tile.tileM), splits];
    this.shaderKey = `looktwice_conv2dBackpropFilterGemm_${this.tile.tileM}x${this.tile.tileN}`;
  }

  getUserCode(): string {
    const { tileM, tileN } = this.tile;
    const threads = this.workgroupSize[0] * this.workgroupSize[1];
    const aLoads = (GEMM_TILE_K * tileM) / threads;
    // Loads: thread li stages column li % tileM of the A tile (rows li / tileM + p · 256/tileM) and
    // column li % tileN of the B tile, so its m → (r, c, ci) decoding is done once; consecutive
    // threads read consecutive ci (x) and co (dy).
    return `
  ${gemmTileDeclarationsWgsl(tileM, tileN)}

  fn main() {
    let tileRow = i32(workgroupId.y) * ${tileM};
    let split = i32(workgroupId.z);
    let gemmN = uniforms.outChannels;
    ${gemmThreadIndicesWgsl(tileN)}

    let aColumn = li % ${tileM};
    let aRow = li / ${tileM};
    let m = tileRow + aColumn;
    let mInRange = m < uniforms.gemmM;
    let ci = m % uniforms.inChannels;
    let rc = m / uniforms.inChannels;
    let filterColumn = rc % uniforms.filterWidth;
    let filterRow = rc / uniforms.filterWidth;
    let bColumn = li % ${tileN};
    let bRow = li / ${tileN};
    let co = tileColumn + bColumn;
    let coInRange = co < gemmN;

    // The output pixels (batch, oh, ow) of this thread's A rows, decoded once and then advanced by
    // GEMM_TILE_K per step with adds only (integer division is slow on GPUs).
    var rowX : array<i32, ${aLoads}>;
    var rowY : array<i32, ${aLoads}>;
    var rowBatch : array<i32, ${aLoads}>;
    let kStart = split * uniforms.kTilesPerSplit * ${GEMM_TILE_K};
    for (var p = 0; p < ${aLoads}; p++) {
      let k = kStart + aRow + p * ${threads / tileM};
      rowX[p] = k % uniforms.outWidth;
      let nh = k / uniforms.outWidth;
      rowY[p] = nh % uniforms.outHeight;
      rowBatch[p] = nh / uniforms.outHeight;
    }

    var acc : array<vec4<f32>, 4>;
    for (var t = 0; t < uniforms.kTilesPerSplit; t++) {
      let k0 = kStart + t * ${GEMM_TILE_K};
      for (var p = 0; p < ${aLoads}; p++) {
        let kk = aRow + p * ${threads / tileM};
        let k = k0 + kk;
        var a = 0.0;
        if (mInRange && k < uniforms.gemmK) {
          let ih = rowY[p] * uniforms.strideHeight + filterRow - uniforms.padTop;
          let iw = rowX[p] * uniforms.strideWidth + filterColumn - uniforms.padLeft;
          if (ih >= 0 && ih < uniforms.inHeight && iw >= 0 && iw < uniforms.inWidth) {
            a = x[((rowBatch[p] * uniforms.inHeight + ih) * uniforms.inWidth + iw) * uniforms.inChannels + ci];
          }
        }
        tileA[kk * ${tileM} + aColumn] = a;
        var ow = rowX[p] + ${GEMM_TILE_K};
        var oh = rowY[p];
        var batch = rowBatch[p];
        loop {
          if (ow < uniforms.outWidth) { break; }
          ow -= uniforms.outWidth;
          oh += 1;
        }
        loop {
          if (oh < uniforms.outHeight) { break; }
          oh -= uniforms.outHeight;
          batch += 1;
        }
        rowX[p] = ow;
        rowY[p] = oh;
        rowBatch[p] = batch;
      }
      for (var p = 0; p < ${(GEMM_TILE_K * tileN) / threads}; p++) {
        let kk = bRow + p * ${threads / tileN};
        let k = k0 + kk;
        var b = 0.0;
        if (coInRange && k < uniforms.gemmK) {
          b = dy[k * gemmN + co];
        }
        tileB[kk * ${tileN} + bColumn] = b;
      }
      workgroupBarrier();
      ${gemmTileProductWgsl(tileM, tileN)}
      workgroupBarrier();
    }

    let outBase = split * uniforms.gemmM * gemmN;
    ${gemmStoreWgsl('tileRow', 'tileColumn', 'uniforms.gemmM', 'gemmN', 'outBase')}
  }`;
  }
}

/**
 * dW for NHWC float32 on the webgpu backend; anything else goes to `fallback` (the stock kernel).
 */
export function makeConv2DBackpropFilter(fallback: KernelFunc | undefined): KernelFunc {
  return makeConv2DGradientKernel<Conv2DBackpropFilterAttrs>('Conv2DBackpropFilter', ['x', 'dy'], fallback, (backend, x, dy, attrs) =>
    conv2DBackpropFilterGemm(backend, x, dy, conv2DInfoNhwc(x.shape as [number, number, number, number], attrs.filterShape, attrs)),
  );
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
  const uniforms = conv2DGemmUniforms(info, m, k, [kTilesPerSplit]);
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
