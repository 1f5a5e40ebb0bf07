/**
 * bench:train — throughput of a SimCLR training step (two augmented views per image, forward,
 * NT-Xent, backward, optimizer update), counting each source image once, in one run:
 *  - on each CPU backend (wasm by default): one thread, and the data-parallel pool at N threads
 *    (default: every core), with the scaling N vs 1;
 *  - a PyTorch CPU reference of the same network, batch and thread counts (bench/torch-train-reference.py,
 *    when /usr/bin/python3 — or $PYTHON — has torch), and our/PyTorch ratios per thread count;
 *  - embedding (inference) throughput at 1 and N threads;
 *  - optionally GPU backends (--backends tensorflow,webgpu).
 * JSON lines on stdout; each carries /proc/loadavg, since on a shared machine it says how much of
 * the CPU the numbers actually had.
 *
 *   npm run bench:train -- [--backends wasm] [--configs resnet-small@32] [--batch 64] [--threads N]
 *                          [--steps 5] [--warmup 2] [--no-reference] [--include-software-webgpu]
 *                          [--profile] [--profile-only]
 *
 * --profile adds, for the one-thread step, a `train-profile` line: milliseconds per kernel of one
 * step (tf.profile; on wasm each kernel's wall time), largest first. --profile-only prints just that
 * (no N threads, embedding or reference).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../core/ml/backend.ts';
import { RESNET_ARCHS, type ResNetArch } from '../core/ml/choices.ts';
import { computeEmbeddings } from '../core/ml/embed.ts';
import { computeEmbeddingsParallel } from '../core/ml/parallel-embed.ts';
import { ParallelSimclrTrainer, defaultThreads } from '../core/ml/parallel-trainer.ts';
import { Random } from '../core/common/random.ts';
import { SimclrTrainer, defaultTrainConfig, type TrainingImages } from '../core/ml/trainer.ts';

const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm' },
    configs: { type: 'string', default: 'resnet-small@32' },
    batch: { type: 'string', default: '64' },
    threads: { type: 'string' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    'no-reference': { type: 'boolean', default: false },
    'include-software-webgpu': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-only': { type: 'boolean', default: false },
  },
});

const log = (message: string): void => void process.stderr.write(`[train-bench] ${message}\n`);
const emit = (record: object): void => void process.stdout.write(`${JSON.stringify(record)}\n`);
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

function loadAverage(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return os.loadavg().map((value) => value.toFixed(2)).join(' ');
  }
}

function randomImages(count: number, sizePx: number, seed: number): TrainingImages {
  const random = new Random(seed);
  const pixels = new Uint8Array(count * sizePx * sizePx * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = random.int(256);
  return { count, sizePx, channels: 3, pixels };
}

/** Seconds per step of `step` after `warmup` untimed ones. */
async function timeSteps(step: () => Promise<unknown>, warmup: number, steps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await step();
  const started = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (performance.now() - started) / 1000 / steps;
}

/** Milliseconds per kernel name of one call of `step`, largest first (tf.profile). */
async function profileKernels(step: () => Promise<unknown>): Promise<{ total_ms: number; kernels: number; by_kernel: Record<string, number> }> {
  const info = await tf.profile(async () => {
    await step();
  });
  const byKernel = new Map<string, number>();
  let total = 0;
  for (const kernel of info.kernels) {
    const ms = Number(kernel.kernelTimeMs);
    total += ms;
    byKernel.set(kernel.name, (byKernel.get(kernel.name) ?? 0) + ms);
  }
  const sorted = [...byKernel.entries()].sort((a, b) => b[1] - a[1]);
  return { total_ms: round(total, 1), kernels: info.kernels.length, by_kernel: Object.fromEntries(sorted.map(([name, ms]) => [name, round(ms, 1)])) };
}

