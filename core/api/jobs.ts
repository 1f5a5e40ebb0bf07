/**
 * Background jobs behind the API: each long operation (ingest, train, embed, curate steps,
 * export, the whole pipeline) runs as a job with an id, throttled progress events, a log, and an
 * AbortController so the user can cancel it. One job per kind runs at a time, so two trainings
 * can never fight over the same checkpoint, and jobs that touch the same data never overlap
 * (JOB_CONFLICTS, checked in both directions).
 */
import { randomUUID } from 'node:crypto';
import type { Progress } from '../common/progress.ts';
import type { JobInfo, JobKind, JobRef, JobResult } from './contract.ts';
import { ApiError, fromEngine } from './errors.ts';
import type { EventHub } from './events.ts';

/** What a job's work function receives. */
export interface JobContext {
  jobId: string;
  signal: AbortSignal;
  /** Pass as `onProgress` to core jobs. */
  onProgress: (progress: Progress) => void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

type ResultOf<K extends JobKind> = Omit<Extract<JobResult, { kind: K }>, 'kind'>;

/**
 * Which kinds of job may not run at the same time as which (besides two of one kind). The
 * relation is symmetric — `conflict(a, b)` checks both directions — so declaring a pair once
 * is enough: a scan is refused while a pipeline runs exactly as a pipeline is refused while a
 * scan runs.
 */
export const JOB_CONFLICTS: Readonly<Partial<Record<JobKind, readonly JobKind[]>>> = {
  train: ['embed'],
  pipeline: ['ingest', 'train', 'embed', 'duplicates', 'clusters', 'map', 'flags', 'export'],
  // Export reads the stored duplicate groups and may refresh them.
  export: ['duplicates'],
};

/** Whether jobs of kinds a and b may not run together. */
export function conflict(a: JobKind, b: JobKind): boolean {
  return a === b || (JOB_CONFLICTS[a]?.includes(b) ?? false) || (JOB_CONFLICTS[b]?.includes(a) ?? false);
}

/** Keeps at most this many finished jobs for listJobs. */
const FINISHED_KEPT = 50;
/** Progress events per job at most every this many ms (the last one of a phase always goes out). */
const PROGRESS_GAP_MS = 200;

export class JobRunner {
  private readonly jobs = new Map<string, { info: JobInfo; controller: AbortController; done: Promise<void> }>();

  constructor(private readonly events: EventHub) {}

  /**
   * Starts `work` in the background and returns at once. Throws 'busy' when a job of the same
   * kind, or of a conflicting kind (JOB_CONFLICTS), is running.
   */
  start<K extends JobKind>(kind: K, title: string, work: (context: JobContext) => Promise<ResultOf<K>>): JobRef {
    for (const job of this.jobs.values()) {
      if (job.info.status === 'running' && conflict(kind, job.info.kind)) {
        throw new ApiError('busy', `${job.info.title} is still running; wait for it to finish or cancel it first.`);
      }
    }
    const jobId = randomUUID();
    const controller = new AbortController();
    const info: JobInfo = {
      jobId,
      kind,
      status: 'running',
      title,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: null,
      error: null,
      result: null,
    };
    let lastEmitMs = 0;
    let lastPhase = '';
    const context: JobContext = {
      jobId,
      signal: controller.signal,
      onProgress: (progress) => {
        info.progress = { ...progress };
        const now = Date.now();
        const finished = progress.total !== null && progress.done >= progress.total;
        if (!finished && progress.phase === lastPhase && now - lastEmitMs < PROGRESS_GAP_MS) return;
        lastEmitMs = now;
        lastPhase = progress.phase;
        this.events.emit('progress', { jobId, kind, progress: info.progress });
      },
      log: (level, message) => this.events.emit('log', { level, message, at: new Date().toISOString() }),
    };
    const done = (async () => {
      // Let the caller receive the JobRef (and subscribe) before the first event.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        const result = await work(context);
        info.result = { kind, ...result } as unknown as JobResult;
        info.status = controller.signal.aborted ? 'cancelled' : 'completed';
      } catch (error) {
        if (controller.signal.aborted || (error instanceof Error && error.name === 'CancelledError')) {
          info.status = 'cancelled';
        } else {
          info.status = 'failed';
          info.error = fromEngine(error).message;
          context.log('error', `${title} failed: ${info.error}`);
        }
      }
      info.finishedAt = new Date().toISOString();
      this.events.emit('job', { ...info });
      this.prune();
    })();
    this.jobs.set(jobId, { info, controller, done });
    this.events.emit('job', { ...info });
    return { jobId, kind };
  }

  get(jobId: string): JobInfo {
    const job = this.jobs.get(jobId);
    if (!job) throw new ApiError('not_found', 'That job is not known (it may have finished long ago).');
    return { ...job.info };
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((job) => ({ ...job.info })).reverse();
  }

  running(): JobInfo[] {
    return this.list().filter((job) => job.status === 'running');
  }

  /** Asks a job to stop at its next safe point (training checkpoints first). */
  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) throw new ApiError('not_found', 'That job is not known (it may have finished long ago).');
    job.controller.abort();
  }

  /** Resolves when the job has finished (any status). */
  async wait(jobId: string): Promise<JobInfo> {
    const job = this.jobs.get(jobId);
    if (!job) throw new ApiError('not_found', 'That job is not known.');
    await job.done;
    return { ...job.info };
  }

  /** Cancels every running job and waits for them to stop (server shutdown). */
  async cancelAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((job) => job.info.status === 'running');
    for (const job of running) job.controller.abort();
    await Promise.all(running.map((job) => job.done));
  }

  private prune(): void {
    const finished = [...this.jobs.entries()].filter(([, job]) => job.info.status !== 'running');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) this.jobs.delete(id);
  }
}
