/**
 * How many threads training and embedding use by default — one rule for the trainer (core/ml)
 * and the training plan (core/app), which must agree on it to size a budget to the device.
 */
import os from 'node:os';

/**
 * The default number of training and embedding threads: LOOKTWICE_THREADS when set (a setting
 * for the desktop app and for machines shared with other work), else one per core the process
 * may use.
 */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  const setting = env.LOOKTWICE_THREADS;
  if (setting !== undefined && setting !== '') {
    const value = Number(setting);
    if (!Number.isInteger(value) || value < 1) throw new Error(`LOOKTWICE_THREADS must be a positive whole number, got "${setting}"`);
    return value;
  }
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
