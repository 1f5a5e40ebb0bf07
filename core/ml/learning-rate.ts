/**
 * Learning-rate schedule used by SimCLR (Chen et al. 2020, §B.1): linear warm-up from 0 to the base
 * rate, then cosine decay to 0 (Loshchilov & Hutter 2017, without restarts).
 */

/** The learning rate at `step` (0-based) of `totalSteps`, with `warmupSteps` of linear warm-up. */
export function warmupCosine(step: number, totalSteps: number, warmupSteps: number, baseRate: number): number {
  if (warmupSteps > 0 && step < warmupSteps) return (baseRate * (step + 1)) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return baseRate * 0.5 * (1 + Math.cos(Math.PI * progress));
}
