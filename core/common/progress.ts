/**
 * Progress and cancellation shared by every long job (ingest, train, embed, curate, export).
 * The bottom of core/: imports nothing from the project. Payloads are plain data so they can
 * cross the API contract (IPC, HTTP/SSE) unchanged.
 */

/** One progress report. `total` is null while still unknown (e.g. during a folder scan). */
export interface Progress {
  /** Which job and phase, e.g. 'ingest:scan', 'ingest:process', 'train', 'embed'. */
  phase: string;
  done: number;
  total: number | null;
  /** Items per second over the recent window, when known. */
  ratePerS?: number;
  /** Estimated seconds left, when known. */
  etaS?: number;
  /** Short human text, e.g. the file being processed or the current loss. */
  message?: string;
}

export type ProgressListener = (progress: Progress) => void;

/** Thrown (or returned as the cause) when a job stops because its AbortSignal fired. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError if the signal has fired; call at safe points (between batches). */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/**
 * Rate and ETA over a sliding window, so a slow start (cold caches, shader compiles) does not
 * distort the estimate for the rest of the run.
 */
export class RateMeter {
  private readonly samples: Array<{ atMs: number; done: number }> = [];

  constructor(private readonly windowMs = 10_000, private readonly now: () => number = () => performance.now()) {}

  /** Records that `done` items are finished now; returns the current rate and ETA. */
  update(done: number, total: number | null): { ratePerS?: number; etaS?: number } {
    const atMs = this.now();
    this.samples.push({ atMs, done });
    while (this.samples.length > 2 && atMs - this.samples[0]!.atMs > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const elapsedS = (atMs - first.atMs) / 1000;
    if (elapsedS <= 0 || done <= first.done) return {};
    const ratePerS = (done - first.done) / elapsedS;
    const etaS = total === null ? undefined : Math.max(0, (total - done) / ratePerS);
    return { ratePerS, etaS };
  }
}
