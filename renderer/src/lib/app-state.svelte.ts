/**
 * Shared rune state of the app: the library overview, running jobs, the current screen, the
 * library grid's filter (other screens open the library pre-filtered), and toasts. Kept fresh
 * from the API's events.
 */
import type { ClassSummary, ImageQuery, JobInfo, LibraryInfo } from '../../../core/api/contract.ts';
import { api, client, errorMessage } from './api.ts';

export const SCREENS = ['library', 'train', 'map', 'clusters', 'duplicates', 'label', 'quality', 'export'] as const;
export type Screen = (typeof SCREENS)[number];

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  message: string;
}

function screenFromHash(): Screen {
  const name = window.location.hash.replace(/^#\/?/, '').split('?')[0] as Screen;
  return SCREENS.includes(name) ? name : 'library';
}

export const app = $state({
  screen: screenFromHash(),
  library: null as LibraryInfo | null,
  classes: [] as ClassSummary[],
  jobs: [] as JobInfo[],
  toasts: [] as Toast[],
  /** Filter of the Library screen; other screens set it before navigating there. */
  libraryFilter: {} as ImageQuery,
  /** Bumped on every libraryChanged event so screens can reload. */
  revision: 0,
  /** The last data areas that changed. */
  changed: [] as string[],
  loadError: null as string | null,
  /** Recent log lines from jobs (files that failed, notes), newest last. */
  log: [] as Array<{ level: 'info' | 'warn' | 'error'; message: string; at: string }>,
  /** Warnings and errors not yet seen in the activity panel. */
  unseenProblems: 0,
});

let toastId = 0;

export function toast(kind: Toast['kind'], message: string, timeoutMs = kind === 'error' ? 8000 : 4000): void {
  const id = ++toastId;
  app.toasts.push({ id, kind, message });
  // A burst of actions should not bury the screen: keep the newest few.
  if (app.toasts.length > 3) app.toasts.splice(0, app.toasts.length - 3);
  setTimeout(() => dismissToast(id), timeoutMs);
}

export function dismissToast(id: number): void {
  const index = app.toasts.findIndex((t) => t.id === id);
  if (index >= 0) app.toasts.splice(index, 1);
}

/** Shows an error from a failed call as a toast. */
export function showError(error: unknown, context?: string): void {
  toast('error', context ? `${context}: ${errorMessage(error)}` : errorMessage(error));
}

export function navigate(screen: Screen): void {
  app.screen = screen;
  if (screenFromHash() !== screen) window.location.hash = `#/${screen}`;
}

/** Opens the library grid with this filter. */
export function openLibrary(filter: ImageQuery): void {
  app.libraryFilter = filter;
  navigate('library');
}

export async function refreshLibrary(): Promise<void> {
  try {
    app.library = await api.getLibrary();
    app.loadError = null;
  } catch (error) {
    app.loadError = errorMessage(error);
  }
  try {
    app.classes = await api.listClasses();
  } catch {
    app.classes = [];
  }
}

/** Starts a job and reports a failure to start as a toast; returns the job id or null. */
export async function startJob(start: () => Promise<{ jobId: string }>, failureContext: string): Promise<string | null> {
  try {
    const ref = await start();
    return ref.jobId;
  } catch (error) {
    showError(error, failureContext);
    return null;
  }
}

/** The newest job of a kind that is running, if any. */
export function runningJob(kind: JobInfo['kind']): JobInfo | undefined {
  return app.jobs.find((job) => job.kind === kind && job.status === 'running');
}

/** Wires the event stream into the state; call once at startup. */
export function connectEvents(): void {
  window.addEventListener('hashchange', () => {
    app.screen = screenFromHash();
  });
  client.on('job', (job) => {
    const index = app.jobs.findIndex((j) => j.jobId === job.jobId);
    if (index >= 0) app.jobs[index] = job;
    else app.jobs.unshift(job);
    if (app.jobs.length > 30) app.jobs.length = 30;
    if (job.status === 'completed') toast('success', `${job.title} — done.`);
    else if (job.status === 'failed') toast('error', `${job.title} failed: ${job.error ?? 'unknown error'}`);
    else if (job.status === 'cancelled') toast('info', `${job.title} — cancelled.`);
    if (job.status !== 'running') {
      app.revision++;
      void refreshLibrary();
    }
  });
  client.on('progress', ({ jobId, progress }) => {
    const job = app.jobs.find((j) => j.jobId === jobId);
    if (job) job.progress = progress;
  });
  client.on('log', (line) => {
    app.log.push(line);
    if (app.log.length > 200) app.log.splice(0, app.log.length - 200);
    if (line.level !== 'info') app.unseenProblems++;
  });
  client.on('libraryChanged', ({ what }) => {
    app.changed = what;
    app.revision++;
    void refreshLibrary();
  });
  void api
    .listJobs()
    .then((jobs) => {
      app.jobs = jobs;
    })
    .catch(() => {});
}
