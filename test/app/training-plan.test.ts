/**
 * The default training budget: sized to the device (small model at 32 px on a CPU, ResNet-18 at
 * 64 px on a GPU), time estimates from this library's own finished runs when there are any,
 * explicit options always win, and a tiny library is not trained for thousands of epochs.
 */
import { describe, expect, it } from 'vitest';
import { estimateImagesPerS, planTraining } from '../../core/app/training-plan.ts';
import type { RunSummary } from '../../core/api/contract.ts';

const cpu = { backend: 'wasm' as const, device: '2 cores', softwareDevice: false };
const gpu = { backend: 'webgpu' as const, device: 'NVIDIA H200', softwareDevice: false };
const lavapipe = { backend: 'webgpu' as const, device: 'llvmpipe', softwareDevice: true };

function run(overrides: Partial<RunSummary>): RunSummary {
  return {
    id: 1, status: 'completed', backend: 'wasm', device: '2 cores', arch: 'resnet-small', sizePx: 32, startedAt: '', finishedAt: '',
    stepsDone: 100, stepsTotal: 100, finalLoss: 1, imagesPerS: 40, resumable: false, embedded: 0, error: null, config: {}, ...overrides,
  };
}

describe('planTraining', () => {
  it('picks a small model on a CPU and a big one on a real GPU', () => {
    expect(planTraining(cpu, 10_000, []).options).toMatchObject({ arch: 'resnet-small', sizePx: 32, batchSize: 64 });
    expect(planTraining(gpu, 10_000, []).options).toMatchObject({ arch: 'resnet18', sizePx: 64, batchSize: 256 });
    expect(planTraining(lavapipe, 10_000, []).options).toMatchObject({ arch: 'resnet-small', sizePx: 32 });
  });

  it('uses the small-budget temperature on a CPU and SimCLR\'s 0.5 on a real GPU; an explicit one wins', () => {
    expect(planTraining(cpu, 10_000, []).options.temperature).toBe(0.1);
    expect(planTraining(lavapipe, 10_000, []).options.temperature).toBe(0.1);
    expect(planTraining(gpu, 10_000, []).options.temperature).toBe(0.5);
    expect(planTraining(cpu, 10_000, [], { temperature: 0.3 }).options.temperature).toBe(0.3);
  });

  it('fits the default budget to the expected speed and says how long it takes', () => {
    const plan = planTraining(cpu, 10_000, []);
    expect(plan.estimatedSeconds).toBeGreaterThan(5 * 60);
    expect(plan.estimatedSeconds).toBeLessThanOrEqual(15 * 60 + 1);
    const faster = planTraining(cpu, 10_000, [run({ imagesPerS: 200 })]);
    expect(faster.options.steps).toBeGreaterThan(plan.options.steps);
    expect(faster.estimatedSeconds).toBeCloseTo(plan.estimatedSeconds!, -1);
  });

  it('sizes a CPU budget to the training threads (the data-parallel step), a GPU budget not', () => {
    const one = planTraining({ ...cpu, threads: 1 }, 100_000, []);
    const two = planTraining({ ...cpu, threads: 2 }, 100_000, []);
    expect(two.options.steps).toBeGreaterThan(one.options.steps * 1.5);
    expect(two.estimatedSeconds).toBeCloseTo(one.estimatedSeconds!, -1);
    const gpu = { backend: 'webgpu' as const, device: 'GPU', softwareDevice: false };
    expect(planTraining({ ...gpu, threads: 8 }, 100_000, []).options.steps).toBe(planTraining(gpu, 100_000, []).options.steps);
  });

  it('learns the speed only from comparable runs', () => {
    expect(estimateImagesPerS(cpu, 'resnet-small', 32, [run({ imagesPerS: 77 })])).toBe(77);
    expect(estimateImagesPerS(cpu, 'resnet-small', 32, [run({ imagesPerS: 77, sizePx: 64 })])).not.toBe(77);
    expect(estimateImagesPerS(cpu, 'resnet-small', 32, [run({ imagesPerS: 77, backend: 'cpu' })])).not.toBe(77);
  });

  it('caps a tiny library at a sensible number of passes and honours explicit options', () => {
    const tiny = planTraining(cpu, 10, []);
    expect(tiny.options.batchSize).toBe(10);
    expect(tiny.options.steps).toBeLessThanOrEqual(200);
    expect(planTraining(cpu, 10_000, [], { steps: 7, sizePx: 16 }).options).toMatchObject({ steps: 7, sizePx: 16 });
    expect(planTraining(cpu, 1000, [], { epochs: 2, batchSize: 100 }).options.steps).toBe(20);
  });
});
