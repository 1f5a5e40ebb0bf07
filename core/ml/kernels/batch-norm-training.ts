/**
 * A fused training-mode batch norm (Ioffe & Szegedy 2015) as one kernel plus one gradient kernel,
 * registered for the wasm and cpu backends. With generic ops, tfjs computes the per-channel
 * statistics of an NHWC activation by transposing it whole and its FusedBatchNorm gradient tiles
 * the statistics back to full size; here each direction is two passes over rows × channels.
 *
 *   forward:  mean, var (biased) over all rows; x̂ = (x − mean)/sqrt(var + ε); y = scale·x̂ + offset
 *             (attr relu: y = max(0, scale·x̂ + offset), the ReLU that follows most batch norms fused)
 *   backward: g = dy (relu: dy where y > 0, else 0);
 *             dOffset = Σ g; dScale = Σ g·x̂; dx = scale/(N·sqrt(var + ε)) · (N·g − dOffset − x̂·dScale)
 * On wasm with C % 4 == 0 both passes of each direction run in wasm SIMD (./wasm/training-kernels.wat)
 * on tfjs's heap; otherwise (and on cpu) in the scalar loops here, which are also their reference.
 * Outputs 1–2 (mean, variance) are statistics for the running averages: no gradient flows back
 * through them.
 *
 * Synchronised batch norm: while a data-parallel step runs (see ../collective.ts), each replica
 * holds a shard of the batch and `setBatchNormSync` installs the group's all-reduce; the forward
 * kernel then normalises with the statistics of the whole batch (per-shard mean and M2 combined as
 * in Chan, Golub, LeVeque 1979) and the backward kernel uses the whole batch's Σdy and Σdy·x̂, so
 * every replica computes exactly its rows of the single-thread step. dScale and dOffset stay the
 * shard's own sums: the gradient all-reduce adds them up with every other gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels, type TrainingKernels } from './wasm/simd-kernels.ts';
import { floatOffset, heap, release, type WasmBackend } from './wasm/wasm-backend.ts';

export const BATCH_NORM_TRAINING = 'LooktwiceBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'LooktwiceBatchNormTrainingGrad';

/** The replicas' reduction a synchronised batch norm needs (a Collective satisfies it). */
export interface BatchNormSync {
  /** Every replica's values (the same length on all), in replica order. */
  allGather(values: Float64Array): Float64Array[];
  /** Elementwise sum over the replicas, in place, identical on every replica. */
  allReduceSum(values: Float64Array): void;
}

let sync: BatchNormSync | null = null;

/**
 * Makes every training-mode batch norm of this thread synchronised over a group of replicas
 * (null: back to per-batch statistics). Set only around a parallel step, whose replicas run the
 * same layers in the same order.
 */
export function setBatchNormSync(next: BatchNormSync | null): void {
  sync = next;
}

/** Combines per-shard [rows, mean[C], M2[C]] into the whole batch's mean and biased variance. */
function combineStatistics(shards: Float64Array[], channels: number, mean: Float64Array, variance: Float64Array): void {
  let rows = 0;
  for (const shard of shards) rows += shard[0]!;
  mean.fill(0);
  for (const shard of shards) for (let c = 0; c < channels; c++) mean[c]! += (shard[0]! * shard[1 + c]!) / rows;
  variance.fill(0);
  for (const shard of shards) {
    const n = shard[0]!;
    for (let c = 0; c < channels; c++) {
      const d = shard[1 + c]! - mean[c]!;
      variance[c]! += shard[1 + channels + c]! + n * d * d;
    }
  }
  for (let c = 0; c < channels; c++) variance[c] = Math.max(0, variance[c]! / rows);
}

/**
 * Per-channel mean and biased variance of rows × channels values in one pass: float64 sums of
 * values shifted by the first row (which keeps the sum-of-squares formula from cancelling).
 */
function statistics(memory: Float32Array, xAt: number, rows: number, channels: number, mean: Float64Array, variance: Float64Array): void {
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) shift[c] = memory[xAt + c]!;
  const sum = new Float64Array(channels);
  const squares = new Float64Array(channels);
  for (let r = 0, i = xAt; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const d = memory[i]! - shift[c]!;
      sum[c]! += d;
      squares[c]! += d * d;
    }
  }
  for (let c = 0; c < channels; c++) {
    const m = sum[c]! / rows;
    mean[c] = shift[c]! + m;
    variance[c] = Math.max(0, squares[c]! / rows - m * m);
  }
}

