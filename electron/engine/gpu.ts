/**
 * How the engine process picks its GPU for the WebGPU backend (Dawn, the `webgpu` package).
 *
 * By default nothing is done here: core/ml/backend.ts creates Dawn's `navigator.gpu` and asks
 * for an adapter with `powerPreference: 'high-performance'`, so Dawn prefers a discrete GPU over
 * an integrated one, on the platform's native API (D3D12 on Windows, Metal on macOS, Vulkan on
 * Linux). Users with several GPUs, or a broken driver, can override that before the engine
 * starts with environment variables:
 *   LOOKTWICE_GPU_ADAPTER=<name>    an adapter by name, e.g. "NVIDIA GeForce RTX 4090" (an unknown
 *                                   name makes Dawn list the adapters it sees in its error)
 *   LOOKTWICE_GPU_BACKEND=<api>     vulkan | metal | d3d12 | d3d11 | opengl | opengles | null
 *   LOOKTWICE_DAWN_FLAGS=<a;b>      raw Dawn options, ';'-separated, e.g.
 *                                   "enable-dawn-features=allow_unsafe_apis;disable-dawn-features=x"
 * When any is set, this module installs `navigator.gpu` from `create(flags)` first; backend.ts
 * and the kernels' Dawn helper both reuse an existing `navigator.gpu`.
 */

const BACKENDS = new Set(['vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles', 'null', 'webgpu']);

/** The Dawn `create()` options asked for by the environment; empty when none is set. */
export function dawnFlagsFromEnvironment(env: NodeJS.ProcessEnv): string[] {
  const flags: string[] = [];
  const backend = env.LOOKTWICE_GPU_BACKEND?.trim().toLowerCase();
  if (backend) {
    if (!BACKENDS.has(backend)) throw new Error(`LOOKTWICE_GPU_BACKEND must be one of ${[...BACKENDS].join(', ')}, got "${backend}"`);
    flags.push(`backend=${backend}`);
  }
  const adapter = env.LOOKTWICE_GPU_ADAPTER?.trim();
  if (adapter) flags.push(`adapter=${adapter}`);
  for (const raw of (env.LOOKTWICE_DAWN_FLAGS ?? '').split(';')) {
    const flag = raw.trim();
    if (flag === '') continue;
    if (!/^[a-z-]+=/.test(flag)) throw new Error(`LOOKTWICE_DAWN_FLAGS: "${flag}" is not of the form name=value`);
    flags.push(flag);
  }
  return flags;
}

/**
 * Installs Dawn's `navigator.gpu` with the environment's options, when there are any. Returns
 * the options used (empty: left to core/ml/backend.ts's default).
 */
export async function installGpuFromEnvironment(env: NodeJS.ProcessEnv): Promise<string[]> {
  const flags = dawnFlagsFromEnvironment(env);
  if (flags.length === 0) return flags;
  const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): unknown; globals: object };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(flags);
  const holder = globalThis as { navigator?: { gpu?: unknown } };
  if (holder.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(holder.navigator, 'gpu', { value: gpu, configurable: true });
  }
  return flags;
}
