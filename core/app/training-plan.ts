/**
 * A default SimCLR training budget sized to the device: which model, image size, batch and how
 * many steps fit a sensible wall time on the backend that was found, and how long that will take.
 * The speed estimate comes from this library's own finished runs when there are any (same
 * backend, model and size), else from rough per-backend figures measured on this project's
 * machines (about 20 images/s for the small ResNet at 32 px on wasm; a real GPU is an order
 * of magnitude faster).
 */
import type { BackendName } from '../ml/choices.ts';
import type { ViewRun } from '../store/library-view.repository.ts';
import { TRAIN_SIZES_PX, type TrainOptionsOut } from './schemas.ts';

/** Models the Train screen offers, smallest first. */
export const TRAIN_ARCHS = ['resnet-small', 'resnet18'] as const;

type TrainOptions = TrainOptionsOut;
type RunSummary = Pick<ViewRun, 'backend' | 'arch' | 'sizePx' | 'imagesPerS' | 'stepsDone'>;

/** A proposed training configuration (TrainPlan of the contract). */
export interface TrainPlan {
  backend: BackendName;
  device: string;
  options: TrainOptions & { arch: string; sizePx: number; batchSize: number; steps: number; epochs?: number };
  archs: string[];
  sizesPx: number[];
  images: number;
  estimatedSeconds: number | null;
}

/**
 * Source images per second of a SimCLR step, small ResNet at 32 px, by backend, on one thread
 * (rough: bench:train measured 50–120 img/s for wasm with the SIMD training kernels on one core of
 * a loaded 2-core machine; a library's own finished runs replace the guess).
 */
const BASE_IMAGES_PER_S: Record<BackendName, number> = { cpu: 1, wasm: 60, webgpu: 60, tensorflow: 150 };
/** What each extra CPU training thread adds (data-parallel step: barriers and serial work). */
const THREAD_EFFICIENCY = 0.8;
/** How much slower ResNet-18 is than the small variant. */
const ARCH_COST: Record<string, number> = { 'resnet-small': 1, resnet18: 6 };
/** Wall time the default budget aims at, by backend. */
const BUDGET_S: Record<BackendName, number> = { cpu: 10 * 60, wasm: 15 * 60, webgpu: 30 * 60, tensorflow: 30 * 60 };
/** More passes than this over a small library only overfit. */
const MAX_EPOCHS = 200;
/**
 * NT-Xent temperature by device class: the recipe for the compute-limited regime. On a CPU budget
 * (a few hundred steps of 128, under one epoch) τ = 0.1 beat SimCLR's CIFAR value 0.5 on
 * Fashion-MNIST in both the PyTorch twin of the recipe and Looktwice's own trainer
 * (bench/results/README.md); a GPU's larger batches and budgets keep 0.5 (not measured here).
 */
const TEMPERATURE = { cpu: 0.1, gpu: 0.5 } as const;

export interface DeviceFacts {
  backend: BackendName;
  device: string;
  /** A software GPU (lavapipe, SwiftShader): CPU speed, not GPU speed. */
  softwareDevice: boolean;
  /** Training threads on a CPU backend (wasm, cpu; default 1): the data-parallel step. */
  threads?: number;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Estimated source images per second for this configuration. */
export function estimateImagesPerS(device: DeviceFacts, arch: string, sizePx: number, history: readonly RunSummary[]): number {
  const measured = median(
    history
      .filter((run) => run.backend === device.backend && run.arch === arch && run.sizePx === sizePx && run.imagesPerS !== null && run.imagesPerS > 0 && run.stepsDone >= 5)
      .map((run) => run.imagesPerS!),
  );
  if (measured !== null) return measured;
  const cpuBackend = device.backend === 'wasm' || device.backend === 'cpu';
  const threads = cpuBackend ? Math.max(1, device.threads ?? 1) : 1;
  const base = (device.softwareDevice ? BASE_IMAGES_PER_S.wasm / 3 : BASE_IMAGES_PER_S[device.backend]) * (1 + THREAD_EFFICIENCY * (threads - 1));
  return base / (ARCH_COST[arch] ?? 1) / (sizePx / 32) ** 2;
}

/** The plan for `images` images on `device`; explicit options win over the defaults. */
export function planTraining(device: DeviceFacts, images: number, history: readonly RunSummary[], options: TrainOptions = {}): TrainPlan {
  const gpu = (device.backend === 'webgpu' || device.backend === 'tensorflow') && !device.softwareDevice;
  const arch = options.arch ?? (gpu ? 'resnet18' : 'resnet-small');
  const sizePx = options.sizePx ?? (gpu ? 64 : 32);
  const batchSize = Math.max(2, Math.min(options.batchSize ?? (gpu ? 256 : 64), Math.max(2, images)));
  const temperature = options.temperature ?? (gpu ? TEMPERATURE.gpu : TEMPERATURE.cpu);
  const rate = estimateImagesPerS(device, arch, sizePx, history);
  let steps: number;
  if (options.steps !== undefined) steps = options.steps;
  else if (options.epochs !== undefined) steps = Math.max(1, Math.ceil((options.epochs * images) / batchSize));
  else {
    const budgetS = BUDGET_S[device.softwareDevice ? 'wasm' : device.backend];
    const fitSteps = Math.floor((budgetS * rate) / batchSize);
    const epochCap = Math.ceil((MAX_EPOCHS * Math.max(images, 1)) / batchSize);
    steps = Math.max(10, Math.min(fitSteps, epochCap));
  }
  const estimatedSeconds = images > 0 ? (steps * batchSize) / rate : null;
  return {
    backend: device.backend,
    device: device.device,
    options: { ...options, arch, sizePx, batchSize, steps, temperature, epochs: images > 0 ? Math.round(((steps * batchSize) / images) * 10) / 10 : 0 },
    archs: [...TRAIN_ARCHS],
    sizesPx: [...TRAIN_SIZES_PX],
    images,
    estimatedSeconds,
  };
}
