// Kernel time of tfjs-webgpu's stock conv backprop kernels against ours (core/ml/kernels/webgpu/) on
// ResNet-18's conv shapes (CIFAR stem, 32 px), on whatever adapter Dawn finds (lavapipe here, a real
// GPU in the kit). GPU time comes from timestamp queries (tf.profile kernelTimeMs); one JSON line per
// kernel × layer. Also: per-channel Sum over N·H·W (stock transpose + reduce vs our column reduction)
// and training batch norm + ReLU forward and backward (tfjs's generic ops vs our fused op), per stage.
//
//   npm run bench:webgpu-kernels -- [--batch 4] [--repeats 3] [--size 32]
import * as tf from '@tensorflow/tfjs';
import { startDawnWebgpuBackend } from '../core/ml/kernels/webgpu/dawn-backend.ts';
import { batchNormReluTraining } from '../core/ml/kernels/webgpu/batch-norm-relu.ts';
import { registerWebgpuKernels, restoreStockWebgpuKernels } from '../core/ml/kernels/webgpu/index.ts';

type Shape4 = [number, number, number, number];

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const batch = option('batch', 4);
const repeats = option('repeats', 3);
const sizePx = option('size', 32);

/** ResNet-18 (CIFAR stem) convolutions at `sizePx`: input shape, filter shape, stride. */
function resnet18Layers(): Array<{ layer: string; x: Shape4; filter: Shape4; stride: number }> {
  const s = sizePx;
  return [
    { layer: 'stem 3x3 3→64', x: [batch, s, s, 3], filter: [3, 3, 3, 64], stride: 1 },
    { layer: 'stage1 3x3 64→64', x: [batch, s, s, 64], filter: [3, 3, 64, 64], stride: 1 },
    { layer: 'stage2 3x3/2 64→128', x: [batch, s, s, 64], filter: [3, 3, 64, 128], stride: 2 },
    { layer: 'stage2 1x1/2 64→128', x: [batch, s, s, 64], filter: [1, 1, 64, 128], stride: 2 },
    { layer: 'stage2 3x3 128→128', x: [batch, s / 2, s / 2, 128], filter: [3, 3, 128, 128], stride: 1 },
    { layer: 'stage3 3x3 256→256', x: [batch, s / 4, s / 4, 256], filter: [3, 3, 256, 256], stride: 1 },
    { layer: 'stage4 3x3 512→512', x: [batch, s / 8, s / 8, 512], filter: [3, 3, 512, 512], stride: 1 },
  ];
}

interface Timing {
  kernelMs: number;
  wallMs: number;
}

/** Median GPU and wall time of `run` over `repeats` runs, after one warm-up (shader compile). */
async function measure(run: () => tf.Tensor | tf.Tensor[]): Promise<Timing> {
  const warm = [run()].flat();
  await Promise.all(warm.map((t) => t.data()));
  tf.dispose(warm);
  const kernel: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    let outputs: tf.Tensor[] = [];
    const profile = await tf.profile(() => {
      outputs = [run()].flat();
      return outputs;
    });
    await Promise.all(outputs.map((t) => t.data()));
    wall.push(performance.now() - start);
    tf.dispose(outputs);
    kernel.push(profile.kernels.reduce((sum, k) => sum + Number(k.kernelTimeMs), 0));
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return { kernelMs: median(kernel), wallMs: median(wall) };
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

const info = await startDawnWebgpuBackend();
const backendName = 'webgpu';

/** Prints one result line: which kernel on which layer and input shape, then `fields`. */
function printResult(kernel: string, layer: string, x: readonly number[], fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: 'webgpu-kernels', backend: backendName, adapter: info.adapterDescription, kernel, layer, x, ...fields }));
}

/** `<name>_kernel_ms` and `<name>_wall_ms` for each named timing, in order. */
function timingFields(timings: Record<string, Timing>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).flatMap(([name, t]) => [[`${name}_kernel_ms`, round(t.kernelMs)], [`${name}_wall_ms`, round(t.wallMs)]]));
}
for (const { layer, x: xShape, filter: filterShape, stride } of resnet18Layers()) {
  const x = tf.randomNormal(xShape) as tf.Tensor4D;
  const filter = tf.randomNormal(filterShape) as tf.Tensor4D;
  const dy = tf.tidy(() => tf.randomNormal(tf.conv2d(x, filter, stride, 'same').shape)) as tf.Tensor4D;
  const flops = 2 * dy.size * filterShape[0] * filterShape[1] * filterShape[2];
  const filterGradient = (): tf.Tensor =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape }) as tf.Tensor;
  const inputGradient = (): tf.Tensor =>
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: stride, pad: 'same', dataFormat: 'NHWC', inputShape: xShape }) as tf.Tensor;

  for (const [kernel, run] of [['Conv2DBackpropFilter', filterGradient], ['Conv2DBackpropInput', inputGradient]] as const) {
    const timings: Record<string, Timing> = {};
    restoreStockWebgpuKernels();
    timings.stock = await measure(run);
    if (kernel === 'Conv2DBackpropInput') {
      // tfjs also ships a matmul-based dx kernel, off by default: worth knowing how it compares.
      tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
      timings.stock_mm = await measure(run);
      tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', true);
    }
    registerWebgpuKernels();
    timings.looktwice = await measure(run);
    const stockMs = timings.stock.kernelMs;
    const oursMs = timings.looktwice.kernelMs;
    printResult(kernel, layer, xShape, {
      filter: filterShape,
      stride,
      gflop: round(flops / 1e9, 4),
      ...timingFields(timings),
      speedup_kernel: round(stockMs / oursMs, 2),
      looktwice_gflops: round(flops / 1e9 / (oursMs / 1000), 2),
    });
  }
  tf.dispose([x, filter, dy]);
}

// Per-channel reductions and batch norm + ReLU on each stage's activation [batch, S, S, C].
const stages: Array<[string, Shape4]> = [
  ['stage1', [batch, sizePx, sizePx, 64]],
  ['stage2', [batch, sizePx / 2, sizePx / 2, 128]],
  ['stage3', [batch, sizePx / 4, sizePx / 4, 256]],
  ['stage4', [batch, sizePx / 8, sizePx / 8, 512]],
];
for (const [layer, shape] of stages) {
  const x = tf.randomNormal(shape);
  const dy = tf.randomNormal(shape);
  const channels = shape[3];
  const scale = tf.randomUniform([channels], 0.5, 1.5);
  const offset = tf.randomNormal([channels]);
  const channelSum = (): tf.Tensor => tf.sum(x, [0, 1, 2]);
  // Forward and backward of y = relu(bn(x)) for the upstream gradient dy, as one step would.
  const batchNormStep = (): tf.Tensor[] =>
    tf.tidy(() => {
      const gradients = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(batchNormReluTraining(a, b, c, 1e-5, true).y, dy)),
      )([x, scale, offset]);
      return gradients;
    });
  for (const [kernel, run] of [['Sum over N,H,W', channelSum], ['BatchNorm+ReLU fwd+bwd', batchNormStep]] as const) {
    restoreStockWebgpuKernels();
    const stock = await measure(run);
    registerWebgpuKernels();
    const ours = await measure(run);
    printResult(kernel, layer, shape, { ...timingFields({ stock, looktwice: ours }), speedup_kernel: round(stock.kernelMs / ours.kernelMs, 2) });
  }
  tf.dispose([x, dy, scale, offset]);
}
