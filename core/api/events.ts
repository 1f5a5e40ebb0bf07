/**
 * The in-process event hub behind the contract's events (progress, job, trainMetrics, log,
 * libraryChanged). Transports subscribe once with onAny and forward every event (SSE stream,
 * Electron webContents.send); the service and its jobs emit.
 */
import type { ApiEventListener, ApiEventName, LooktwiceEventMap } from './contract.ts';

/** A listener for every event, as the transports need it. */
export type AnyEventListener = <E extends ApiEventName>(event: E, payload: LooktwiceEventMap[E]) => void;

export class EventHub {
  private readonly listeners = new Map<ApiEventName, Set<(payload: never) => void>>();
  private readonly anyListeners = new Set<AnyEventListener>();

  /** Subscribes to one event; returns the unsubscribe function. */
  on<E extends ApiEventName>(event: E, listener: ApiEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  /** Subscribes to every event (for transports); returns the unsubscribe function. */
  onAny(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => {
      this.anyListeners.delete(listener);
    };
  }

  /** Delivers an event; a throwing listener is isolated so it cannot break a job. */
  emit<E extends ApiEventName>(event: E, payload: LooktwiceEventMap[E]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as ApiEventListener<E>)(payload);
      } catch {
        // A broken subscriber must not stop the job that emitted.
      }
    }
    for (const listener of this.anyListeners) {
      try {
        listener(event, payload);
      } catch {
        // Same: a closed SSE socket or window must not stop the job.
      }
    }
  }
}
