/**
 * Loads Looktwice's wasm SIMD training kernels (training-kernels.wat, embedded as base64 by
 * `npm run build:kernels`) into the same memory as tfjs-backend-wasm, once per backend instance
 * (each worker thread has its own), so the kernels read and write tensors where tfjs keeps them.
 * Returns null where the engine lacks wasm SIMD or the backend exposes no memory: callers then use
 * their scalar JavaScript loops.
 */
import { WASM_BASE64 } from './training-kernels-wasm.ts';
import type { WasmBackend } from './wasm-backend.ts';

/** The module's exports; every pointer is a byte offset into tfjs's heap (see the .wat header). */
export interface TrainingKernels {
  bn_sums(x: number, rows: number, channels: number, shift: number, block: number, out: number): void;
  bn_apply(x: number, y: number, rows: number, channels: number, multiplier: number, shift: number, floor: number): void;
  bn_grad_sums(dy: number, x: number, y: number, rows: number, channels: number, mean: number, relu: number, block: number, out: number): void;
  bn_grad_apply(dy: number, x: number, y: number, dx: number, rows: number, channels: number, mean: number, a: number, e: number, k: number, relu: number): void;
  conv_filter_grad(
    x: number, dy: number, dw: number, images: number,
    H: number, W: number, Ci: number, OH: number, OW: number, Co: number,
    KH: number, KW: number, strideH: number, strideW: number, padTop: number, padLeft: number,
  ): void;
  conv_input_grad(
    dy: number, wt: number, dx: number, images: number,
    H: number, W: number, Ci: number, OHp: number, OWp: number, Co: number,
    KH: number, KW: number, strideH: number, strideW: number, padTop: number, padLeft: number,
  ): void;
  adam_update(
    w: number, m: number, v: number, g: number, w2: number, m2: number, v2: number, n: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, c1: number, c2: number, epsilon: number, wd: number, lr: number,
  ): void;
  momentum_update(w: number, u: number, g: number, w2: number, u2: number, n: number, momentum: number, wd: number, lr: number): void;
}

// The WebAssembly JS API (the project's lib settings have no DOM types for it).
interface WasmModuleObject {
  readonly kind?: 'module';
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => WasmModuleObject;
  Instance: new (module: WasmModuleObject, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: WasmModuleObject | null | undefined;
const instances = new WeakMap<object, TrainingKernels>();
let disabled = false;

/** Turns the SIMD kernels off (true) or back on, for tests and benchmarks comparing both paths. */
export function setSimdKernelsDisabled(value: boolean): void {
  disabled = value;
}

function compile(): WasmModuleObject | null {
  if (compiled === undefined) {
    try {
      // Small module (a few KB): synchronous compilation is allowed in every engine and thread.
      compiled = new wasmApi.Module(Buffer.from(WASM_BASE64, 'base64'));
    } catch {
      compiled = null; // no wasm SIMD in this engine
    }
  }
  return compiled;
}

/** The kernels bound to `backend`'s memory, or null where they cannot run. */
export function simdKernels(backend: WasmBackend): TrainingKernels | null {
  if (disabled) return null;
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof wasmApi.Memory)) return null;
  const known = instances.get(memory);
  if (known) return known;
  const module = compile();
  if (!module) return null;
  const kernels = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as TrainingKernels;
  instances.set(memory, kernels);
  return kernels;
}
