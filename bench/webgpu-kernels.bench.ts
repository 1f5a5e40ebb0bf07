// Kernel time of tfjs-webgpu's stock conv backprop kernels against ours (core/ml/kernels/webgpu/) on
// ResNet-18's conv shapes (CIFAR stem, 32 px), on whatever adapter Dawn finds (lavapipe here, a real
// GPU in the kit). GPU time comes from timestamp queries (tf.profile kernelTimeMs); one JSON line per
// kernel × layer.
//
//   npm run bench:webgpu-kernels -- [--batch 4] [--repeats 3] [--size 32]
import * as tf from '@tensorflow/tfjs';
import { startDawnWebgpuBackend } from '../core/ml/kernels/webgpu/dawn-backend.ts';
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
async function measure(run: () => tf.Tensor): Promise<Timing> {
  const warm = run();
  await warm.data();
  warm.dispose();
  const kernel: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    let output: tf.Tensor | null = null;
    const profile = await tf.profile(() => {
      output = run();
      return output;
    });
    const result = output as tf.Tensor | null;
    if (result === null) throw new Error('kernel produced no output');
    await result.data();
    wall.push(performance.now() - start);
    result.dispose();
    kernel.push(profile.kernels.reduce((sum, k) => sum + Number(k.kernelTimeMs), 0));
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return { kernelMs: median(kernel), wallMs: median(wall) };
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

const info = await startDawnWebgpuBackend();
const backendName = 'webgpu';
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
    console.log(
      JSON.stringify({
        bench: 'webgpu-kernels',
        backend: backendName,
        adapter: info.adapterDescription,
        kernel,
        layer,
        x: xShape,
        filter: filterShape,
        stride,
        gflop: round(flops / 1e9, 4),
        ...Object.fromEntries(Object.entries(timings).flatMap(([name, t]) => [[`${name}_kernel_ms`, round(t.kernelMs)], [`${name}_wall_ms`, round(t.wallMs)]])),
        speedup_kernel: round(stockMs / oursMs, 2),
        looktwice_gflops: round(flops / 1e9 / (oursMs / 1000), 2),
      }),
    );
  }
  tf.dispose([x, filter, dy]);
}
