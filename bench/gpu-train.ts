// SimCLR training and embedding throughput on tfjs-webgpu (Dawn), the same step as a PyTorch
// SimCLR reference (torchvision-style): ResNet-18 (CIFAR stem at ≤ 64 px) + projection head
// 512-2048-128 + NT-Xent (τ = 0.5) on 2N random views of N source images, SGD momentum 0.9, lr 0.1;
// train img/s counts each source image once (N per step); embedding is the encoder alone, eval mode,
// on batches of 1,024. It runs the step once per kernel configuration in one process, so the ratio
// "ours vs stock" is measured on the same GPU and model:
//   stock   tfjs-backend-webgpu 4.22's own kernels
//   filter  + our Conv2DBackpropFilter (core/ml/kernels/webgpu/conv2d-backprop-filter.ts)
//   conv    + our Conv2DBackpropInput too
//   all     every custom kernel: also per-channel Sum/Mean and webgpu versions of core/ml's fused
//           training batch norm (batch-norm.ts takes its fused path when they are registered)
// and prints one JSON line per configuration, with a tf.profile of one step (GPU ms per kernel from
// timestamp queries, dispatch count, wall ms) to see where time goes.
//
// Local (lavapipe, tiny): node bin/run-ts.mjs bench/gpu-train.ts --batch 4 --steps 1 --warmup 1 --embed-batch 8 --embed-repeats 1
// GPU machine: run it as one esbuild bundle with `webgpu` kept external (core/ml/kernels/webgpu/README.md),
// so it must not import native modules other than `webgpu`.
import * as tf from '@tensorflow/tfjs';
import { startDawnWebgpuBackend } from '../core/ml/kernels/webgpu/dawn-backend.ts';
import { CUSTOM_WEBGPU_KERNELS, registerWebgpuKernels, restoreStockWebgpuKernels } from '../core/ml/kernels/webgpu/index.ts';
import { applyStatisticsUpdates, type StatisticsUpdate } from '../core/ml/layers.ts';
import { ntXentLoss } from '../core/ml/nt-xent.ts';
import { Optimizer } from '../core/ml/optimizer.ts';
import { ProjectionHead } from '../core/ml/projection-head.ts';
import { Random } from '../core/common/random.ts';
import { ResNet, resnetConfig, type ResNetArch } from '../core/ml/resnet.ts';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}
function positive(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const sizePx = positive('size', 32);
const batch = positive('batch', 256);
const steps = positive('steps', 5);
const warmupSteps = positive('warmup', 2);
const embedBatch = positive('embed-batch', 1024);
const embedRepeats = positive('embed-repeats', 10);
const arch = option('arch', 'resnet18') as ResNetArch;
const configs = option('configs', 'stock,filter,conv,all').split(',');
const profileStep = option('profile', '1') !== '0';
const submitBatch = option('submit-batch', '');

const KERNEL_SETS: Record<string, string[]> = {
  stock: [],
  filter: ['Conv2DBackpropFilter'],
  conv: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
  all: [...CUSTOM_WEBGPU_KERNELS],
};

const info = await startDawnWebgpuBackend();
tf.enableProdMode();
if (submitBatch !== '') tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(submitBatch));

const random = new Random(1);
const encoder = new ResNet(resnetConfig(arch, sizePx), random);
const head = new ProjectionHead(encoder.featureDim, random, 2048, 128);
const parameters = [...encoder.parameters.trainable(), ...head.parameters.trainable()];
const optimizer = new Optimizer(parameters, { name: 'sgd', weightDecay: 0, momentum: 0.9 });
const trainable = parameters.map((p) => p.variable);
const views = tf.randomNormal([2 * batch, sizePx, sizePx, 3]) as tf.Tensor4D; // [2N, S, S, 3]: view 1 rows then view 2 rows

/** One SimCLR step; returns the loss (caller disposes). */
function trainStep(): tf.Scalar {
  const updates: StatisticsUpdate[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const h = encoder.forward(views, true, updates); // [2N, 512]
    const z = head.forward(h, true, updates); // [2N, 128]
    const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    return ntXentLoss(z1, z2, 0.5);
  }, trainable);
  optimizer.step(grads, 0.1);
  tf.dispose(grads);
  applyStatisticsUpdates(updates);
  return value;
}

