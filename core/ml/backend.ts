/**
 * The one place that chooses the TensorFlow.js backend. Best first:
 *  1. `tensorflow` — @tensorflow/tfjs-node-gpu (CUDA), then @tensorflow/tfjs-node (oneDNN); both are
 *     optionalDependencies, so they are imported dynamically and their absence is normal.
 *  2. `webgpu`     — @tensorflow/tfjs-backend-webgpu on Dawn (the `webgpu` npm package).
 *  3. `wasm`       — @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD; single-threaded in Node), with the
 *     training kernels it lacks registered by ./kernels/wasm/.
 *  4. `cpu`        — plain JavaScript; correct everywhere, slow.
 *
 * `auto` skips a WebGPU adapter that is a software rasteriser (Mesa lavapipe/llvmpipe, SwiftShader,
 * a "fallback" adapter): it runs shaders on the same CPU cores, and measured here it trains far
 * slower than wasm, which is what a user on such a machine wants instead. Asking for
 * `--backend webgpu` explicitly still uses it (useful for testing the WebGPU kernels without a GPU).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './kernels/wasm/index.ts';
import { registerWebgpuKernels } from './kernels/webgpu/index.ts';

import type { BackendChoice, BackendName } from './choices.ts';

export { BACKEND_CHOICES, parseBackendChoice, type BackendChoice, type BackendName } from './choices.ts';

/** Which backend is active and on what hardware, for the CLI, the UI and the runs table. */
export interface BackendInfo {
  backend: BackendName;
  /** Human-readable device, e.g. "AMD EPYC (2 cores)" or "NVIDIA … (webgpu: nvidia ampere)". */
  device: string;
  /** True when the device is a software emulation of a GPU (lavapipe, SwiftShader). */
  softwareDevice: boolean;
  /** Why more preferred backends were skipped under `auto` (one line each). */
  skipped: string[];
}

/** Minimal view of a WebGPU adapter's info (Dawn in Node, Chromium in a renderer). */
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

function cpuDevice(): string {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').trim();
  return `${model} (${cpus.length} cores)`;
}

