// The committed wasm SIMD kernel module: exactly the wabt build of its WAT source, and confined to
// tfjs's heap (its only import is that memory; no memory or data segment of its own).
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { KERNEL_SOURCES, assembleKernels, embeddedModulePath, embeddedModuleText } from '../../../../build/build-kernels.ts';
import { WASM_BASE64 } from '../../../../core/ml/kernels/wasm/training-kernels-wasm.ts';

// The WebAssembly JS API (the project's lib settings have no DOM types for it).
interface Descriptor {
  module?: string;
  name: string;
  kind: string;
}
const wasm = (globalThis as unknown as {
  WebAssembly: { Module: { new (bytes: Uint8Array): object; imports(m: object): Descriptor[]; exports(m: object): Descriptor[] } };
}).WebAssembly;

/** Section ids of a wasm binary, in order (the format's header: magic, version, then id + LEB size). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      size |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

describe('wasm SIMD training kernels module', () => {
  it.each(KERNEL_SOURCES)('%s: the committed module is the build of the source (npm run build:kernels)', async (source) => {
    const binary = await assembleKernels(source);
    expect(fs.readFileSync(embeddedModulePath(source), 'utf8')).toBe(embeddedModuleText(source, binary));
  });

  it('imports only env.memory and has no memory, data or start section of its own', () => {
    const bytes = Buffer.from(WASM_BASE64, 'base64');
    const module = new wasm.Module(bytes);
    expect(wasm.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const ids = sectionIds(bytes);
    expect(ids).not.toContain(5); // memory
    expect(ids).not.toContain(8); // start
    expect(ids).not.toContain(11); // data
    expect(wasm.Module.exports(module).map((e) => e.name)).toEqual(expect.arrayContaining(['bn_sums', 'bn_apply', 'bn_grad_sums', 'bn_grad_apply']));
  });
});
