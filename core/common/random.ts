/**
 * The one seeded random number generator of Looktwice, so every result that involves chance —
 * weight initialisation and augmentations in training, k-means seeding, samples for the map and
 * IVF, cross-validation folds, dataset splits, label suggestions — is the same for the same seed
 * on every machine. SplitMix32-style: a 32-bit counter advanced by the golden-ratio increment and
 * mixed by MurmurHash3's finaliser (a bijection, so the period is 2³²). Its whole state is one
 * number, so a training checkpoint saves and restores it exactly and a resumed run draws the
 * augmentations it would have drawn without the interruption.
 */

/** A function returning uniform floats in [0, 1). */
export type RandomSource = () => number;

/** Seeded uniform/normal draws; `state` is serialisable. */
export class Random {
  private spareNormal: number | null = null;

  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return value;
    }
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** Saves the state, including a pending normal draw. */
  snapshot(): { state: number; spareNormal: number | null } {
    return { state: this.state, spareNormal: this.spareNormal };
  }

  restore(snapshot: { state: number; spareNormal: number | null }): void {
    this.state = snapshot.state >>> 0;
    this.spareNormal = snapshot.spareNormal;
  }
}

/** The generator as a plain function (what sampling code takes): the same sequence as new Random(seed).next(). */
export function seededRandom(seed: number): RandomSource {
  const random = new Random(Math.trunc(seed));
  return () => random.next();
}

/** A uniform integer in [0, n). */
export function randomInt(random: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** Fisher–Yates shuffle in place; returns the same array. */
export function shuffleInPlace<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const swap = items[i]!;
    items[i] = items[j]!;
    items[j] = swap;
  }
  return items;
}