interface Views {
  /** Float view and element offset of each tensor. */
  memory(tensor: tf.TensorInfo): { memory: Float32Array; at: number };
  output(shape: number[]): tf.TensorInfo;
  /** The wasm SIMD kernels and the tensors' byte offsets (wasm backend, C % 4 == 0), else null. */
  simd(channels: number): Simd | null;
}

interface Simd {
  kernels: TrainingKernels;
  pointer(tensor: tf.TensorInfo): number;
  release(tensor: tf.TensorInfo): void;
}

function wasmViews(backend: WasmBackend): Views {
  return {
    memory: (tensor) => ({ memory: heap(backend), at: floatOffset(backend, tensor) }),
    output: (shape) => backend.makeOutput(shape, 'float32'),
    simd: (channels) => {
      const kernels = channels % 4 === 0 ? simdKernels(backend) : null;
      if (!kernels) return null;
      return { kernels, pointer: (tensor) => floatOffset(backend, tensor) * 4, release: (tensor) => release(backend, tensor) };
    },
  };
}

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

function cpuViews(backend: CpuBackend): Views {
  return {
    memory: (tensor) => ({ memory: backend.data.get(tensor.dataId).values, at: 0 }),
    output: (shape) => backend.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, b) => a * b, 1))),
    simd: () => null,
  };
}

/** Rows per float32 partial sum in the SIMD reductions: a block of rows × C floats fits in L1. */
function blockRows(channels: number): number {
  return Math.max(8, Math.floor(4096 / channels));
}

/**
 * The SIMD statistics pass: per-channel Σ(x − shift) and Σ(x − shift)² (shift = the first row, as
 * in `statistics`) → mean and biased variance. Scratch [C floats shift | 2C float64 sums].
 */
function simdStatistics(views: Views, simd: Simd, x: tf.TensorInfo, rows: number, channels: number, mean: Float64Array, variance: Float64Array): void {
  const scratch = views.output([5 * channels]);
  try {
    const xv = views.memory(x);
    const sc = views.memory(scratch);
    for (let c = 0; c < channels; c++) sc.memory[sc.at + c] = xv.memory[xv.at + c]!;
    const base = simd.pointer(scratch);
    simd.kernels.bn_sums(simd.pointer(x), rows, channels, base, blockRows(channels), base + 4 * channels);
    const again = views.memory(scratch);
    const sums = new Float64Array(again.memory.buffer, (again.at + channels) * 4, 2 * channels);
    for (let c = 0; c < channels; c++) {
      const m = sums[c]! / rows;
      mean[c] = again.memory[again.at + c]! + m;
      variance[c] = Math.max(0, sums[channels + c]! / rows - m * m);
    }
  } finally {
    simd.release(scratch);
  }
}

/** Writes per-channel float32 vectors into a new scratch tensor [vectors.length · C], in order. */
function scratchVectors(views: Views, channels: number, vectors: ArrayLike<number>[]): tf.TensorInfo {
  const scratch = views.output([vectors.length * channels]);
  const sc = views.memory(scratch);
  vectors.forEach((vector, i) => {
    for (let c = 0; c < channels; c++) sc.memory[sc.at + i * channels + c] = vector[c]!;
  });
  return scratch;
}

