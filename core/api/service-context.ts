/**
 * What every area of the service shares: the open library, the job runner, the event hub, the
 * ML engine (worker thread) and the read model. Areas are thin adapters: they call one use case
 * of core/app per method, run long ones as jobs and tell windows what changed.
 */
import type { Library } from '../store/db.ts';
import { LibraryViewRepository } from '../store/library-view.repository.ts';
import type { MlLoader } from '../app/ml.ts';
import type { LooktwiceEventMap } from './contract.ts';
import type { EventHub } from './events.ts';
import type { JobRunner } from './jobs.ts';

export type ChangedWhat = LooktwiceEventMap['libraryChanged']['what'][number];

export class ServiceContext {
  readonly view: LibraryViewRepository;

  constructor(
    readonly library: Library,
    readonly jobs: JobRunner,
    readonly events: EventHub,
    readonly ml: MlLoader,
  ) {
    this.view = new LibraryViewRepository(library.db);
  }

  /** Tells every window that some data changed. */
  changed(...what: ChangedWhat[]): void {
    this.view.invalidate();
    this.events.emit('libraryChanged', { what });
  }

  /** A line for the activity panel. */
  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.events.emit('log', { level, message, at: new Date().toISOString() });
  }
}
