// Conv2DBackpropInput for the webgpu backend as a tiled implicit GEMM (NHWC, float32).
//
// The input gradient of y = conv2d(x, W) with strides (sh, sw) and padding (pt, pl) is
//
//   dx[n, ih, iw, ci] = Σ_{r, c, co} dy[n, oh, ow, co] · W[r, c, ci, co]
//                       where oh = (ih + pt − r) / sh, ow = (iw + pl − c) / sw
//                       count only when both divisions are exact and 0 ≤ oh < outH, 0 ≤ ow < outW
//
// i.e. a convolution of dy with the spatially flipped, transposed filter. As a matrix product
// dx = A·B with
//   rows     m = (n·inH + ih)·inW + iw   M = batch·inH·inW   (dx is exactly [M, N], row-major)
//   columns  n = ci                      N = cin
//   depth    k = (r·kw + c)·cout + co    K = kh·kw·cout
//   A[m, k] = dy gathered as above (0 where no output pixel maps there), B[k, n] = W[r, c, n, co].
// Each 256-thread workgroup computes a 64 × 64 tile of dx (128 × 32 or 256 × 16 when cin is small)
// from 16-deep tiles of A and B staged in workgroup memory (each thread a 4 × 4 block). Loads run
// along K, whose fastest index is co, so consecutive threads read consecutive floats of dy and W; the
// staged tiles are padded by one float per row so those column-wise stores do not collide in banks. M is large here
// (batch × image pixels), so no split-K is needed; tiles along M fold into (y, z) past 65,535.
// For stride 2 about 3/4 of the (r, c) taps are skipped as zeros: that waste is accepted for now.
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { conv2DGemmUniforms, conv2DInfoNhwc, CONV2D_GEMM_UNIFORMS_WGSL, GemmProgram, makeConv2DGradientKernel } from './conv2d-gemm.ts';
import {
  ceilDiv,
  GEMM_TILE_K,
  gemmStoreWgsl,
  gemmThreadIndicesWgsl,
  gemmTileDeclarationsWgsl,
  gemmTileProductWgsl,
  runProgram,
  type WebGPUBackend,
  type WebGPUProgram,
} from './webgpu-program.ts';

const MAX_TILE_ROWS_PER_DIMENSION = 32768;

class Conv2DBackpropInputGemmProgram extends GemmProgram implements WebGPUProgram {
  variableNames = ['dy', 'W'];
  uniforms = CONV2D_GEMM_UNIFORMS_WGSL;
  dispatchLayout = { x: [3], y: [1, 2], z: [0] };
  dispatch: [number, number, number];
  shaderKey: string;

  /** Strides are compile-time constants (1 or 2 in practice): the divisibility tests fold away. */
  constructor(outputShape: number[], m: number, n: number, private readonly strides: [number, number]) {
    super(outputShape, n);
    const rowTiles = ceilDiv(m, this.tile.tileM);
    const rowTilesY = Math.min(rowTiles, MAX_TILE_ROWS_PER_DIMENSION);
    this.dispatch = [ceilDiv(n, this.tile.tileN), rowTilesY, ceilDiv(rowTiles, rowTilesY)];
    this.shaderKey = `looktwice_conv2dBackpropInputGemm_${this.tile.tileM}x${this.tile.tileN}_s${strides.join('x')}`;
  }