/** True for adapters that emulate a GPU on the CPU. */
export function isSoftwareAdapter(info: AdapterInfoLike, isFallback = false): boolean {
  if (isFallback) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`;
  return /llvmpipe|lavapipe|swiftshader|software|warp/i.test(text);
}

function describeAdapter(info: AdapterInfoLike): string {
  const description = info.description?.trim();
  const parts = [info.vendor, info.architecture].filter((part): part is string => Boolean(part && part.trim()));
  return [description || info.device || 'WebGPU adapter', parts.length ? `(${parts.join(' ')})` : ''].join(' ').trim();
}

async function tryTensorflow(): Promise<string> {
  const errors: string[] = [];
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // Optional dependencies: a variable specifier keeps bundlers and tsc from requiring them.
      const specifier: string = name;
      await import(specifier);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not initialise');
      return name.endsWith('-gpu') ? `libtensorflow CUDA (${name})` : `libtensorflow CPU: ${cpuDevice()}`;
    } catch (error) {
      errors.push(`${name}: ${firstLine(error)}`);
    }
  }
  throw new Error(errors.join('; '));
}

// Asks Dawn for its adapter in a child process: Dawn writes warnings no user needs (e.g. Mesa
// lavapipe's "maxDynamicUniformBuffersPerPipelineLayout artificially reduced …") straight to file
// descriptor 2, which no JavaScript can filter; a child's stderr can be dropped. ELECTRON_RUN_AS_NODE
// makes Electron's binary (the desktop app's process.execPath) behave as Node.
const ADAPTER_PROBE = `
import(process.argv[1]).then(async (dawn) => {
  const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
  const info = adapter && adapter.info ? adapter.info : {};
  process.stdout.write(JSON.stringify(adapter ? { info: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description }, isFallbackAdapter: Boolean(adapter.isFallbackAdapter) } : null));
  process.exit(0);
});
`;

/** The adapter Dawn would give, probed without letting Dawn print into this process's stderr. */
export function probeWebgpuAdapter(timeoutMs = 30_000): Promise<AdapterLike | null> {
  const dawnUrl = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', ADAPTER_PROBE, dawnUrl], { timeout: timeoutMs, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`the WebGPU adapter probe failed: ${firstLine(stderr || error)}`));
      try {
        resolve(JSON.parse(stdout) as AdapterLike | null);
      } catch {
        reject(new Error(`the WebGPU adapter probe answered ${JSON.stringify(stdout.slice(0, 80))}`));
      }
    });
  });
}

async function tryWebgpu(allowSoftware: boolean): Promise<{ device: string; software: boolean }> {
  const globalScope = globalThis as { navigator?: { gpu?: GpuLike } };
  if (!allowSoftware && !globalScope.navigator?.gpu) {
    // Under auto, load Dawn here only when its adapter is worth using.
    const probed = await probeWebgpuAdapter();
    if (!probed) throw new Error('no WebGPU adapter');
    if (isSoftwareAdapter(probed.info ?? {}, probed.isFallbackAdapter ?? false)) throw new Error(`only a software adapter (${describeAdapter(probed.info ?? {})}); wasm is faster on this CPU`);
  }
  // Dawn for Node: tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is
  // imported, so the globals must be in place first.
  if (!globalScope.navigator?.gpu) {
    const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GpuLike; globals: object };
    const gpu = dawn.create([]);
    Object.assign(globalThis, dawn.globals);
    try {
      globalScope.navigator = { gpu };
    } catch {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
  }
  const gpu = globalScope.navigator?.gpu;
  if (!gpu) throw new Error('no navigator.gpu');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter');
  const info = adapter.info ?? {};
  const software = isSoftwareAdapter(info, adapter.isFallbackAdapter ?? false);
  const device = describeAdapter(info);
  if (software && !allowSoftware) throw new Error(`only a software adapter (${device}); wasm is faster on this CPU`);
  await import('@tensorflow/tfjs-backend-webgpu');
  // ── WebGPU kernels (issue 8): core/ml/kernels/webgpu/index.ts registers faster training kernels
  // ── for 'webgpu' here, e.g. `registerWebgpuKernels();`, before the backend is first used.
  registerWebgpuKernels();
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not initialise');
  return { device: `${device}${software ? ' [software]' : ''}`, software };
}

async function tryWasm(): Promise<string> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  return `${cpuDevice()}, wasm (XNNPACK, SIMD)`;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 200);
}

async function initialise(choice: BackendChoice): Promise<BackendInfo> {
  const skipped: string[] = [];
  const order: BackendName[] = choice === 'auto' ? ['tensorflow', 'webgpu', 'wasm', 'cpu'] : [choice];
  for (const name of order) {
    try {
      if (name === 'tensorflow') {
        const device = await tryTensorflow();
        return { backend: name, device, softwareDevice: false, skipped };
      }
      if (name === 'webgpu') {
        const { device, software } = await tryWebgpu(choice === 'webgpu');
        return { backend: name, device, softwareDevice: software, skipped };
      }
      if (name === 'wasm') {
        const device = await tryWasm();
        return { backend: name, device, softwareDevice: false, skipped };
      }
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return { backend: 'cpu', device: `${cpuDevice()}, plain JavaScript`, softwareDevice: false, skipped };
    } catch (error) {
      if (choice !== 'auto') throw new Error(`backend "${name}" is not available: ${firstLine(error)}`);
      skipped.push(`${name}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${skipped.join('; ')})`);
}

/**
 * Selects and initialises the backend (once per process; later calls with the same choice, or
 * with `auto`, return the active one). Throws with a clear reason when an explicit choice is
 * unavailable.
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (current && (choice === 'auto' || choice === current.backend)) return current;
  if (pending) {
    const active = await pending;
    if (choice === 'auto' || choice === active.backend) return active;
  }
  pending = initialise(choice);
  try {
    current = await pending;
    tf.enableProdMode(); // skips per-op NaN checks and debug bookkeeping
    return current;
  } finally {
    pending = null;
  }
}

/** The active backend, or null before initBackend. */
export function activeBackend(): BackendInfo | null {
  return current;
}

export { tf };