function forward(views: Views, inputs: tf.NamedTensorInfoMap, epsilon: number, relu: boolean): tf.TensorInfo[] {
  const { x, scale, offset } = inputs as { x: tf.TensorInfo; scale: tf.TensorInfo; offset: tf.TensorInfo };
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const simd = rows > 0 ? views.simd(channels) : null;
  const y = views.output([...x.shape]);
  const meanOut = views.output([channels]);
  const varianceOut = views.output([channels]);
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  if (simd) simdStatistics(views, simd, x, rows, channels, mean, variance);
  else {
    const xv = views.memory(x);
    statistics(xv.memory, xv.at, rows, channels, mean, variance);
  }
  if (sync) {
    const local = new Float64Array(1 + 2 * channels);
    local[0] = rows;
    for (let c = 0; c < channels; c++) {
      local[1 + c] = mean[c]!;
      local[1 + channels + c] = variance[c]! * rows; // M2
    }
    combineStatistics(sync.allGather(local), channels, mean, variance);
  }
  const multiplier = new Float32Array(channels);
  const shift = new Float32Array(channels);
  {
    // Views are taken after every allocation: the wasm heap may have moved.
    const sv = views.memory(scale);
    const ov = views.memory(offset);
    const mv = views.memory(meanOut);
    const vv = views.memory(varianceOut);
    for (let c = 0; c < channels; c++) {
      const invStd = 1 / Math.sqrt(variance[c]! + epsilon);
      multiplier[c] = sv.memory[sv.at + c]! * invStd;
      shift[c] = ov.memory[ov.at + c]! - mean[c]! * multiplier[c]!;
      mv.memory[mv.at + c] = mean[c]!;
      vv.memory[vv.at + c] = variance[c]!;
    }
  }
  if (simd) {
    const scratch = scratchVectors(views, channels, [multiplier, shift]);
    const base = simd.pointer(scratch);
    simd.kernels.bn_apply(simd.pointer(x), simd.pointer(y), rows, channels, base, base + 4 * channels, relu ? 0 : -Infinity);
    simd.release(scratch);
    return [y, meanOut, varianceOut];
  }
  const { memory: xm, at: xAt } = views.memory(x);
  const { memory: ym, at: yAt } = views.memory(y);
  const floor = relu ? 0 : -Infinity;
  for (let r = 0, i = xAt, o = yAt; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++, o++) {
      const v = xm[i]! * multiplier[c]! + shift[c]!;
      ym[o] = v < floor ? floor : v;
    }
  }
  return [y, meanOut, varianceOut];
}

function backward(views: Views, inputs: tf.NamedTensorInfoMap, epsilon: number, relu: boolean): tf.TensorInfo[] {
  const { dy, x, y, scale, mean, variance } = inputs as Record<'dy' | 'x' | 'y' | 'scale' | 'mean' | 'variance', tf.TensorInfo>;
  if (relu && !y) throw new Error(`${BATCH_NORM_TRAINING_GRAD}: the fused ReLU's gradient needs y`);
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const simd = rows > 0 ? views.simd(channels) : null;
  const dx = views.output([...x.shape]);
  const dScaleOut = views.output([channels]);
  const dOffsetOut = views.output([channels]);
  const meanValues = new Float32Array(channels);
  const invStd = new Float32Array(channels);
  {
    const mv = views.memory(mean);
    const vv = views.memory(variance);
    for (let c = 0; c < channels; c++) {
      meanValues[c] = mv.memory[mv.at + c]!;
      invStd[c] = 1 / Math.sqrt(vv.memory[vv.at + c]! + epsilon);
    }
  }
  // g = dy, or dy where y > 0 with the fused ReLU; Σg and Σg·x̂ per channel.
  const sumDy = new Float64Array(channels);
  const sumDyXhat = new Float64Array(channels);
  if (simd) {
    // scratch [mean: C floats | unused: C | Σ: 2C float64 (= 4C floats), 8-byte aligned]
    const scratch = scratchVectors(views, channels, [meanValues, ...Array.from({ length: 5 }, () => new Float32Array(channels))]);
    const base = simd.pointer(scratch);
    const outAt = base + 8 * channels;
    simd.kernels.bn_grad_sums(simd.pointer(dy), simd.pointer(x), relu ? simd.pointer(y!) : 0, rows, channels, base, relu ? 1 : 0, blockRows(channels), outAt);
    const sc = views.memory(scratch);
    const sums = new Float64Array(sc.memory.buffer, outAt, 2 * channels);
    for (let c = 0; c < channels; c++) {
      sumDy[c] = sums[c]!;
      sumDyXhat[c] = sums[channels + c]! * invStd[c]!;
    }
    simd.release(scratch);
  } else {
    const { memory: dym, at: dyAt } = views.memory(dy);
    const { memory: xm, at: xAt } = views.memory(x);
    const yv = relu ? views.memory(y!) : null;
    for (let r = 0, i = 0; r < rows; r++) {
      for (let c = 0; c < channels; c++, i++) {
        const g = yv && !(yv.memory[yv.at + i]! > 0) ? 0 : dym[dyAt + i]!;
        sumDy[c]! += g;
        sumDyXhat[c]! += g * (xm[xAt + i]! - meanValues[c]!) * invStd[c]!;
      }
    }
  }
  {
    const dsv = views.memory(dScaleOut);
    const dov = views.memory(dOffsetOut);
    for (let c = 0; c < channels; c++) {
      dsv.memory[dsv.at + c] = sumDyXhat[c]!;
      dov.memory[dov.at + c] = sumDy[c]!;
    }
  }
  let totalRows = rows;
  if (sync) {
    // dx needs the whole batch's sums; the parameter gradients above stay this shard's.
    const sums = new Float64Array(1 + 2 * channels);
    sums[0] = rows;
    sums.set(sumDy, 1);
    sums.set(sumDyXhat, 1 + channels);
    sync.allReduceSum(sums);
    totalRows = sums[0]!;
    sumDy.set(sums.subarray(1, 1 + channels));
    sumDyXhat.set(sums.subarray(1 + channels));
  }
  const a = new Float32Array(channels); // scale·invStd
  const b = new Float32Array(channels); // mean of g
  const d = new Float32Array(channels); // mean of g·x̂ times invStd
  {
    const sv = views.memory(scale);
    for (let c = 0; c < channels; c++) {
      a[c] = sv.memory[sv.at + c]! * invStd[c]!;
      b[c] = sumDy[c]! / totalRows;
      d[c] = (sumDyXhat[c]! / totalRows) * invStd[c]!;
    }
  }
  if (simd) {
    // dx = a·g + e·(x − mean) + k with e = −a·d, k = −a·b
    const e = a.map((value, c) => -value * d[c]!);
    const k = a.map((value, c) => -value * b[c]!);
    const scratch = scratchVectors(views, channels, [meanValues, a, e, k]);
    const base = simd.pointer(scratch);
    const step = 4 * channels;
    simd.kernels.bn_grad_apply(simd.pointer(dy), simd.pointer(x), relu ? simd.pointer(y!) : 0, simd.pointer(dx), rows, channels, base, base + step, base + 2 * step, base + 3 * step, relu ? 1 : 0);
    simd.release(scratch);
    return [dx, dScaleOut, dOffsetOut];
  }
  const { memory: dym, at: dyAt } = views.memory(dy);
  const { memory: xm, at: xAt } = views.memory(x);
  const { memory: dxm, at: dxAt } = views.memory(dx);
  const yv = relu ? views.memory(y!) : null;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const g = yv && !(yv.memory[yv.at + i]! > 0) ? 0 : dym[dyAt + i]!;
      // dx = a·(g − mean(g) − (x − mean)·invStd·mean(g·x̂))
      dxm[dxAt + i] = a[c]! * (g - b[c]! - (xm[xAt + i]! - meanValues[c]!) * d[c]!);
    }
  }
  return [dx, dScaleOut, dOffsetOut];
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function viewsFor(backendName: string, backend: unknown): Views {
  return backendName === 'wasm' ? wasmViews(backend as WasmBackend) : cpuViews(backend as CpuBackend);
}

