// Sum (or mean) over every axis but the last of an NHWC activation, without a transpose: the
// reduction batch norm and its gradient do on every layer (per-channel statistics, dβ, dγ).
//
//   out[c] = scale · Σ_{r < R} x[r, c]                x viewed as [R, C], R = product of the leading dims
//   out[c] = scale · Σ_{r < R} (x[r, c] − center[c])²  (with a center: the biased variance for 1/R)
//
// tfjs-backend-webgpu's stock reduce first transposes x so the reduced axes are innermost (a full
// copy of the activation), then runs one workgroup per output element — C workgroups, 64 for a
// 64-channel layer, far too few for a large GPU. Here pass 1 runs a grid of (column groups × row
// chunks) workgroups; in each, threads along x take consecutive columns (coalesced loads along C)
// and threads along y take interleaved rows of the chunk, each summing its rows serially into one
// partial [chunks · rowLanes, C]; pass 2 (split-k-sum.ts) adds the partials in a fixed order and
// applies the scale (1 or 1/R). Deterministic; no atomics.
import { backend_util, util, type KernelConfig, type KernelFunc, type SumAttrs, type SumInputs, type TensorInfo } from '@tensorflow/tfjs';
import { splitKSum } from './split-k-sum.ts';
import { ceilDiv, runProgram, type WebGPUBackend, type WebGPUProgram } from './webgpu-program.ts';

const THREADS_PER_GROUP = 256;
const TARGET_WORKGROUPS = 512;
const MIN_ROWS_PER_THREAD = 32;

/**
 * Row chunks for a column-grouped reduction over `rows` rows: enough workgroups (columnGroups ×
 * chunks ≈ 512) to fill a GPU, but at least 32 rows per thread of the `rowLanes` in each chunk.
 */
export function planRowChunks(rows: number, columnGroups: number, rowLanes: number): { chunks: number; rowsPerChunk: number } {
  let chunks = Math.max(1, ceilDiv(TARGET_WORKGROUPS, columnGroups));
  chunks = Math.min(chunks, Math.max(1, Math.floor(rows / (rowLanes * MIN_ROWS_PER_THREAD))), 65535);
  const rowsPerChunk = ceilDiv(rows, chunks);
  return { chunks: ceilDiv(rows, rowsPerChunk), rowsPerChunk };
}

/**
 * WGSL `main` of a pass-1 program: thread (column, lane) of workgroup row `chunk` runs `body` for a
 * column < `columns` with its chunk's rows [rowStart, rowEnd) (uniforms rows, rowsPerChunk).
 */
export function columnChunkMainWgsl(columns: string, body: string): string {
  return `
  fn main() {
    let column = i32(globalId.x);
    let lane = i32(localId.y);
    let chunk = i32(workgroupId.y);
    if (column < ${columns}) {
      let rowStart = chunk * uniforms.rowsPerChunk;
      let rowEnd = min(rowStart + uniforms.rowsPerChunk, uniforms.rows);
      ${body}
    }
  }`;
}

class ColumnSumPartialProgram implements WebGPUProgram {
  variableNames = ['x'];
  uniforms = 'rows : i32, columns : i32, rowsPerChunk : i32,';
  workgroupSize: [number, number, number];
  outputShape: number[];
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  shaderKey: string;

  constructor(
    partialRows: number,
    columns: number,
    columnsPerGroup: number,
    chunks: number,
    private readonly centered: boolean,
  ) {
    this.workgroupSize = [columnsPerGroup, THREADS_PER_GROUP / columnsPerGroup, 1];
    this.outputShape = [partialRows, columns];
    this.dispatch = [ceilDiv(columns, columnsPerGroup), chunks, 1];
    if (centered) this.variableNames = ['x', 'center'];
    this.shaderKey = `looktwice_columnSumPartial_${columnsPerGroup}_${centered}`;
  }

  getUserCode(): string {
    const rowLanes = this.workgroupSize[1];
    return columnChunkMainWgsl(
      'uniforms.columns',
      `${this.centered ? 'let mean = center[column];' : ''}
      var sum = 0.0;
      for (var row = rowStart + lane; row < rowEnd; row += ${rowLanes}) {
        ${this.centered ? 'let d = x[row * uniforms.columns + column] - mean;\n        sum += d * d;' : 'sum += x[row * uniforms.columns + column];'}
      }
      result[(chunk * ${rowLanes} + lane) * uniforms.columns + column] = sum;`,
    );
  }
}

/**
 * scale · Σ over all leading axes of `x` (float32, rank ≥ 2) — of (x − center)² when `center` ([C])
 * is given — into a new tensor of `outputShape` (C elements, e.g. [C] or [1, 1, 1, C]).
 */
export function columnSum(
  backend: WebGPUBackend,
  x: TensorInfo,
  outputShape: number[],
  scale: number,
  center?: TensorInfo,
): TensorInfo {
  const columns = x.shape[x.shape.length - 1] ?? 1;
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const columnsPerGroup = columns >= 64 ? 64 : columns > 16 ? 32 : 16;
  const rowLanes = THREADS_PER_GROUP / columnsPerGroup;
  const { chunks, rowsPerChunk } = planRowChunks(rows, ceilDiv(columns, columnsPerGroup), rowLanes);
  const partialRows = chunks * rowLanes;
  const program = new ColumnSumPartialProgram(partialRows, columns, columnsPerGroup, chunks, center !== undefined);
  const partial = runProgram(backend, program, center === undefined ? [x] : [x, center], [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [columns] },
    { type: 'int32', data: [rowsPerChunk] },
  ]); // [chunks · rowLanes, C]
  const result = splitKSum(backend, partial, partialRows, outputShape, scale);
  backend.disposeData(partial.dataId);
  return result;
}

/** True when `axes` (already normalised, any order) are exactly 0 … rank−2. */
export function reducesAllButLastAxis(axes: readonly number[], rank: number): boolean {
  if (rank < 2 || axes.length !== rank - 1) return false;
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((axis, i) => axis === i);
}

/**
 * Sum (scale 1) or Mean (scale 1/R) kernel registration for the webgpu backend: columnSum when a
 * float32 x is reduced over every axis but the last, else `fallback`, the stock kernel it replaces.
 */
export function columnReductionConfig(kernelName: 'Sum' | 'Mean', fallback: KernelFunc | undefined): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    // MeanInputs / MeanAttrs are the same as Sum's: { x }, { axis, keepDims }.
    const { x } = args.inputs as unknown as SumInputs;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    if (x === undefined) throw new Error(`${kernelName}: needs input x`);
    const axes = util.parseAxisParam(axis, x.shape);
    if (x.dtype !== 'float32' || util.sizeFromShape(x.shape) === 0 || !reducesAllButLastAxis(axes, x.shape.length)) {
      if (fallback === undefined) throw new Error(`${kernelName} (webgpu): stock kernel missing`);
      return fallback(args);
    }
    const [reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const outputShape = keepDims ? backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape;
    const rows = util.sizeFromShape(x.shape) / (x.shape[x.shape.length - 1] ?? 1);
    return columnSum(args.backend as WebGPUBackend, x, outputShape, kernelName === 'Mean' ? 1 / rows : 1);
  };
  return { kernelName, backendName: 'webgpu', kernelFunc };
}
