/**
 * Loads the ML engine (TensorFlow.js, its backends and kernels) on first use. Browsing,
 * duplicates, labels and export never need it, so `looktwice serve` and the desktop app start
 * in a moment, and a machine where a backend fails to load still gets every other screen.
 */
import type * as Backend from '../ml/backend.ts';
import type * as Train from '../ml/train.service.ts';
import type * as Embed from '../ml/embed.ts';

export interface MlEngine {
  initBackend: typeof Backend.initBackend;
  activeBackend: typeof Backend.activeBackend;
  trainLibrary: typeof Train.trainLibrary;
  embedLibrary: typeof Embed.embedLibrary;
}

let loading: Promise<MlEngine> | null = null;

/** The ML engine, imported once. */
export function loadMl(): Promise<MlEngine> {
  loading ??= (async () => {
    const [backend, train, embed] = await Promise.all([import('../ml/backend.ts'), import('../ml/train.service.ts'), import('../ml/embed.ts')]);
    return { initBackend: backend.initBackend, activeBackend: backend.activeBackend, trainLibrary: train.trainLibrary, embedLibrary: embed.embedLibrary };
  })().catch((error: unknown) => {
    loading = null;
    throw new Error(`the machine-learning engine could not be loaded: ${(error as Error).message}`);
  });
  return loading;
}
