/** Durations in words for people ("about 12 min"), used when saying how long training will take. */

/** "45 s", "12 min", "1 h 20 min"; "an unknown time" for null. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'an unknown time';
  const s = Math.max(1, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
