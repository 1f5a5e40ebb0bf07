/**
 * The quality gauge (./quality-gauge.ts) live during training: a fixed sample of the library is
 * held out of training, and every few steps the encoder's contrastive top-1, alignment and
 * uniformity on two fixed augmented views of it are read, with the plateau rule's verdict ("more
 * training stops helping") and, once per run, the same top-1 of the raw pixels of those views —
 * the baseline a learned embedding has to beat to be worth using.
 *
 * Held out: min(`images`, 10 % of the library) images, chosen by a seed from the library size
 * alone (so a resumed run holds out the same ones); below 16 of them the gauge is off.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PLATEAU_RULE, heldOutIndices, measureGauge, trainingStoppedHelping, type GaugeReading, type PlateauRule } from './quality-gauge.ts';
import type { AugmentOptions } from './augment.ts';
import type { SimclrModel } from './simclr-model.ts';
import type { TrainingImages } from './trainer.ts';

/** How often and on how many images the gauge is read. */
export interface TrainingGaugeOptions {
  /** Read every this many steps (and before the first and after the last). */
  everySteps: number;
  /** At most this many held-out images (default 256). */
  images?: number;
  rule?: PlateauRule;
}

/** One reading during training. */
export interface TrainingGaugeEvent extends GaugeReading {
  /** Steps done when it was read (0 = before training). */
  step: number;
  /** Contrastive top-1 of the raw pixels of the same views (the baseline). */
  pixelsTop1: number;
  /** The plateau rule over the readings so far: more training has stopped helping. */
  stoppedHelping: boolean;
}

const MIN_GAUGE_IMAGES = 16;
const VIEW_SEED = 0x6a06e;

/** The chosen images; in shared memory when requested, so a data-parallel pool uses it without a copy. */
function subset(images: TrainingImages, indices: ArrayLike<number>, shared = false): TrainingImages {
  const per = images.sizePx * images.sizePx * images.channels;
  const pixels = shared ? new Uint8Array(new SharedArrayBuffer(indices.length * per)) : new Uint8Array(indices.length * per);
  for (let row = 0; row < indices.length; row++) pixels.set(images.pixels.subarray(indices[row]! * per, (indices[row]! + 1) * per), row * per);
  return { count: indices.length, sizePx: images.sizePx, channels: images.channels, pixels };
}

/** The gauge of one run, with its held-out images. */
export class TrainingGauge {
  readonly history: TrainingGaugeEvent[] = [];
  private pixelsTop1: number | null = null;
  private readonly rule: PlateauRule;

  private constructor(readonly heldOut: TrainingImages, readonly augment: AugmentOptions, readonly options: TrainingGaugeOptions) {
    this.rule = options.rule ?? DEFAULT_PLATEAU_RULE;
  }

  /**
   * Splits `images` into the training set and the gauge's held-out set; null (train on all, no
   * gauge) when the library is too small to spare 16 images.
   */
  static split(images: TrainingImages, augment: AugmentOptions, options: TrainingGaugeOptions): { train: TrainingImages; gauge: TrainingGauge } | null {
    if (!(Number.isInteger(options.everySteps) && options.everySteps >= 1)) throw new Error(`gauge: everySteps must be a positive integer, got ${options.everySteps}`);
    const count = Math.min(options.images ?? 256, Math.floor(images.count / 10));
    if (count < MIN_GAUGE_IMAGES) return null;
    const held = heldOutIndices(images.count, count);
    const isHeld = new Uint8Array(images.count);
    for (const i of held) isHeld[i] = 1;
    const rest: number[] = [];
    for (let i = 0; i < images.count; i++) if (!isHeld[i]) rest.push(i);
    return { train: subset(images, rest, true), gauge: new TrainingGauge(subset(images, held), augment, options) };
  }

  /** Whether a reading is due after `step` of `stepsTotal` steps. */
  due(step: number, stepsTotal: number): boolean {
    return step % this.options.everySteps === 0 || step === stepsTotal;
  }

  /** Reads the gauge of `model` (inference mode) after `step` steps. */
  async read(model: SimclrModel, step: number): Promise<TrainingGaugeEvent> {
    const indices = Int32Array.from({ length: this.heldOut.count }, (_, i) => i);
    const viewOptions = { indices, augment: this.augment, seed: VIEW_SEED };
    if (this.pixelsTop1 === null) {
      const pixels = await measureGauge((views) => tf.reshape(views, [views.shape[0], -1]) as tf.Tensor2D, this.heldOut, viewOptions);
      this.pixelsTop1 = pixels.top1;
    }
    const reading = await measureGauge((views) => model.encoder.forward(views, false), this.heldOut, viewOptions);
    const top1s = [...this.history.map((event) => event.top1), reading.top1];
    const event: TrainingGaugeEvent = { ...reading, step, pixelsTop1: this.pixelsTop1, stoppedHelping: trainingStoppedHelping(top1s, this.rule) };
    this.history.push(event);
    return event;
  }
}
