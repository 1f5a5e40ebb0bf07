/** Small formatting helpers shared by the screens: numbers, bytes, durations, dates. */

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatPercent(x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${(x * 100).toFixed(digits)} %`;
}

export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

/** Human names of quality flags. */
export const FLAG_LABELS: Record<string, string> = {
  blurry: 'Blurry',
  too_dark: 'Too dark',
  too_bright: 'Too bright',
  low_information: 'Low information',
  uniform: 'Nearly uniform',
  odd_aspect: 'Odd aspect ratio',
  tiny: 'Tiny',
  outlier: 'Outlier',
  unreadable: 'Unreadable',
};

/** What each flag means, for the Quality screen. */
export const FLAG_HELP: Record<string, string> = {
  blurry: 'Little fine detail compared with the rest of your library (low variance of the Laplacian).',
  too_dark: 'Most pixels are close to black.',
  too_bright: 'Most pixels are close to white.',
  low_information: 'Very few distinct tones (low entropy): blank walls, lens caps, screenshots of nothing.',
  uniform: 'Almost one colour: hardly any contrast.',
  odd_aspect: 'Much wider or taller than usual photos: panoramas, banners, strips.',
  tiny: 'Too small to be useful for training.',
  outlier: 'Far from every other image: unlike anything else in the library.',
  unreadable: 'The pixels could not be decoded for analysis.',
};

/** A stable, distinguishable colour per category index (golden-angle hues). */
export function categoryColor(index: number): string {
  if (index < 0) return 'var(--muted-point)';
  const hue = (index * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 70% 55%)`;
}

/** The same colour as RGB bytes (for the canvas map). */
export function categoryRgb(index: number): [number, number, number] {
  if (index < 0) return [128, 128, 140];
  const h = ((index * 137.508) % 360) / 360;
  const s = 0.7;
  const l = 0.55;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number): number => {
    let x = t;
    if (x < 0) x += 1;
    if (x > 1) x -= 1;
    if (x < 1 / 6) return p + (q - p) * 6 * x;
    if (x < 1 / 2) return q;
    if (x < 2 / 3) return p + (q - p) * (2 / 3 - x) * 6;
    return p;
  };
  return [Math.round(channel(h + 1 / 3) * 255), Math.round(channel(h) * 255), Math.round(channel(h - 1 / 3) * 255)];
}

/** How far a job's progress is, 0..1, or null while its total is unknown. */
export function progressFraction(progress: { done: number; total: number | null } | null | undefined): number | null {
  return progress?.total ? Math.min(1, progress.done / progress.total) : null;
}
