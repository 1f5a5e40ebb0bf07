// Backend selection with the real packages installed here: wasm and cpu start and report a device;
// auto never lands on a software WebGPU adapter; unknown or missing backends fail clearly.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend, isSoftwareAdapter, parseBackendChoice } from '../../core/ml/backend.ts';

describe('backend selection', () => {
  it('auto (first choice in a process) picks a real accelerator or wasm, never a software GPU', async () => {
    const auto = await initBackend('auto');
    expect(['tensorflow', 'webgpu', 'wasm']).toContain(auto.backend);
    expect(auto.softwareDevice).toBe(false);
  });

  it('starts wasm and cpu and names the device', async () => {
    const wasm = await initBackend('wasm');
    expect(wasm.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(wasm.device).toMatch(/cores/);
    const cpu = await initBackend('cpu');
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('choosing a backend prints nothing on stderr (no Dawn warnings about adapter limits)', () => {
    // A fresh process, as every `looktwice train`/`curate` is: auto probes tensorflow, webgpu, wasm.
    const script = "import('./core/ml/backend.ts').then(async (m) => { const info = await m.initBackend('auto'); process.stdout.write(info.backend); })";
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(['tensorflow', 'webgpu', 'wasm']).toContain(result.stdout);
    expect(result.stderr).not.toMatch(/artificially reduced|Warning:/);
  }, 60_000);

  it('recognises software adapters', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', description: 'SwiftShader Device' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia' }, true)).toBe(true);
  });

  it('fails clearly for an unknown name or a backend that is not installed', async () => {
    expect(() => parseBackendChoice('cuda')).toThrow(/unknown backend "cuda"/);
    // tfjs-node is an optional dependency and not installed on this machine
    let nodeInstalled = true;
    try {
      const specifier: string = '@tensorflow/tfjs-node';
      await import(specifier);
    } catch {
      nodeInstalled = false;
    }
    if (!nodeInstalled) await expect(initBackend('tensorflow')).rejects.toThrow(/backend "tensorflow" is not available/);
  });
});
