/**
 * Fused optimizer updates for the wasm backend: one pass of the wasm SIMD kernels adam_update and
 * momentum_update (./training-kernels.wat) per variable instead of the dozen elementwise tfjs ops
 * (each its own pass over memory and its own output) the update takes otherwise. They compute in
 * the optimizer's own operation order, so the values equal those ops' (../../optimizer.ts keeps
 * them for the other backends). Outputs are new tensors, never the inputs overwritten: a variable's
 * data may be shared (tf.Variable.assign and Identity share by reference).
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd-kernels.ts';
import { floatOffset, type WasmBackend } from './wasm-backend.ts';

export const ADAM_UPDATE = 'LooktwiceAdamUpdate';
export const MOMENTUM_UPDATE = 'LooktwiceMomentumUpdate';

/** Adam's constants for one step (float32 in the kernel, as tfjs makes its scalar operands). */
export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  /** Bias corrections 1 − β1^t and 1 − β2^t. */
  correction1: number;
  correction2: number;
  epsilon: number;
  /** Decoupled weight decay (0: none). */
  weightDecay: number;
  learningRate: number;
}

/** SGD-with-momentum's constants for one step. */
export interface MomentumUpdateAttrs {
  momentum: number;
  /** L2 weight decay added to the gradient (0: none). */
  weightDecay: number;
  learningRate: number;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function at(backend: WasmBackend, tensor: tf.TensorInfo): number {
  return floatOffset(backend, tensor) * 4;
}

function elements(tensor: tf.TensorInfo): number {
  return tensor.shape.reduce((a, b) => a * b, 1);
}

function adamUpdate({ inputs, backend: b, attrs }: KernelArgs): tf.TensorInfo[] {
  const backend = b as WasmBackend;
  const { w, m, v, g } = inputs as { w: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo };
  const a = attrs as unknown as AdamUpdateAttrs;
  const kernels = simdKernels(backend);
  if (!kernels) throw new Error(`${ADAM_UPDATE}: wasm SIMD is not available (check fusedUpdatesAvailable first)`);
  const [w2, m2, v2] = [w, m, v].map((t) => backend.makeOutput(t.shape, 'float32')) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
  kernels.adam_update(
    at(backend, w), at(backend, m), at(backend, v), at(backend, g), at(backend, w2), at(backend, m2), at(backend, v2), elements(w),
    a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.correction1, a.correction2, a.epsilon, a.weightDecay, a.learningRate,
  );
  return [w2, m2, v2];
}

function momentumUpdate({ inputs, backend: b, attrs }: KernelArgs): tf.TensorInfo[] {
  const backend = b as WasmBackend;
  const { w, u, g } = inputs as { w: tf.TensorInfo; u: tf.TensorInfo; g: tf.TensorInfo };
  const a = attrs as unknown as MomentumUpdateAttrs;
  const kernels = simdKernels(backend);
  if (!kernels) throw new Error(`${MOMENTUM_UPDATE}: wasm SIMD is not available (check fusedUpdatesAvailable first)`);
  const [w2, u2] = [w, u].map((t) => backend.makeOutput(t.shape, 'float32')) as [tf.TensorInfo, tf.TensorInfo];
  kernels.momentum_update(at(backend, w), at(backend, u), at(backend, g), at(backend, w2), at(backend, u2), elements(w), a.momentum, a.weightDecay, a.learningRate);
  return [w2, u2];
}

export const adamUpdateConfig: tf.KernelConfig = { kernelName: ADAM_UPDATE, backendName: 'wasm', kernelFunc: adamUpdate as unknown as tf.KernelFunc };
export const momentumUpdateConfig: tf.KernelConfig = { kernelName: MOMENTUM_UPDATE, backendName: 'wasm', kernelFunc: momentumUpdate as unknown as tf.KernelFunc };

let enabled = true;

/** Turns the fused updates off (false) or back on, for tests and benchmarks comparing both paths. */
export function setFusedUpdates(value: boolean): void {
  enabled = value;
}

/** Whether the current backend runs the fused updates (wasm with SIMD, kernels registered). */
export function fusedUpdatesAvailable(): boolean {
  if (!enabled || tf.getBackend() !== 'wasm' || !tf.getKernel(ADAM_UPDATE, 'wasm')) return false;
  return simdKernels(tf.backend() as unknown as WasmBackend) !== null;
}

function check(w: tf.Tensor, others: tf.Tensor[]): void {
  for (const t of [w, ...others]) {
    if (t.dtype !== 'float32') throw new Error(`fused optimizer update: float32 tensors only (got ${t.dtype})`);
    if (t.size !== w.size) throw new Error(`fused optimizer update: shape [${t.shape.join(', ')}] differs from the variable's [${w.shape.join(', ')}]`);
  }
}

/** [w', m', v'] of one Adam(W) step (fusedUpdatesAvailable() must be true). */
export function fusedAdamUpdate(w: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: AdamUpdateAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  check(w, [m, v, g]);
  return tf.engine().runKernel(ADAM_UPDATE, { w, m, v, g }, attrs as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** [w', u'] of one SGD-with-momentum step (fusedUpdatesAvailable() must be true). */
export function fusedMomentumUpdate(w: tf.Tensor, u: tf.Tensor, g: tf.Tensor, attrs: MomentumUpdateAttrs): [tf.Tensor, tf.Tensor] {
  check(w, [u, g]);
  return tf.engine().runKernel(MOMENTUM_UPDATE, { w, u, g }, attrs as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor];
}
