/**
 * SimCLR's data augmentation (Chen et al. 2020, §3 and appendix A), as tensor ops on the active
 * backend over a batch of cached uint8 images; the random parameters come from a seeded Random, so
 * the same seed gives the same views on every backend and a resumed run continues the sequence.
 *
 * Per view: random resized crop (area 0.08–1 of the image, aspect 3/4–4/3) resized back to the
 * training size, horizontal flip (p = 0.5, folded into the crop box); colour distortion with
 * strength s applied with p = 0.8 — brightness, contrast, saturation (each a factor in
 * [1 − 0.8s, 1 + 0.8s]) and hue (a rotation by up to ±0.2s of a turn, in YIQ space), in this fixed
 * order rather than the paper's random order; random grayscale (p = 0.2); Gaussian blur (p = 0.5,
 * σ ∈ [0.1, 2], kernel 10 % of the side) only at ≥ 96 px, as the paper omits it for CIFAR.
 * Output pixels are in [0, 1] minus 0.5.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../common/random.ts';

export interface AugmentOptions {
  /** Colour distortion strength s (the paper uses 1.0 on ImageNet, 0.5 on CIFAR-10). */
  colorStrength: number;
  /** Random resized crop: smallest fraction of the image area kept. */
  minCropArea: number;
  /** Probability of applying colour jitter. */
  jitterProbability: number;
  /** Probability of converting to grayscale (RGB inputs only). */
  grayscaleProbability: number;
  /** Probability of Gaussian blur; only applied when the view is at least `blurMinSizePx`. */
  blurProbability: number;
  blurMinSizePx: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = {
  colorStrength: 0.5,
  minCropArea: 0.08,
  jitterProbability: 0.8,
  grayscaleProbability: 0.2,
  blurProbability: 0.5,
  blurMinSizePx: 96,
};

/** ITU-R BT.601 luma weights, as in tf.image.rgb_to_grayscale and torchvision. */
const LUMA = [0.299, 0.587, 0.114] as const;

type Matrix3 = [number, number, number, number, number, number, number, number, number];

function multiply3(a: Matrix3, b: Matrix3): Matrix3 {
  const out = new Array<number>(9).fill(0) as Matrix3;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c] = out[r * 3 + c]! + a[r * 3 + k]! * b[k * 3 + c]!;
  return out;
}

const IDENTITY: Matrix3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** By value, not reference: view parameters may have been copied to another thread. */
const isIdentity = (m: Matrix3): boolean => m.every((value, i) => value === IDENTITY[i]);

/** Saturation as a linear map: gray + s·(x − gray). Acts on row vectors (x·M). */
function saturationMatrix(s: number): Matrix3 {
  const m = new Array<number>(9).fill(0) as Matrix3;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) m[r * 3 + c] = (1 - s) * LUMA[r]! + (r === c ? s : 0);
  return m;
}

/** Hue rotation by `turns` of a full circle in YIQ space, as a linear map on RGB row vectors. */
function hueMatrix(turns: number): Matrix3 {
  const angle = turns * 2 * Math.PI;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // Column-vector matrices: T (RGB→YIQ), R (rotate I,Q), Tinv (YIQ→RGB); row-vector form is (Tinv·R·T)ᵀ.
  const t = [0.299, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312];
  const tInv = [1, 0.956, 0.621, 1, -0.272, -0.647, 1, -1.106, 1.703];
  const rotate = [1, 0, 0, 0, cos, -sin, 0, sin, cos];
  const columnForm = multiply3(multiply3(tInv as Matrix3, rotate as Matrix3), t as Matrix3);
  const rowForm = new Array<number>(9) as Matrix3;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) rowForm[r * 3 + c] = columnForm[c * 3 + r]!;
  return rowForm;
}

function grayscaleMatrix(): Matrix3 {
  const m = new Array<number>(9) as Matrix3;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) m[r * 3 + c] = LUMA[r]!;
  return m;
}

/** Random parameters of one view (plain data: a data-parallel step sends them to its replicas). */
export interface ViewParameters {
  box: [number, number, number, number]; // y1, x1, y2, x2 (x1 > x2 means flipped)
  brightness: number;
  contrast: number;
  colorMatrix: Matrix3;
  blurSigma: number; // 0 = no blur
}

function drawView(random: Random, sizePx: number, channels: number, options: AugmentOptions): ViewParameters {
  // Random resized crop (Szegedy et al. 2015 "Inception" crop), as torchvision: up to 10 tries, then the whole image.
  let box: [number, number, number, number] = [0, 0, 1, 1];
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = random.uniform(options.minCropArea, 1);
    const aspect = Math.exp(random.uniform(Math.log(3 / 4), Math.log(4 / 3)));
    const width = Math.sqrt(area * aspect);
    const height = Math.sqrt(area / aspect);
    if (width <= 1 && height <= 1) {
      const top = random.uniform(0, 1 - height);
      const left = random.uniform(0, 1 - width);
      box = [top, left, top + height, left + width];
      break;
    }
  }
  if (random.chance(0.5)) box = [box[0], box[3], box[2], box[1]];
  const s = options.colorStrength;
  let brightness = 1;
  let contrast = 1;
  let colorMatrix = IDENTITY;
  if (random.chance(options.jitterProbability)) {
    brightness = random.uniform(Math.max(0, 1 - 0.8 * s), 1 + 0.8 * s);
    contrast = random.uniform(Math.max(0, 1 - 0.8 * s), 1 + 0.8 * s);
    const saturation = random.uniform(Math.max(0, 1 - 0.8 * s), 1 + 0.8 * s);
    const hue = random.uniform(-0.2 * s, 0.2 * s);
    if (channels === 3) colorMatrix = multiply3(saturationMatrix(saturation), hueMatrix(hue));
  }
  if (random.chance(options.grayscaleProbability) && channels === 3) colorMatrix = multiply3(colorMatrix, grayscaleMatrix());
  const blur = sizePx >= options.blurMinSizePx && random.chance(options.blurProbability);
  const blurSigma = blur ? random.uniform(0.1, 2.0) : 0;
  return { box, brightness, contrast, colorMatrix, blurSigma };
}

