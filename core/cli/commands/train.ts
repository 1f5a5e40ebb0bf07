/**
 * `looktwice train` — SimCLR pretraining on the library's own images (no labels). Prints the
 * backend and device in use; with --json stdout is exactly
 * {"run","backend","device","steps","final_loss","images_per_s","gauge"} (gauge: the last
 * reading of the label-free quality gauge, or null on a library under 160 images). Ctrl-C stops at the next step,
 * saves a checkpoint and exits 130; `--resume` continues from it.
 */
import { BACKEND_CHOICES, OPTIMIZERS, RESNET_ARCHS } from '../../ml/choices.ts';
import { openLibrary } from '../../store/db.ts';
import { trainOptionsSchema } from '../../app/schemas.ts';
import { resumeRun, trainNewRun } from '../../app/training.ts';
import { loadInProcessMl } from '../../app/ml.ts';
import { formatSeconds } from '../../app/format-seconds.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

/** Option → field of trainOptionsSchema (the API's TrainOptions: one set of limits). */
export const TRAIN_FLAGS = {
  backend: 'backend', arch: 'arch', size: 'sizePx', batch: 'batchSize', epochs: 'epochs', steps: 'steps', temperature: 'temperature',
  optimizer: 'optimizer', lr: 'learningRate', seed: 'seed', 'checkpoint-every': 'checkpointEverySteps',
  threads: 'threads',
} as const;

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
  threads: { type: 'string' },
  resume: { type: 'boolean', default: false },
} as const;

const USAGE = `usage: looktwice train [--db PATH] [--backend auto|tensorflow|webgpu|wasm|cpu] [--arch resnet18|resnet-small]
                       [--size PX] [--batch N] [--epochs N | --steps N] [--temperature T] [--optimizer adam|lars|sgd]
                       [--lr X] [--seed N] [--checkpoint-every N] [--threads N] [--resume] [--json]

Pretrains an image encoder on your library with SimCLR (two augmented views of each image, a ResNet
encoder, a projection head, the NT-Xent loss): no labels needed. Afterwards run \`looktwice embed\`.

Options left out come from a budget sized to the device found (printed before training starts:
on a CPU resnet-small at 32 px, batch 64; on a GPU resnet18 at 64 px, batch 256; steps to fit
about 10–30 minutes).

  --backend B          ${BACKEND_CHOICES.join('|')} (default auto: the fastest available;
                       a software WebGPU adapter is skipped in favour of wasm)
  --arch A             ${RESNET_ARCHS.join('|')}
  --size PX            training resolution, square, a multiple of 8 from 8 to 512 (the CIFAR
                       stem is used up to 64)
  --batch N            images per step, two views each (at least 2)
  --epochs N           passes over the library; or
  --steps N            optimizer steps
  --temperature T      NT-Xent temperature τ (default 0.5)
  --optimizer O        ${OPTIMIZERS.join('|')} (default adam; lars for large batches on a GPU)
  --lr X               base learning rate (default per optimizer), linear warm-up then cosine decay
  --checkpoint-every N save a checkpoint every N steps (default 100; always on stop)
  --threads N          training threads, each with its own copy of the model (default: one per
                       core, or LOOKTWICE_THREADS); any count trains the same model
  --resume             continue the newest stopped run from its checkpoint
  --json               print exactly one JSON document:
                       {"run","backend","device","steps","final_loss","images_per_s","gauge"}
                       gauge: {"step","top1","alignment","uniformity","pixels_top1","held_out",
                       "stopped_helping"} — held-out contrastive top-1 of the model against raw
                       pixels, Wang & Isola alignment/uniformity, and whether more training
                       stopped helping; null under 160 images (10 % are held out for it)

Exit status: 0 when training finished; 1 when it could not start; 130 when stopped by Ctrl-C
(a checkpoint is saved: run again with --resume).`;

export const trainCommand: Command = {
  name: 'train',
  summary: 'pretrain the image encoder on your library (SimCLR, no labels)',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parse(argv, OPTIONS, false);
    const options = optionsOnto(trainOptionsSchema, values, TRAIN_FLAGS);
    const bar = new ProgressBar(io.stderr);
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const hooks = {
        signal: io.signal,
        onProgress: bar.update,
        onPlan: (plan: { options: { arch: string; sizePx: number; steps: number; batchSize: number }; backend: string; device: string; estimatedSeconds: number | null }) =>
          io.stderr.write(`Training ${plan.options.arch} at ${plan.options.sizePx} px for ${plan.options.steps} steps (batch ${plan.options.batchSize}) on ${plan.backend} (${plan.device}); about ${formatSeconds(plan.estimatedSeconds)}.\n`),
      };
      // TensorFlow.js loads only when a command needs it (seconds), not for every CLI start.
      const result = values.resume
        ? await resumeRun(library, loadInProcessMl, { backend: options.backend, threads: options.threads }, hooks)
        : await trainNewRun(library, loadInProcessMl, options, hooks);
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
        gauge: result.gauge
          ? {
              step: result.gauge.step,
              top1: Number(result.gauge.top1.toFixed(4)),
              alignment: Number(result.gauge.alignment.toFixed(4)),
              uniformity: Number(result.gauge.uniformity.toFixed(4)),
              pixels_top1: Number(result.gauge.pixelsTop1.toFixed(4)),
              held_out: result.gauge.heldOut,
              stopped_helping: result.gauge.stoppedHelping,
            }
          : null,
      };
      if (values.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        io.stdout.write(
          `${result.stopped ? 'Stopped' : 'Trained'} run ${result.run} on ${result.images} images: ${result.steps} steps, final loss ${result.finalLoss?.toFixed(4) ?? '–'}, ${result.imagesPerS.toFixed(1)} images/s\n` +
            `backend ${result.backend.backend} on ${result.backend.device}\n` +
            (result.gauge
              ? `quality gauge: held-out match ${(result.gauge.top1 * 100).toFixed(1)} % (raw pixels ${(result.gauge.pixelsTop1 * 100).toFixed(1)} %)${result.gauge.stoppedHelping ? '; more training stopped helping' : ''}\n`
              : '') +
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
