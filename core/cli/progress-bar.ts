/**
 * A progress bar on stderr with count, rate and ETA. On a terminal it redraws one line; when
 * stderr is not a TTY (CI, a log file) it prints a plain line at most every few seconds.
 */
import type { Progress } from '../common/progress.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressBar {
  private lastDrawMs = 0;
  private lastPhase = '';
  private drawn = false;
  private readonly isTty: boolean;

  constructor(private readonly stream: NodeJS.WritableStream, private readonly width = 28) {
    this.isTty = Boolean((stream as NodeJS.WriteStream).isTTY);
  }

  /** Draws `progress` (throttled); pass as the ProgressListener of a job. */
  update = (progress: Progress): void => {
    const now = Date.now();
    const finished = progress.total !== null && progress.done >= progress.total;
    const phaseChanged = progress.phase !== this.lastPhase;
    const minGapMs = this.isTty ? 100 : 5000;
    if (!finished && !phaseChanged && now - this.lastDrawMs < minGapMs) return;
    if (phaseChanged && this.drawn && this.isTty) this.stream.write('\n');
    this.lastPhase = progress.phase;
    this.lastDrawMs = now;
    this.drawn = true;
    const line = this.render(progress);
    if (this.isTty) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(`${line}\n`);
  };

  render(progress: Progress): string {
    const parts = [progress.phase];
    if (progress.total !== null && progress.total > 0) {
      const fraction = Math.min(1, progress.done / progress.total);
      const filled = Math.round(fraction * this.width);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}]`);
      parts.push(`${progress.done}/${progress.total}`, `${(fraction * 100).toFixed(0)}%`);
    } else {
      parts.push(`${progress.done}`);
    }
    if (progress.ratePerS !== undefined) parts.push(`${progress.ratePerS.toFixed(progress.ratePerS < 10 ? 1 : 0)}/s`);
    if (progress.etaS !== undefined) parts.push(`ETA ${formatDuration(progress.etaS)}`);
    if (progress.message) parts.push(progress.message);
    return parts.join(' ');
  }

  /** Ends the bar's line so later output starts on a fresh one. */
  done(): void {
    if (this.drawn && this.isTty) this.stream.write('\n');
    this.drawn = false;
  }
}