/** A separable Gaussian blur of one image [1, S, S, C] with kernel ~10 % of the side. */
function gaussianBlur(image: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const [, size, , channels] = image.shape;
  const radius = Math.max(1, Math.floor(size * 0.05));
  const weights: number[] = [];
  for (let i = -radius; i <= radius; i++) weights.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const total = weights.reduce((a, b) => a + b, 0);
  const taps = weights.map((w) => w / total);
  return tf.tidy(() => {
    const kernel = tf.tensor1d(taps);
    const horizontal = tf.tile(kernel.reshape([1, taps.length, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
    const vertical = tf.tile(kernel.reshape([taps.length, 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(tf.depthwiseConv2d(image, horizontal, 1, 'same'), vertical, 1, 'same');
  });
}

/** The random parameters of one view of each of `batch` images, drawn from `random` in image order. */
export function drawViews(random: Random, batch: number, sizePx: number, channels: number, options: AugmentOptions = DEFAULT_AUGMENT): ViewParameters[] {
  return Array.from({ length: batch }, () => drawView(random, sizePx, channels, options));
}

/**
 * One augmented view of each image. images: [B, S, S, C] float32 in [0, 1] (C = 1 or 3) →
 * [B, S, S, C] float32 in [−0.5, 0.5]. Parameters are drawn from `random` in image order.
 */
export function augmentBatch(images: tf.Tensor4D, random: Random, options: AugmentOptions = DEFAULT_AUGMENT): tf.Tensor4D {
  const [batch, height, width, channels] = images.shape;
  return applyViews(images, drawViews(random, batch, Math.min(height, width), channels, options));
}

/**
 * Applies drawn view parameters (one per image, in order) to images [B, S, S, C] in [0, 1]. Every
 * operation is per image, so a shard of a batch with its shard of the parameters gives exactly
 * that shard's rows of the whole batch's views.
 */
export function applyViews(images: tf.Tensor4D, views: readonly ViewParameters[]): tf.Tensor4D {
  const [batch, height, width, channels] = images.shape;
  if (views.length !== batch) throw new Error(`augment: ${views.length} view parameters for ${batch} images`);
  return tf.tidy(() => {
    const boxes = tf.tensor2d(views.flatMap((v) => v.box), [batch, 4]);
    const indices = tf.tensor1d(Array.from({ length: batch }, (_, i) => i), 'int32');
    let x = tf.image.cropAndResize(images, boxes, indices, [height, width], 'bilinear'); // [B, H, W, C]
    const brightness = tf.tensor4d(views.map((v) => v.brightness), [batch, 1, 1, 1]);
    x = tf.clipByValue(tf.mul(x, brightness), 0, 1) as tf.Tensor4D;
    // Contrast blends with the image's mean gray level (as torchvision's adjust_contrast).
    const gray = channels === 3 ? tf.sum(tf.mul(x, tf.tensor1d([...LUMA])), 3, true) : x; // [B, H, W, 1]
    const meanGray = tf.mean(gray, [1, 2, 3], true); // [B, 1, 1, 1]
    const contrast = tf.tensor4d(views.map((v) => v.contrast), [batch, 1, 1, 1]);
    x = tf.clipByValue(tf.add(tf.mul(tf.sub(x, meanGray), contrast), meanGray), 0, 1) as tf.Tensor4D;
    if (channels === 3 && views.some((v) => !isIdentity(v.colorMatrix))) {
      // Saturation, hue and grayscale compose into one 3×3 matrix per image: [B, H·W, 3] · [B, 3, 3].
      const matrices = tf.tensor3d(views.flatMap((v) => v.colorMatrix), [batch, 3, 3]);
      x = tf.clipByValue(tf.matMul(x.reshape([batch, height * width, 3]), matrices).reshape([batch, height, width, 3]), 0, 1) as tf.Tensor4D;
    }
    if (views.some((v) => v.blurSigma > 0)) {
      const perImage = tf.unstack(x).map((image, i) => {
        const sigma = views[i]!.blurSigma;
        return sigma > 0 ? gaussianBlur(image.expandDims(0) as tf.Tensor4D, sigma).squeeze([0]) : image;
      });
      x = tf.stack(perImage) as tf.Tensor4D;
    }
    return tf.sub(x, 0.5) as tf.Tensor4D;
  });
}

/** The un-augmented input of the encoder (embedding, evaluation): uint8-range pixels → [−0.5, 0.5]. */
export function normalisePixels(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.div(tf.cast(images, 'float32'), 255), 0.5) as tf.Tensor4D);
}