  getUserCode(): string {
    const { tileM, tileN } = this.tile;
    const strideA = tileM + 1;
    const strideB = tileN + 1;
    const lanes = (this.workgroupSize[0] * this.workgroupSize[1]) / GEMM_TILE_K; // 16
    const rowsPerThread = tileM / lanes;
    const columnsPerThread = tileN / lanes;
    const [strideHeight, strideWidth] = this.strides;
    return `
  ${gemmTileDeclarationsWgsl(strideA, strideB)}

  fn main() {
    let tileRow = i32(workgroupId.y + workgroupId.z * numWorkgroups.y) * ${tileM};
    let gemmN = uniforms.inChannels;
    ${gemmThreadIndicesWgsl(tileN)}

    // Thread li stages depth kk = li % 16 of tile rows lane + ${lanes}·p of A and tile columns
    // lane + ${lanes}·p of B; the image coordinates of its rows of A are decoded once.
    let kk = li % ${GEMM_TILE_K};
    let lane = li / ${GEMM_TILE_K};
    var rowBatch : array<i32, ${rowsPerThread}>;
    var rowY : array<i32, ${rowsPerThread}>;
    var rowX : array<i32, ${rowsPerThread}>;
    for (var p = 0; p < ${rowsPerThread}; p++) {
      let m = tileRow + lane + p * ${lanes};
      rowX[p] = m % uniforms.inWidth;
      let nh = m / uniforms.inWidth;
      rowY[p] = nh % uniforms.inHeight;
      rowBatch[p] = select(-1, nh / uniforms.inHeight, m < uniforms.gemmM);
    }

    var acc : array<vec4<f32>, 4>;
    let kTiles = (uniforms.gemmK + ${GEMM_TILE_K - 1}) / ${GEMM_TILE_K};
    for (var t = 0; t < kTiles; t++) {
      let k = t * ${GEMM_TILE_K} + kk;
      let kInRange = k < uniforms.gemmK;
      let co = k % uniforms.outChannels;
      let rc = k / uniforms.outChannels;
      let filterColumn = rc % uniforms.filterWidth;
      let filterRow = rc / uniforms.filterWidth;
      for (var p = 0; p < ${rowsPerThread}; p++) {
        var a = 0.0;
        let yNumerator = rowY[p] + uniforms.padTop - filterRow;
        let xNumerator = rowX[p] + uniforms.padLeft - filterColumn;
        if (kInRange && rowBatch[p] >= 0 && yNumerator >= 0 && xNumerator >= 0 &&
            yNumerator % ${strideHeight} == 0 && xNumerator % ${strideWidth} == 0) {
          let oh = yNumerator / ${strideHeight};
          let ow = xNumerator / ${strideWidth};
          if (oh < uniforms.outHeight && ow < uniforms.outWidth) {
            a = dy[((rowBatch[p] * uniforms.outHeight + oh) * uniforms.outWidth + ow) * uniforms.outChannels + co];
          }
        }
        tileA[kk * ${strideA} + lane + p * ${lanes}] = a;
      }
      for (var p = 0; p < ${columnsPerThread}; p++) {
        let column = lane + p * ${lanes};
        var b = 0.0;
        let ci = tileColumn + column;
        if (kInRange && ci < gemmN) {
          b = W[(rc * gemmN + ci) * uniforms.outChannels + co];
        }
        tileB[kk * ${strideB} + column] = b;
      }
      workgroupBarrier();
      ${gemmTileProductWgsl(strideA, strideB)}
      workgroupBarrier();
    }

    ${gemmStoreWgsl('tileRow', 'tileColumn', 'uniforms.gemmM', 'gemmN', '0')}
  }`;
  }
}

/** dx for NHWC float32 on the webgpu backend; anything else goes to `fallback` (the stock kernel). */
export function makeConv2DBackpropInput(fallback: KernelFunc | undefined): KernelFunc {
  return makeConv2DGradientKernel<Conv2DBackpropInputAttrs>('Conv2DBackpropInput', ['dy', 'filter'], fallback, (backend, dy, filter, attrs) =>
    conv2DBackpropInputGemm(backend, dy, filter, conv2DInfoNhwc(attrs.inputShape, filter.shape as [number, number, number, number], attrs)),
  );
}

function conv2DBackpropInputGemm(
  backend: WebGPUBackend,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const m = info.batchSize * info.inHeight * info.inWidth;
  const n = info.inChannels;
  const k = info.filterHeight * info.filterWidth * info.outChannels;
  const uniforms = conv2DGemmUniforms(info, m, k);
  const program = new Conv2DBackpropInputGemmProgram([info.batchSize, info.inHeight, info.inWidth, info.inChannels], m, n, [
    info.strideHeight,
    info.strideWidth,
  ]);
  return runProgram(backend, program, [dy, filter], uniforms);
}

/** Kernel registration for the webgpu backend; `fallback` is the stock kernel it replaces. */
export function conv2DBackpropInputConfig(fallback: KernelFunc | undefined): KernelConfig {
  return { kernelName: Conv2DBackpropInput, backendName: 'webgpu', kernelFunc: makeConv2DBackpropInput(fallback) };
}