function configs(backendName: 'wasm' | 'cpu'): tf.KernelConfig[] {
  return [
    {
      kernelName: BATCH_NORM_TRAINING,
      backendName,
      kernelFunc: ((args: KernelArgs) => forward(viewsFor(backendName, args.backend), args.inputs, Number(args.attrs?.epsilon), args.attrs?.relu === true)) as unknown as tf.KernelFunc,
    },
    {
      kernelName: BATCH_NORM_TRAINING_GRAD,
      backendName,
      kernelFunc: ((args: KernelArgs) => backward(viewsFor(backendName, args.backend), args.inputs, Number(args.attrs?.epsilon), args.attrs?.relu === true)) as unknown as tf.KernelFunc,
    },
  ];
}

let registered = false;

/** Registers the fused kernels for wasm and cpu and the gradient of the forward kernel. */
export function registerBatchNormTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['wasm', 'cpu'] as const) {
    for (const config of configs(backendName)) if (!tf.getKernel(config.kernelName, backendName)) tf.registerKernel(config);
  }
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, scale, y, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      // One kernel yields all three gradients. It runs here, not in the closures: tfjs evaluates
      // each closure in its own tidy, which would free the two results a closure does not return.
      // They live until the end of the backward pass, in its outer scope.
      // y (the output) only matters to a fused ReLU's gradient: where y = 0 no gradient passes.
      const inputs: tf.NamedTensorMap = attrs.relu === true ? { dy, x, y, scale, mean, variance } : { dy, x, scale, mean, variance };
      const [dx, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, inputs, attrs) as tf.Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
}

/** True when the fused kernel exists for the active backend. */
export function hasFusedBatchNormTraining(): boolean {
  return Boolean(tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()));
}