/** The PyTorch reference's JSON line, or null (with the reason logged) when it cannot run. */
function torchReference(arch: ResNetArch, sizePx: number, batch: number, threads: number, steps: number, warmup: number): { images_per_s: number; torch: string } | null {
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  try {
    const output = execFileSync(python, ['bench/torch-train-reference.py', '--arch', arch, '--size', String(sizePx), '--batch', String(batch), '--threads', String(threads), '--steps', String(steps), '--warmup', String(warmup)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
    const record = JSON.parse(output.trim().split('\n').pop()!) as { images_per_s: number; torch: string };
    emit({ ...record, load_average: loadAverage() });
    return record;
  } catch (error) {
    log(`no PyTorch reference (${python}: ${String((error as Error).message).split('\n')[0]})`);
    return null;
  }
}

async function benchCpuBackend(backend: 'wasm' | 'cpu', device: string, arch: ResNetArch, sizePx: number, batchSize: number, threads: number, steps: number, warmup: number): Promise<Map<number, number>> {
  const images = randomImages(Math.max(256, batchSize * 2), sizePx, 1);
  const config = defaultTrainConfig({ arch, sizePx, batchSize, steps: 1000 });
  const rates = new Map<number, number>();
  const common = { bench: 'train', backend, device, arch, size_px: sizePx, batch: batchSize, steps };

  const single = new SimclrTrainer(config);
  try {
    const secondsPerStep = await timeSteps(() => single.trainStep(images), warmup, steps);
    rates.set(1, batchSize / secondsPerStep);
    emit({ ...common, threads: 1, parameters: single.model.encoder.parameters.count(), images_per_s: round(batchSize / secondsPerStep), ms_per_step: round(secondsPerStep * 1000, 1), tensors: tf.memory().numTensors, load_average: loadAverage(), cores: os.cpus().length });
    if (args.profile || args['profile-only']) emit({ bench: 'train-profile', backend, arch, size_px: sizePx, batch: batchSize, threads: 1, ...(await profileKernels(() => single.trainStep(images))), load_average: loadAverage() });
  } finally {
    single.dispose();
  }

  if (args['profile-only']) return rates;
  if (threads > 1) {
    const coordinator = new SimclrTrainer(config);
    let pool: ParallelSimclrTrainer | null = null;
    try {
      pool = await ParallelSimclrTrainer.start(coordinator, images, threads, backend);
      const started = pool;
      const secondsPerStep = await timeSteps(() => started.trainStep(images), warmup, steps);
      rates.set(threads, batchSize / secondsPerStep);
      emit({
        ...common,
        threads,
        images_per_s: round(batchSize / secondsPerStep),
        ms_per_step: round(secondsPerStep * 1000, 1),
        replica_ms_last_step: started.lastStepMs.map((ms) => round(ms, 1)),
        scaling_vs_1_thread: round(batchSize / secondsPerStep / rates.get(1)!),
        load_average: loadAverage(),
        cores: os.cpus().length,
      });
    } catch (error) {
      log(`no ${threads}-thread measurement: ${(error as Error).message}`);
    } finally {
      await pool?.dispose();
      coordinator.dispose();
    }
  }

  // Embedding: h = f(x) of every image, no augmentation.
  const embedImages = randomImages(2048, sizePx, 2);
  const model = new SimclrTrainer(config);
  try {
    for (const count of threads > 1 ? [1, threads] : [1]) {
      const run = (): Promise<Float32Array> => (count === 1 ? computeEmbeddings(model.model.encoder, embedImages) : computeEmbeddingsParallel(model.model, embedImages, { threads: count }));
      await run();
      const started = performance.now();
      await run();
      const seconds = (performance.now() - started) / 1000;
      emit({ bench: 'embed', backend, arch, size_px: sizePx, threads: count, images: embedImages.count, images_per_s: round(embedImages.count / seconds, 1), load_average: loadAverage() });
    }
  } finally {
    model.dispose();
  }
  return rates;
}

async function main(): Promise<void> {
  const batchSize = Number(args.batch);
  const steps = Number(args.steps);
  const warmup = Number(args.warmup);
  const threads = args.threads !== undefined ? Number(args.threads) : defaultThreads();
  for (const backendName of args.backends.split(',') as BackendName[]) {
    let info;
    try {
      info = await initBackend(backendName);
    } catch (error) {
      log(`skipping ${backendName}: ${(error as Error).message}`);
      continue;
    }
    if (info.softwareDevice && !args['include-software-webgpu']) {
      log(`skipping ${backendName}: ${info.device} is a software adapter (pass --include-software-webgpu to measure it)`);
      continue;
    }
    for (const spec of args.configs.split(',')) {
      const [arch, size] = spec.split('@') as [ResNetArch, string | undefined];
      if (!RESNET_ARCHS.includes(arch)) throw new Error(`unknown arch in ${spec}`);
      const sizePx = Number(size ?? 32);
      if (info.backend === 'wasm' || info.backend === 'cpu') {
        const ours = await benchCpuBackend(info.backend, info.device, arch, sizePx, batchSize, threads, steps, warmup);
        if (args['no-reference'] || args['profile-only']) continue;
        for (const [count, rate] of ours) {
          const reference = torchReference(arch, sizePx, batchSize, count, steps, warmup);
          if (reference) emit({ bench: 'train-ratio', backend: info.backend, arch, size_px: sizePx, batch: batchSize, threads: count, ours_images_per_s: round(rate), pytorch_images_per_s: reference.images_per_s, ratio: round(rate / reference.images_per_s), load_average: loadAverage() });
        }
        continue;
      }
      // GPU backends compute on their own threads: one trainer.
      const images = randomImages(Math.max(256, batchSize * 2), sizePx, 1);
      const trainer = new SimclrTrainer(defaultTrainConfig({ arch, sizePx, batchSize, steps: 1000 }));
      try {
        const secondsPerStep = await timeSteps(() => trainer.trainStep(images), warmup, steps);
        emit({ bench: 'train', backend: info.backend, device: info.device, arch, size_px: sizePx, batch: batchSize, steps, threads: 1, images_per_s: round(batchSize / secondsPerStep), ms_per_step: round(secondsPerStep * 1000, 1), load_average: loadAverage() });
      } finally {
        trainer.dispose();
      }
    }
  }
}

await main();
