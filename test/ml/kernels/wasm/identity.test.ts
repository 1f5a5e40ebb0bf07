// The wasm Identity shares data (no copy) and keeps it alive by reference count.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../../core/ml/backend.ts';
import type { WasmBackend } from '../../../../core/ml/kernels/wasm/wasm-backend.ts';

describe('wasm Identity', () => {
  it('clones without copying, and the clone outlives the original', async () => {
    await initBackend('wasm');
    await tf.setBackend('wasm');
    const bytesBefore = tf.memory().numBytes;
    const original = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const backend = tf.backend() as unknown as WasmBackend;
    const clone = tf.clone(original);
    expect(backend.dataIdMap.get(clone.dataId)!.memoryOffset).toBe(backend.dataIdMap.get(original.dataId)!.memoryOffset);
    original.dispose();
    expect(Array.from(clone.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(clone.shape).toEqual([2, 3]);
    clone.dispose();
    expect(tf.memory().numBytes).toBe(bytesBefore);
  });
});
