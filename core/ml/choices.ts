/**
 * The user-facing choices of the ML layer (backends, architectures, optimizers) without importing
 * TensorFlow.js, so the CLI can validate options — and other commands can start — without paying
 * for loading tfjs.
 */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export type ResNetArch = 'resnet18' | 'resnet-small';
export const RESNET_ARCHS: readonly ResNetArch[] = ['resnet18', 'resnet-small'];

export type OptimizerName = 'lars' | 'sgd' | 'adam';
export const OPTIMIZERS: readonly OptimizerName[] = ['lars', 'sgd', 'adam'];

/** Parses a `--backend` value. */
export function parseBackendChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Error(`unknown backend "${value}" (choose one of ${BACKEND_CHOICES.join(', ')})`);
}
