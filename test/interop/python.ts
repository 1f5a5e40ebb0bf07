/**
 * The real PyTorch the interop tests check against: Debian's /usr/bin/python3 with python3-torch
 * and python3-torchvision (installed by .ci/run). Where they are missing the PyTorch tests are
 * skipped with the reason printed — except in CI (CI=true), where a missing torch is a failure.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.LOOKTWICE_PYTHON ?? '/usr/bin/python3';
export const TORCH_CHECK = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_check.py');

function probe(): string | null {
  const result = spawnSync(PYTHON, ['-c', 'import torch, torchvision, numpy'], { encoding: 'utf8' });
  if (result.error) return `${PYTHON} cannot run (${result.error.message})`;
  if (result.status !== 0) return `${PYTHON} lacks torch/torchvision/numpy: ${result.stderr.trim().split('\n').pop()}`;
  return null;
}

/** Why PyTorch cannot be used here, or null when it can. Throws in CI, where it must be there. */
export const TORCH_MISSING: string | null = (() => {
  const reason = probe();
  if (reason && process.env.CI === 'true') throw new Error(`CI must run the PyTorch interop checks, but ${reason} (apt-get install python3-torch python3-torchvision python3-numpy)`);
  if (reason) console.warn(`skipping the PyTorch interop checks: ${reason}`);
  return reason;
})();

/** Runs torch_check.py and returns its JSON line (throws with its stderr when it fails). */
export function torchCheck(args: readonly string[]): Record<string, unknown> {
  const result = spawnSync(PYTHON, [TORCH_CHECK, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`torch_check.py ${args[0]} failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Cosine of each row pair and the largest absolute difference of two [N, D] matrices. */
export function compareRows(a: Float32Array, b: Float32Array, dim: number): { minCosine: number; maxAbs: number } {
  let minCosine = 1;
  let maxAbs = 0;
  for (let r = 0; r < a.length / dim; r++) {
    let dot = 0, na = 0, nb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! ** 2;
      nb += b[i]! ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    }
    minCosine = Math.min(minCosine, dot / Math.sqrt(na * nb));
  }
  return { minCosine, maxAbs };
}
