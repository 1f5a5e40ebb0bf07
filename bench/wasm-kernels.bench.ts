/**
 * bench:wasm-kernels — Looktwice's wasm training kernels against what they replaced, A/B
 * interleaved in one process (so machine load weighs on both alike), on the shapes of a SimCLR
 * step (resnet-small at 32 px, batch 64, two views: 128 images by default):
 *  - the batch-norm kernels (forward, gradient): the wasm SIMD kernels vs the scalar JavaScript loops;
 *  - Conv2DBackpropFilter per convolution: the SIMD kernel vs the XNNPACK convolution route;
 *  - Conv2DBackpropInput per convolution but the stem's: the SIMD kernel vs the previous routes
 *    (stride 1: XNNPACK's Conv2D on the rotated filter; stride 2: matrix product + col2im);
 *  - one optimizer update of the model (Adam, SGD, LARS): the fused kernels vs the separate ops;
 *  - the whole training step: every kernel off, those of the first round only (SIMD batch norm and
 *    filter gradient, the fused ReLU, the sharing Identity), and every one on (also the SIMD input
 *    gradient and the fused optimizer update).
 * Milliseconds are medians over --repeats; each JSON line carries /proc/loadavg.
 *
 *   npm run bench:wasm-kernels -- [--images 128] [--repeats 7] [--steps 3] [--only bn|conv|optimizer|step]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/ml/backend.ts';
import { batchNormTraining, setBatchNormReluFusion } from '../core/ml/batch-norm.ts';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../core/ml/kernels/batch-norm-training.ts';
import { useStockWasmKernel } from '../core/ml/kernels/wasm/index.ts';
import { setDirectInputGradient } from '../core/ml/kernels/wasm/conv2d-backprop-input.ts';
import { setFusedUpdates } from '../core/ml/kernels/wasm/optimizer-update.ts';
import { setSimdKernelsDisabled } from '../core/ml/kernels/wasm/simd-kernels.ts';
import { Random } from '../core/common/random.ts';
import { SimclrTrainer, defaultTrainConfig, type TrainingImages } from '../core/ml/trainer.ts';
import { SimclrModel } from '../core/ml/simclr-model.ts';
import { Optimizer, OPTIMIZERS } from '../core/ml/optimizer.ts';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '128' },
    repeats: { type: 'string', default: '7' },
    steps: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});

const emit = (record: object): void => void process.stdout.write(`${JSON.stringify(record)}\n`);
const loadAverage = (): string => fs.readFileSync('/proc/loadavg', 'utf8').trim();
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Median ms of `run` under each setting, the settings taking turns `repeats` times. */
function abTimes(settings: Array<() => void>, run: () => void, repeats: number): number[] {
  const times = settings.map(() => [] as number[]);
  for (let r = 0; r < repeats + 1; r++) {
    settings.forEach((apply, i) => {
      apply();
      const started = performance.now();
      run();
      if (r > 0) times[i]!.push(performance.now() - started); // the first round warms up
    });
  }
  return times.map(median);
}

function benchBatchNorm(images: number, repeats: number): void {
  const random = new Random(3);
  // resnet-small@32: [images, size, size, channels] of each batch norm, with the fused ReLU or not.
  const shapes: Array<[number[], boolean]> = [
    [[images, 32, 32, 16], true],
    [[images, 16, 16, 32], true],
    [[images, 8, 8, 64], false],
    [[images, 4, 4, 128], true],
  ];
  const simdOff = (): void => setSimdKernelsDisabled(true);
  const simdOn = (): void => setSimdKernelsDisabled(false);
  for (const [shape, relu] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const channels = shape.at(-1)!;
    const x = tf.tensor(Float32Array.from({ length: n }, () => random.normal()), shape);
    const dy = tf.tensor(Float32Array.from({ length: n }, () => random.normal()), shape);
    const scale = tf.ones([channels]);
    const offset = tf.zeros([channels]);
    const forward = (): void => tf.tidy(() => void batchNormTraining(x, scale, offset, 1e-5, relu).y.dataSync());
    // The gradient kernel alone, on the forward pass's saved statistics.
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAINING, { x, scale, offset }, { epsilon: 1e-5, relu }) as tf.Tensor[];
    const gradientInputs: tf.NamedTensorMap = relu ? { dy, x, y: y!, scale, mean: mean!, variance: variance! } : { dy, x, scale, mean: mean!, variance: variance! };
    const backward = (): void => {
      const outputs = tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, gradientInputs, { epsilon: 1e-5, relu }) as tf.Tensor[];
      outputs[0]!.dataSync();
      tf.dispose(outputs);
    };
    const [forwardScalar, forwardSimd] = abTimes([simdOff, simdOn], forward, repeats);
    const [stepScalar, stepSimd] = abTimes([simdOff, simdOn], backward, repeats);
    emit({
      bench: 'wasm-kernel',
      kernel: `batch-norm${relu ? '+relu' : ''}`,
      shape,
      forward_ms: { scalar: round(forwardScalar!), simd: round(forwardSimd!), speedup: round(forwardScalar! / forwardSimd!) },
      gradient_ms: { scalar: round(stepScalar!), simd: round(stepSimd!), speedup: round(stepScalar! / stepSimd!) },
      load_average: loadAverage(),
    });
    tf.dispose([x, dy, scale, offset, y!, mean!, variance!]);
  }
}

