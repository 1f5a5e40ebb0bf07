/**
 * bench:train — throughput of a SimCLR training step (two augmented views per image, forward,
 * NT-Xent, backward, optimizer update) per available backend and model/size, counting each
 * source image once. One JSON line per configuration; the load average is included because on a
 * shared machine it says how much of the CPU the benchmark actually had.
 *
 *   npm run bench:train -- [--backends wasm,cpu] [--configs resnet-small@32,resnet18@32] [--batch 64]
 *                          [--steps 5] [--warmup 2] [--include-software-webgpu]
 * Default backends: every one that initialises (tensorflow, webgpu on a hardware adapter, wasm, cpu);
 * default configs: resnet-small@32 everywhere, resnet18@32 on tensorflow/webgpu/wasm.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../core/ml/backend.ts';
import { RESNET_ARCHS, type ResNetArch } from '../core/ml/choices.ts';
import { Random } from '../core/ml/random.ts';
import { SimclrTrainer, defaultTrainConfig, type TrainingImages } from '../core/ml/trainer.ts';

const { values: args } = parseArgs({
  options: {
    backends: { type: 'string' },
    configs: { type: 'string' },
    batch: { type: 'string', default: '64' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    'include-software-webgpu': { type: 'boolean', default: false },
  },
});

const log = (message: string): void => void process.stderr.write(`[train-bench] ${message}\n`);

function randomImages(count: number, sizePx: number, seed: number): TrainingImages {
  const random = new Random(seed);
  const pixels = new Uint8Array(count * sizePx * sizePx * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = random.int(256);
  return { count, sizePx, channels: 3, pixels };
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function main(): Promise<void> {
  const batchSize = Number(args.batch);
  const steps = Number(args.steps);
  const warmup = Number(args.warmup);
  const backends = (args.backends?.split(',') ?? ['tensorflow', 'webgpu', 'wasm', 'cpu']) as BackendName[];
  for (const backendName of backends) {
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
    const configs = args.configs?.split(',') ?? (backendName === 'cpu' ? ['resnet-small@32'] : ['resnet-small@32', 'resnet18@32']);
    for (const spec of configs) {
      const [arch, size] = spec.split('@') as [ResNetArch, string];
      if (!RESNET_ARCHS.includes(arch)) throw new Error(`unknown arch in ${spec}`);
      const sizePx = Number(size ?? 32);
      const images = randomImages(Math.max(256, batchSize * 2), sizePx, 1);
      const trainer = new SimclrTrainer(defaultTrainConfig({ arch, sizePx, batchSize, steps: warmup + steps + 1 }));
      try {
        for (let i = 0; i < warmup; i++) await trainer.trainStep(images);
        const load = os.loadavg()[0]!;
        const cpuBefore = cpuSeconds();
        const started = performance.now();
        for (let i = 0; i < steps; i++) await trainer.trainStep(images);
        const wallS = (performance.now() - started) / 1000;
        const cpuS = cpuSeconds() - cpuBefore;
        const record = {
          bench: 'train',
          backend: info.backend,
          device: info.device,
          arch,
          size_px: sizePx,
          batch: batchSize,
          parameters: trainer.model.encoder.parameters.count(),
          steps,
          images_per_s: Number(((steps * batchSize) / wallS).toFixed(2)),
          ms_per_step: Number(((wallS * 1000) / steps).toFixed(1)),
          // images per second of this process's own CPU time: what an otherwise idle core would give
          images_per_cpu_s: Number(((steps * batchSize) / cpuS).toFixed(2)),
          load_average: Number(load.toFixed(2)),
          cores: os.cpus().length,
          tensors: tf.memory().numTensors,
        };
        process.stdout.write(`${JSON.stringify(record)}\n`);
      } finally {
        trainer.dispose();
      }
    }
  }
}

await main();
