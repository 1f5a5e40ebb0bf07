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

/** Output tile of one workgroup of the implicit-GEMM kernels: rows (M) × columns (N). */
export const GEMM_TILE_M = 64;
export const GEMM_TILE_N = 64;
/** Depth of one step along the reduction axis K, staged in workgroup memory. */
export const GEMM_TILE_K = 16;
/** 16 × 16 threads, each computing a 4 × 4 block of the 64 × 64 tile. */
export const GEMM_WORKGROUP: [number, number, number] = [16, 16, 1];
/** WebGPU's guaranteed minimum of maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * WGSL of the shared inner loop: multiplies the staged tiles `tileA` [TILE_K][TILE_M] and
 * `tileB` [TILE_K][TILE_N] (row strides `rowStride`, ≥ 64; 65 avoids bank conflicts for kernels
 * whose loads run along K) into this thread's 4 × 4 accumulator `acc` (rows ty·4+i, columns tx·4+j).
 */
export function gemmTileProductWgsl(rowStride: number): string {
  return `
    for (var kk = 0; kk < ${GEMM_TILE_K}; kk++) {
      let aBase = kk * ${rowStride} + ty * 4;
      let bBase = kk * ${rowStride} + tx * 4;
      let b = vec4<f32>(tileB[bBase], tileB[bBase + 1], tileB[bBase + 2], tileB[bBase + 3]);
      acc[0] = fma(vec4<f32>(tileA[aBase]), b, acc[0]);
      acc[1] = fma(vec4<f32>(tileA[aBase + 1]), b, acc[1]);
      acc[2] = fma(vec4<f32>(tileA[aBase + 2]), b, acc[2]);
      acc[3] = fma(vec4<f32>(tileA[aBase + 3]), b, acc[3]);
    }`;
}

/** WGSL declarations of the staged tiles used by gemmTileProductWgsl(rowStride). */
export function gemmTileDeclarationsWgsl(rowStride: number): string {
  return `
  var<workgroup> tileA : array<f32, ${GEMM_TILE_K * rowStride}>;
  var<workgroup> tileB : array<f32, ${GEMM_TILE_K * rowStride}>;`;
}