async function timeTraining(): Promise<{ trainImagesPerS: number; stepMs: number; loss: number }> {
  for (let i = 0; i < warmupSteps; i++) {
    const loss = trainStep();
    await loss.data();
    loss.dispose();
  }
  const start = performance.now();
  let last: tf.Scalar | null = null;
  for (let i = 0; i < steps; i++) {
    last?.dispose();
    last = trainStep();
  }
  const loss = last === null ? Number.NaN : ((await last.data())[0] ?? Number.NaN);
  const seconds = (performance.now() - start) / 1000;
  last?.dispose();
  return { trainImagesPerS: (batch * steps) / seconds, stepMs: (seconds * 1000) / steps, loss };
}

/** GPU time per kernel (timestamp queries), dispatch count and wall time of one call of `run`. */
async function profileOnce(run: () => tf.Tensor): Promise<Record<string, unknown>> {
  const start = performance.now();
  let output: tf.Tensor | null = null;
  const profile = await tf.profile(() => {
    output = run();
    return output;
  });
  const result = output as tf.Tensor | null;
  if (result !== null) {
    await result.data();
    result.dispose();
  }
  const wallMs = performance.now() - start;
  const byKernel = new Map<string, { ms: number; count: number }>();
  for (const kernel of profile.kernels) {
    const entry = byKernel.get(kernel.name) ?? { ms: 0, count: 0 };
    entry.ms += Number(kernel.kernelTimeMs);
    entry.count += 1;
    byKernel.set(kernel.name, entry);
  }
  const gpuMs = [...byKernel.values()].reduce((sum, e) => sum + e.ms, 0);
  const top = [...byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 12)
    .map(([name, e]) => ({ kernel: name, ms: Number(e.ms.toFixed(2)), count: e.count }));
  return { gpu_ms: Number(gpuMs.toFixed(1)), kernels: profile.kernels.length, profiled_wall_ms: Number(wallMs.toFixed(1)), top };
}

async function timeEmbedding(): Promise<{ imagesPerS: number; profile: Record<string, unknown> | null }> {
  const images = tf.randomNormal([embedBatch, sizePx, sizePx, 3]) as tf.Tensor4D;
  for (let i = 0; i < 3; i++) {
    const h = tf.tidy(() => encoder.forward(images, false));
    await h.data();
    h.dispose();
  }
  const start = performance.now();
  let last: tf.Tensor | null = null;
  for (let i = 0; i < embedRepeats; i++) {
    last?.dispose();
    last = tf.tidy(() => encoder.forward(images, false));
  }
  if (last !== null) await last.data();
  const seconds = (performance.now() - start) / 1000;
  last?.dispose();
  const profile = profileStep ? await profileOnce(() => tf.tidy(() => encoder.forward(images, false))) : null;
  images.dispose();
  return { imagesPerS: (embedBatch * embedRepeats) / seconds, profile };
}

let embedding: { imagesPerS: number; profile: Record<string, unknown> | null } | null = null;
for (const config of configs) {
  const kernels = KERNEL_SETS[config];
  if (kernels === undefined) throw new Error(`--configs: unknown configuration ${config} (${Object.keys(KERNEL_SETS).join(', ')})`);
  restoreStockWebgpuKernels();
  if (kernels.length > 0) registerWebgpuKernels(kernels);
  const training = await timeTraining();
  const profile = profileStep ? await profileOnce(trainStep) : null;
  // The encoder's inference forward pass uses none of the custom kernels yet: measure it once.
  const embedProfileNeeded = embedding === null;
  embedding ??= await timeEmbedding();
  console.log(
    JSON.stringify({
      bench: 'gpu-train',
      backend: 'webgpu',
      adapter: info.adapterDescription,
      kernels: config,
      arch,
      res: sizePx,
      batch,
      steps,
      train_img_s: Number(training.trainImagesPerS.toFixed(1)),
      step_ms: Number(training.stepMs.toFixed(1)),
      embed_img_s: Number(embedding.imagesPerS.toFixed(1)),
      loss: Number(training.loss.toFixed(4)),
      tensors: tf.memory().numTensors,
      profile,
      ...(embedProfileNeeded ? { embed_batch: embedBatch, embed_profile: embedding.profile } : {}),
    }),
  );
}
