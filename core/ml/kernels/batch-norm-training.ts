/**
 * A fused training-mode batch norm (Ioffe & Szegedy 2015) as one kernel plus one gradient kernel,
 * registered for the wasm and cpu backends. With generic ops, tfjs computes the per-channel
 * statistics of an NHWC activation by transposing it whole and its FusedBatchNorm gradient tiles
 * the statistics back to full size; here each direction is two passes over rows × channels.
 *
 *   forward:  mean, var (biased) over all rows; x̂ = (x − mean)/sqrt(var + ε); y = scale·x̂ + offset
 *   backward: dOffset = Σ dy; dScale = Σ dy·x̂; dx = scale/(N·sqrt(var + ε)) · (N·dy − dOffset − x̂·dScale)
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
import { floatOffset, heap, type WasmBackend } from './wasm/wasm-backend.ts';

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
}

function wasmViews(backend: WasmBackend): Views {
  return {
    memory: (tensor) => ({ memory: heap(backend), at: floatOffset(backend, tensor) }),
    output: (shape) => backend.makeOutput(shape, 'float32'),
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
  };
}

function forward(views: Views, inputs: tf.NamedTensorInfoMap, epsilon: number): tf.TensorInfo[] {
  const { x, scale, offset } = inputs as { x: tf.TensorInfo; scale: tf.TensorInfo; offset: tf.TensorInfo };
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const y = views.output([...x.shape]);
  const meanOut = views.output([channels]);
  const varianceOut = views.output([channels]);
  // Views are taken after every allocation: the wasm heap may have moved.
  const xv = views.memory(x);
  const yv = views.memory(y);
  const sv = views.memory(scale);
  const ov = views.memory(offset);
  const mv = views.memory(meanOut);
  const vv = views.memory(varianceOut);
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  statistics(xv.memory, xv.at, rows, channels, mean, variance);
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
  for (let c = 0; c < channels; c++) {
    const invStd = 1 / Math.sqrt(variance[c]! + epsilon);
    multiplier[c] = sv.memory[sv.at + c]! * invStd;
    shift[c] = ov.memory[ov.at + c]! - mean[c]! * multiplier[c]!;
    mv.memory[mv.at + c] = mean[c]!;
    vv.memory[vv.at + c] = variance[c]!;
  }
  const xm = xv.memory;
  const ym = yv.memory;
  for (let r = 0, i = xv.at, o = yv.at; r < rows; r++) for (let c = 0; c < channels; c++, i++, o++) ym[o] = xm[i]! * multiplier[c]! + shift[c]!;
  return [y, meanOut, varianceOut];
}

function backward(views: Views, inputs: tf.NamedTensorInfoMap, epsilon: number): tf.TensorInfo[] {
  const { dy, x, scale, mean, variance } = inputs as Record<'dy' | 'x' | 'scale' | 'mean' | 'variance', tf.TensorInfo>;
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const dx = views.output([...x.shape]);
  const dScaleOut = views.output([channels]);
  const dOffsetOut = views.output([channels]);
  const dyv = views.memory(dy);
  const xv = views.memory(x);
  const dxv = views.memory(dx);
  const sv = views.memory(scale);
  const mv = views.memory(mean);
  const vv = views.memory(variance);
  const dsv = views.memory(dScaleOut);
  const dov = views.memory(dOffsetOut);
  const meanValues = new Float32Array(channels);
  const invStd = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    meanValues[c] = mv.memory[mv.at + c]!;
    invStd[c] = 1 / Math.sqrt(vv.memory[vv.at + c]! + epsilon);
  }
  const sumDy = new Float64Array(channels);
  const sumDyXhat = new Float64Array(channels);
  const dym = dyv.memory;
  const xm = xv.memory;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const g = dym[dyv.at + i]!;
      sumDy[c]! += g;
      sumDyXhat[c]! += g * (xm[xv.at + i]! - meanValues[c]!) * invStd[c]!;
    }
  }
  for (let c = 0; c < channels; c++) {
    dsv.memory[dsv.at + c] = sumDyXhat[c]!;
    dov.memory[dov.at + c] = sumDy[c]!;
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
  const b = new Float32Array(channels); // mean of dy
  const d = new Float32Array(channels); // mean of dy·x̂ times invStd
  for (let c = 0; c < channels; c++) {
    a[c] = sv.memory[sv.at + c]! * invStd[c]!;
    b[c] = sumDy[c]! / totalRows;
    d[c] = (sumDyXhat[c]! / totalRows) * invStd[c]!;
  }
  const dxm = dxv.memory;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      // dx = a·(dy − mean(dy) − (x − mean)·invStd·mean(dy·x̂))
      dxm[dxv.at + i] = a[c]! * (dym[dyv.at + i]! - b[c]! - (xm[xv.at + i]! - meanValues[c]!) * d[c]!);
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
      kernelFunc: ((args: KernelArgs) => forward(viewsFor(backendName, args.backend), args.inputs, Number(args.attrs?.epsilon))) as unknown as tf.KernelFunc,
    },
    {
      kernelName: BATCH_NORM_TRAINING_GRAD,
      backendName,
      kernelFunc: ((args: KernelArgs) => backward(viewsFor(backendName, args.backend), args.inputs, Number(args.attrs?.epsilon))) as unknown as tf.KernelFunc,
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
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, scale, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      // One kernel yields all three gradients. It runs here, not in the closures: tfjs evaluates
      // each closure in its own tidy, which would free the two results a closure does not return.
      // They live until the end of the backward pass, in its outer scope.
      const [dx, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, { dy, x, scale, mean, variance }, attrs) as tf.Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
}

/** True when the fused kernel exists for the active backend. */
export function hasFusedBatchNormTraining(): boolean {
  return Boolean(tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()));
}
