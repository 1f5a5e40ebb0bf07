/**
 * The ML engine as the use cases need it. Callers choose where it runs: the service passes the
 * worker-thread engine of core/api/ml-loader.ts (the UI stays responsive); the CLI the
 * in-process one below. TensorFlow.js is imported only when first asked for, so commands that
 * never train or embed start in a moment.
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

/** Loads the ML engine. */
export type MlLoader = () => Promise<MlEngine>;

let inProcess: Promise<MlEngine> | null = null;

/** The engine in this thread (the CLI: nothing else competes for its event loop). */
export const loadInProcessMl: MlLoader = () => {
  inProcess ??= (async () => {
    const [backend, train, embed] = await Promise.all([import('../ml/backend.ts'), import('../ml/train.service.ts'), import('../ml/embed.ts')]);
    return { initBackend: backend.initBackend, activeBackend: backend.activeBackend, trainLibrary: train.trainLibrary, embedLibrary: embed.embedLibrary };
  })();
  return inProcess;
};