/** The convolutions of resnet-small at 32 px: input [size, size, Ci], Co, kernel, stride. */
const RESNET_SMALL_CONVS: Array<{ name: string; size: number; ci: number; co: number; k: number; stride: number }> = [
  { name: 'stem', size: 32, ci: 3, co: 16, k: 3, stride: 1 },
  { name: 'stage1 conv', size: 32, ci: 16, co: 16, k: 3, stride: 1 },
  { name: 'stage2 conv1', size: 32, ci: 16, co: 32, k: 3, stride: 2 },
  { name: 'stage2 conv2', size: 16, ci: 32, co: 32, k: 3, stride: 1 },
  { name: 'stage2 shortcut', size: 32, ci: 16, co: 32, k: 1, stride: 2 },
  { name: 'stage3 conv1', size: 16, ci: 32, co: 64, k: 3, stride: 2 },
  { name: 'stage3 conv2', size: 8, ci: 64, co: 64, k: 3, stride: 1 },
  { name: 'stage4 conv1', size: 8, ci: 64, co: 128, k: 3, stride: 2 },
  { name: 'stage4 conv2', size: 4, ci: 128, co: 128, k: 3, stride: 1 },
];

/** Emits one conv kernel's A/B times (ms) and throughput for `gflop` of work per run. */
function emitConvTimes(kernel: string, conv: string, shape: object, gflop: number, [nameA, msA]: [string, number], [nameB, msB]: [string, number]): void {
  emit({
    bench: 'wasm-kernel',
    kernel,
    conv,
    shape,
    ms: { [nameA]: round(msA), [nameB]: round(msB), speedup: round(msA / msB) },
    gflop_per_s: { [nameA]: round(gflop / (msA / 1000), 1), [nameB]: round(gflop / (msB / 1000), 1) },
    load_average: loadAverage(),
  });
}

function benchConvolutions(images: number, repeats: number): void {
  const random = new Random(4);
  const simdOff = (): void => setSimdKernelsDisabled(true);
  const simdOn = (): void => setSimdKernelsDisabled(false);
  for (const conv of RESNET_SMALL_CONVS) {
    const out = Math.ceil(conv.size / conv.stride);
    const x = tf.tensor4d(Float32Array.from({ length: images * conv.size * conv.size * conv.ci }, () => random.normal()), [images, conv.size, conv.size, conv.ci]);
    const dy = tf.tensor4d(Float32Array.from({ length: images * out * out * conv.co }, () => random.normal()), [images, out, out, conv.co]);
    const attrs = { strides: [conv.stride, conv.stride], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [conv.k, conv.k, conv.ci, conv.co] };
    const filterGradient = (): void => {
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      dw.dataSync();
      dw.dispose();
    };
    const [xnnpack, simd] = abTimes([simdOff, simdOn], filterGradient, repeats);
    const gflop = (2 * images * out * out * conv.k * conv.k * conv.ci * conv.co) / 1e9;
    emitConvTimes('Conv2DBackpropFilter', conv.name, { x: x.shape, dy: dy.shape, k: conv.k, stride: conv.stride }, gflop, ['xnnpack_conv', xnnpack!], ['simd', simd!]);
    if (conv.name !== 'stem') {
      const filter = tf.tensor4d(Float32Array.from({ length: conv.k * conv.k * conv.ci * conv.co }, () => random.normal()), [conv.k, conv.k, conv.ci, conv.co]);
      const inputAttrs = { ...attrs, inputShape: x.shape };
      const inputGradient = (): void => {
        // The wasm backend runs kernels synchronously; no read-back (a training step has none either).
        (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, inputAttrs as unknown as tf.NamedAttrMap) as tf.Tensor).dispose();
      };
      const previous = (): void => {
        setSimdKernelsDisabled(true);
        setDirectInputGradient(false);
      };
      const direct = (): void => {
        setSimdKernelsDisabled(false);
        setDirectInputGradient(true);
      };
      const [before, after] = abTimes([previous, direct], inputGradient, repeats);
      emitConvTimes('Conv2DBackpropInput', conv.name, { dy: dy.shape, dx: x.shape, k: conv.k, stride: conv.stride }, gflop, ['previous', before!], ['simd', after!]);
      filter.dispose();
    }
    tf.dispose([x, dy]);
  }
}

