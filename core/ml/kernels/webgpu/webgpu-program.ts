// What every custom WebGPU kernel here shares: the shape of a tfjs-webgpu program and its uniforms,
// and the tiling constants of the implicit-GEMM kernels.
//
// How tfjs-backend-webgpu runs a program (backend.runWebGPUProgram): it prepends to getUserCode() a
// uniform struct (NAN, INFINITY, <input>Shape/<input>ShapeStrides for each of variableNames, outShape,
// outShapeStrides, `size` if program.size, then program.uniforms), binds the output as
// `result: array<f32>` (binding 0) and each input under its variable name (bindings 1…), and calls
// `main()` from `_start` with the builtins copied into private `localId`, `localIndex`, `globalId`,
// `workgroupId`, `numWorkgroups` (or `main(index)` for flat dispatch layouts). Pipelines are cached
// by shaderKey plus the ranks and dtypes of the tensors, so compile-time constants belong in the key.
import type { TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export type { WebGPUBackend, WebGPUProgram };

/** One program-defined uniform value, in the order of the program's `uniforms` declaration. */
export interface ProgramUniformValue {
  type: 'int32' | 'uint32' | 'float32';
  data: number[];
}

/** Runs a program on the webgpu backend; the output is a new tensor unless `output` is given. */
export function runProgram(
  backend: WebGPUBackend,
  program: WebGPUProgram,
  inputs: TensorInfo[],
  uniforms: ProgramUniformValue[],
  output?: TensorInfo,
): TensorInfo {
  return backend.runWebGPUProgram(program, inputs, 'float32', uniforms, output);
}

/** ⌈a / b⌉ for positive integers. */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** Depth of one step along the reduction axis K, staged in workgroup memory. */
export const GEMM_TILE_K = 16;
/** Threads per GEMM workgroup; each computes a 4 × 4 block of the output tile. */
export const GEMM_THREADS = 256;
/** WebGPU's guaranteed minimum of maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/** Output tile of one GEMM workgroup: tileM rows × tileN columns, tileM · tileN = 16 · 256. */
export interface GemmTile {
  tileM: number;
  tileN: number;
  /** [tileN / 4, tileM / 4, 1]: x runs over column blocks (tx), y over row blocks (ty). */
  workgroupSize: [number, number, number];
}

/**
 * The tile for a GEMM with `n` output columns: 64 × 64, or 128 × 32 / 256 × 16 when the columns
 * are few (narrow layers), so that threads are not spent on columns that do not exist.
 */
export function chooseGemmTile(n: number): GemmTile {
  const tileN = n <= 16 ? 16 : n <= 32 ? 32 : 64;
  const tileM = (GEMM_THREADS * 16) / tileN;
  return { tileM, tileN, workgroupSize: [tileN / 4, tileM / 4, 1] };
}

/**
 * WGSL of the shared inner loop: multiplies the staged tiles `tileA` [TILE_K][strideA] (rows of the
 * output along the fast axis) and `tileB` [TILE_K][strideB] (columns) into this thread's 4 × 4
 * accumulator `acc` (rows ty·4+i, columns tx·4+j). Strides are the tile widths, or one more to keep
 * column-wise stores from colliding in memory banks.
 */
export function gemmTileProductWgsl(strideA: number, strideB: number): string {
  return `
    for (var kk = 0; kk < ${GEMM_TILE_K}; kk++) {
      let aBase = kk * ${strideA} + ty * 4;
      let bBase = kk * ${strideB} + tx * 4;
      let b = vec4<f32>(tileB[bBase], tileB[bBase + 1], tileB[bBase + 2], tileB[bBase + 3]);
      acc[0] = fma(vec4<f32>(tileA[aBase]), b, acc[0]);
      acc[1] = fma(vec4<f32>(tileA[aBase + 1]), b, acc[1]);
      acc[2] = fma(vec4<f32>(tileA[aBase + 2]), b, acc[2]);
      acc[3] = fma(vec4<f32>(tileA[aBase + 3]), b, acc[3]);
    }`;
}

/**
 * WGSL of the thread indices the GEMM snippets read: `li` (flat, for staging loads) and `tx`, `ty`
 * (this thread's 4 × 4 block in gemmTileProductWgsl and gemmStoreWgsl), and `tileColumn`, the first
 * output column of this workgroup's tile (workgroups along x run over column tiles of width tileN).
 */
export function gemmThreadIndicesWgsl(tileN: number): string {
  return `
    let tileColumn = i32(workgroupId.x) * ${tileN};
    let li = i32(localIndex);
    let tx = i32(localId.x);
    let ty = i32(localId.y);`;
}

/** WGSL declarations of the staged tiles used by gemmTileProductWgsl(strideA, strideB). */
export function gemmTileDeclarationsWgsl(strideA: number, strideB: number): string {
  return `
  var<workgroup> tileA : array<f32, ${GEMM_TILE_K * strideA}>;
  var<workgroup> tileB : array<f32, ${GEMM_TILE_K * strideB}>;`;
}

/** WGSL that stores this thread's 4 × 4 block at rows/columns < gemmM/gemmN of `result` from `outBase`. */
export function gemmStoreWgsl(tileRow: string, tileColumn: string, gemmM: string, gemmN: string, outBase: string): string {
  return `
    for (var i = 0; i < 4; i++) {
      let row = ${tileRow} + ty * 4 + i;
      if (row < ${gemmM}) {
        for (var j = 0; j < 4; j++) {
          let column = ${tileColumn} + tx * 4 + j;
          if (column < ${gemmN}) {
            result[${outBase} + row * ${gemmN} + column] = acc[i][j];
          }
        }
      }
    }`;
}

/**
 * Fields of a flat elementwise program (`main(index)`, one thread per `elementsPerThread` outputs,
 * `uniforms.size` = output elements / elementsPerThread), set from the output shape.
 */
export abstract class ElementwiseProgram implements Partial<WebGPUProgram> {
  workgroupSize: [number, number, number];
  size = true;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];

  constructor(outputShape: number[], threadsPerGroup = 256, elementsPerThread = 1) {
    this.outputShape = outputShape;
    this.workgroupSize = [threadsPerGroup, 1, 1];
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    // Beyond the per-dimension limit tfjs folds a flat dispatch itself (reshapeDispatch).
    this.dispatch = [ceilDiv(outputShape.reduce((a, b) => a * b, 1) / elementsPerThread, threadsPerGroup), 1, 1];
  }
}
