/**
 * `looktwice train` — SimCLR pretraining on the library's own images (no labels). Prints the
 * backend and device in use; with --json stdout is exactly
 * {"run","backend","device","steps","final_loss","images_per_s"}. Ctrl-C stops at the next step,
 * saves a checkpoint and exits 130; `--resume` continues from it.
 */
import { BACKEND_CHOICES, OPTIMIZERS, RESNET_ARCHS, parseBackendChoice, type OptimizerName, type ResNetArch } from '../../ml/choices.ts';
import type { TrainLibraryRequest } from '../../ml/train.service.ts';
import type { TrainConfig } from '../../ml/trainer.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, finiteNumber, parse, positiveInt, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  backend: { type: 'string' },
  arch: { type: 'string' },
  size: { type: 'string' },
  batch: { type: 'string' },
  epochs: { type: 'string' },
  steps: { type: 'string' },
  temperature: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'boolean', default: false },
} as const;

const USAGE = `usage: looktwice train [--db PATH] [--backend auto|tensorflow|webgpu|wasm|cpu] [--arch resnet18|resnet-small]
                       [--size PX] [--batch N] [--epochs N | --steps N] [--temperature T] [--optimizer adam|lars|sgd]
                       [--lr X] [--seed N] [--checkpoint-every N] [--resume] [--json]

Pretrains an image encoder on your library with SimCLR (two augmented views of each image, a ResNet
encoder, a projection head, the NT-Xent loss): no labels needed. Afterwards run \`looktwice embed\`.

  --backend B          ${BACKEND_CHOICES.join('|')} (default auto: the fastest available;
                       a software WebGPU adapter is skipped in favour of wasm)
  --arch A             ${RESNET_ARCHS.join('|')} (default resnet-small, sized for a CPU)
  --size PX            training resolution, square (default 32; the CIFAR stem is used up to 64)
  --batch N            images per step, two views each (default 64)
  --epochs N           passes over the library; or
  --steps N            optimizer steps (default 200)
  --temperature T      NT-Xent temperature τ (default 0.5)
  --optimizer O        ${OPTIMIZERS.join('|')} (default adam; lars for large batches on a GPU)
  --lr X               base learning rate (default per optimizer), linear warm-up then cosine decay
  --checkpoint-every N save a checkpoint every N steps (default 100; always on stop)
  --resume             continue the newest stopped run from its checkpoint
  --json               print exactly one JSON document:
                       {"run","backend","device","steps","final_loss","images_per_s"}

Exit status: 0 when training finished; 1 when it could not start; 130 when stopped by Ctrl-C
(a checkpoint is saved: run again with --resume).`;

export const trainCommand: Command = {
  name: 'train',
  summary: 'pretrain the image encoder on your library (SimCLR, no labels)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, OPTIONS, false);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.epochs !== undefined && values.steps !== undefined) throw new UsageError('give --epochs or --steps, not both');
    let backend;
    try {
      backend = parseBackendChoice(values.backend ?? 'auto');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const config: Partial<TrainConfig> = {};
    if (values.arch !== undefined) {
      if (!(RESNET_ARCHS as readonly string[]).includes(values.arch)) throw new UsageError(`--arch must be one of ${RESNET_ARCHS.join(', ')}, got "${values.arch}"`);
      config.arch = values.arch as ResNetArch;
    }
    if (values.optimizer !== undefined) {
      if (!(OPTIMIZERS as readonly string[]).includes(values.optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}, got "${values.optimizer}"`);
      config.optimizer = values.optimizer as OptimizerName;
    }
    if (values.size !== undefined) {
      config.sizePx = positiveInt('size', values.size, 32);
      if (config.sizePx < 8 || config.sizePx > 512) throw new UsageError('--size must be between 8 and 512 px');
    }
    if (values.batch !== undefined) config.batchSize = positiveInt('batch', values.batch, 64);
    if (values.steps !== undefined) config.steps = positiveInt('steps', values.steps, 200);
    if (values.temperature !== undefined) {
      config.temperature = finiteNumber('temperature', values.temperature, 0.5);
      if (config.temperature <= 0) throw new UsageError('--temperature must be positive');
    }
    if (values.lr !== undefined) {
      config.learningRate = finiteNumber('lr', values.lr, 1e-3);
      if (config.learningRate <= 0) throw new UsageError('--lr must be positive');
    }
    if (values.seed !== undefined) config.seed = positiveInt('seed', values.seed, 1);
    if (values['checkpoint-every'] !== undefined) config.checkpointEverySteps = positiveInt('checkpoint-every', values['checkpoint-every'], 100);
    const request: TrainLibraryRequest = { backend, config, resume: values.resume };
    if (values.epochs !== undefined) request.epochs = positiveInt('epochs', values.epochs, 1);

    const bar = new ProgressBar(io.stderr);
    // TensorFlow.js loads only when a command needs it (seconds), not for every CLI start.
    const { trainLibrary } = await import('../../ml/train.service.ts');
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const result = await trainLibrary(library, request, {
        signal: io.signal,
        onProgress: bar.update,
      });
      bar.done();
      io.stderr.write(`backend: ${result.backend.backend} · device: ${result.backend.device}\n`);
      for (const skipped of result.backend.skipped) io.stderr.write(`  (skipped ${skipped})\n`);
      for (const failure of result.failed) io.stderr.write(`  could not decode ${failure.path}: ${failure.reason}\n`);
      const summary = {
        run: result.run,
        backend: result.backend.backend,
        device: result.backend.device,
        steps: result.steps,
        final_loss: result.finalLoss,
        images_per_s: Number(result.imagesPerS.toFixed(2)),
      };
      if (values.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        io.stdout.write(
          `${result.stopped ? 'Stopped' : 'Trained'} run ${result.run} on ${result.images} images: ${result.steps} steps, final loss ${result.finalLoss?.toFixed(4) ?? '–'}, ${result.imagesPerS.toFixed(1)} images/s\n` +
            `backend ${result.backend.backend} on ${result.backend.device}\n` +
            (result.stopped ? 'Checkpoint saved: run `looktwice train --resume` to continue.\n' : 'Next: `looktwice embed`.\n'),
        );
      }
      return result.stopped ? 130 : 0;
    } finally {
      bar.done();
      library.close();
    }
  },
};