/** One optimizer update of every resnet-small parameter (and the head): fused kernels vs separate ops. */
function benchOptimizer(repeats: number): void {
  const model = new SimclrModel({ arch: 'resnet-small', sizePx: 32, channels: 3, seed: 1 });
  const parameters = model.parameters().filter((p) => p.variable.trainable);
  const random = new Random(5);
  const gradients: tf.NamedTensorMap = {};
  for (const p of parameters) gradients[p.variable.name] = tf.tensor(Float32Array.from({ length: p.variable.size }, () => random.normal() * 1e-3), p.variable.shape);
  for (const name of OPTIMIZERS) {
    const optimizer = new Optimizer(parameters, { name, weightDecay: 1e-6 });
    const [separate, fused] = abTimes([() => setFusedUpdates(false), () => setFusedUpdates(true)], () => optimizer.step(gradients, 1e-4), repeats);
    emit({
      bench: 'wasm-kernel',
      kernel: `optimizer ${name}`,
      parameters: parameters.reduce((n, p) => n + p.variable.size, 0),
      ms: { separate_ops: round(separate!), fused: round(fused!), speedup: round(separate! / fused!) },
      load_average: loadAverage(),
    });
    optimizer.dispose();
  }
  setFusedUpdates(true);
  tf.dispose(Object.values(gradients));
  model.dispose();
}

async function benchStep(images: number, steps: number): Promise<void> {
  const random = new Random(1);
  const count = 256;
  const pixels = new Uint8Array(count * 32 * 32 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = random.int(256);
  const data: TrainingImages = { count, sizePx: 32, channels: 3, pixels };
  const trainer = new SimclrTrainer(defaultTrainConfig({ arch: 'resnet-small', sizePx: 32, batchSize: images / 2, steps: 1000 }));
  // before: none of the project's wasm kernels; round1: those of the first round (batch norm,
  // filter gradient, Identity), the input gradient on its previous routes and the optimizer in
  // separate ops; after: every one.
  const round2 = (on: boolean): void => {
    setDirectInputGradient(on);
    setFusedUpdates(on);
  };
  const settings: Record<string, () => void> = {
    before: () => {
      setSimdKernelsDisabled(true);
      setBatchNormReluFusion(false);
      useStockWasmKernel('Identity', true);
      round2(false);
    },
    round1: () => {
      setSimdKernelsDisabled(false);
      setBatchNormReluFusion(true);
      useStockWasmKernel('Identity', false);
      round2(false);
    },
    after: () => {
      setSimdKernelsDisabled(false);
      setBatchNormReluFusion(true);
      useStockWasmKernel('Identity', false);
      round2(true);
    },
  };
  const times: Record<string, number[]> = { before: [], round1: [], after: [] };
  try {
    for (let r = 0; r < steps + 1; r++) {
      for (const [name, apply] of Object.entries(settings)) {
        apply();
        const started = performance.now();
        await trainer.trainStep(data);
        if (r > 0) times[name]!.push(performance.now() - started);
      }
    }
  } finally {
    settings.after!();
    trainer.dispose();
  }
  const before = median(times.before!);
  const round1 = median(times.round1!);
  const after = median(times.after!);
  emit({
    bench: 'wasm-step',
    arch: 'resnet-small',
    size_px: 32,
    batch: images / 2,
    ms_per_step: { before: round(before, 1), round1: round(round1, 1), after: round(after, 1), speedup: round(before / after), speedup_over_round1: round(round1 / after) },
    images_per_s: { before: round((images / 2) / (before / 1000)), round1: round((images / 2) / (round1 / 1000)), after: round((images / 2) / (after / 1000)) },
    load_average: loadAverage(),
  });
}

await initBackend('wasm');
const images = Number(args.images);
if (!args.only || args.only === 'bn') benchBatchNorm(images, Number(args.repeats));
if (!args.only || args.only === 'conv') benchConvolutions(images, Number(args.repeats));
if (!args.only || args.only === 'optimizer') benchOptimizer(Number(args.repeats));
if (!args.only || args.only === 'step') await benchStep(images, Number(args.steps));
