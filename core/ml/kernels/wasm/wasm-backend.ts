/**
 * The slice of @tensorflow/tfjs-backend-wasm's BackendWasm that the project's training kernels use:
 * tensors live in the wasm heap at `memoryOffset` (bytes), and other registered wasm kernels
 * (BatchMatMul, Transpose) can be called directly with TensorInfos, as the backend's own kernels do.
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number; id: number } | undefined };
  /** The emscripten module; `asm.memory` is the heap's WebAssembly.Memory (./simd-kernels.ts imports it). */
  wasm: { HEAPF32: Float32Array; HEAPF64: Float64Array; asm?: { memory?: unknown } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Float index (not byte offset) of a float32 tensor's first element in HEAPF32. */
export function floatOffset(backend: WasmBackend, tensor: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(tensor.dataId);
  if (!data) throw new Error('wasm kernel: tensor data not found on the wasm backend');
  return data.memoryOffset >>> 2;
}

/** The current heap view; re-read it after any allocation (the heap may have grown and moved). */
export function heap(backend: WasmBackend): Float32Array {
  return backend.wasm.HEAPF32;
}

type KernelFunction = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo | tf.TensorInfo[];

function kernel(name: string): KernelFunction {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm kernel ${name} is not registered`);
  return config.kernelFunc as unknown as KernelFunction;
}

/** C[M, N] = A[M, K] · B[K, N] with the wasm backend's BatchMatMul (its fast, untransposed path). */
export function matMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const out = kernel('BatchMatMul')({
    inputs: { a: { ...a, shape: [1, ...a.shape] }, b: { ...b, shape: [1, ...b.shape] } },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  return { ...out, shape: [a.shape[0]!, b.shape[1]!] };
}

/** The 2-D transpose [R, C] → [C, R] with the wasm backend's Transpose kernel. */
export function transpose2d(backend: WasmBackend, x: tf.TensorInfo): tf.TensorInfo {
  return kernel('Transpose')({ inputs: { x }, backend, attrs: { perm: [1, 0] } }) as tf.TensorInfo;
}

/** A new float32 tensor on the wasm heap. */
export function allocate(backend: WasmBackend, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

export function release(backend: WasmBackend, ...tensors: tf.TensorInfo[]): void {
  for (const t of tensors) backend.disposeData(t.dataId);
}

/** Runs another registered wasm kernel directly (as the backend's own kernels compose each other). */
export function runWasmKernel(backend: WasmBackend, name: string, inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>): tf.TensorInfo {
  return kernel(name)({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}
