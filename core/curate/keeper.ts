/**
 * Which copy of a duplicate group to keep, and why. The rule, in order (the first criterion that
 * separates two copies decides):
 *   1. highest resolution (width × height);
 *   2. least compressed: more bytes per pixel, within the same family (lossless beats lossy only
 *      at equal resolution, since a PNG of a JPEG adds no detail);
 *   3. richest metadata: more EXIF facts (camera, date, GPS, other tags);
 *   4. original over edited: no "copy"/"edited"/"(1)"-style name, no editing-software tag;
 *   5. older file (modification time, if seconds apart), then shorter path, then alphabetical —
 *      so the choice is stable.
 */
import path from 'node:path';

export interface KeeperCandidate {
  path: string;
  width: number;
  height: number;
  byteSize: number;
  format: string;
  mtimeMs: number;
  takenAt: string | null;
  cameraMake: string | null;
  cameraModel: string | null;
  exifJson: string | null;
}

const LOSSLESS = new Set(['png', 'tiff', 'gif']);
const EDITED_NAME = /(\bcopy\b|\bedit(ed)?\b|\(\d+\)|[-_ ]\d{1,2}$|\bcopie\b|\bkopie\b|\bscaled\b|\bresized\b|\bsmall\b|\bthumb)/i;
const EDITOR_SOFTWARE = /(photoshop|lightroom|gimp|snapseed|picasa|affinity|pixelmator|darktable|rawtherapee|capture one|luminar|instagram|vsco)/i;

function exifFacts(c: KeeperCandidate): number {
  let facts = 0;
  if (c.takenAt) facts++;
  if (c.cameraMake) facts++;
  if (c.cameraModel) facts++;
  if (c.exifJson) {
    try {
      const parsed = JSON.parse(c.exifJson) as unknown;
      if (parsed && typeof parsed === 'object') facts += Object.keys(parsed).length;
    } catch {
      // unreadable EXIF JSON counts as none
    }
  }
  return facts;
}

function editedSigns(c: KeeperCandidate): string[] {
  const signs: string[] = [];
  const stem = path.basename(c.path, path.extname(c.path));
  if (EDITED_NAME.test(stem)) signs.push(`name "${path.basename(c.path)}" looks like a copy or edit`);
  if (c.exifJson && EDITOR_SOFTWARE.test(c.exifJson)) signs.push('EXIF names editing software');
  return signs;
}

interface Criterion {
  name: string;
  /** Positive when a is better than b. */
  compare(a: KeeperCandidate, b: KeeperCandidate): number;
  explain(keep: KeeperCandidate, other: KeeperCandidate): string;
}

const bytesPerPixel = (c: KeeperCandidate): number => c.byteSize / Math.max(1, c.width * c.height);

const CRITERIA: Criterion[] = [
  {
    name: 'resolution',
    compare: (a, b) => a.width * a.height - b.width * b.height,
    explain: (k, o) => `highest resolution (${k.width}×${k.height} vs ${o.width}×${o.height})`,
  },
  {
    name: 'compression',
    compare: (a, b) => {
      const lossA = LOSSLESS.has(a.format) ? 1 : 0;
      const lossB = LOSSLESS.has(b.format) ? 1 : 0;
      if (lossA !== lossB) return lossA - lossB;
      const ratio = bytesPerPixel(a) / Math.max(1e-9, bytesPerPixel(b));
      return Math.abs(ratio - 1) < 0.05 ? 0 : ratio - 1; // within 5 %: same encoding, not a signal
    },
    explain: (k, o) => LOSSLESS.has(k.format) && !LOSSLESS.has(o.format)
      ? `lossless ${k.format} at the same resolution (other copy is ${o.format})`
      : `least compressed (${bytesPerPixel(k).toFixed(2)} vs ${bytesPerPixel(o).toFixed(2)} bytes per pixel)`,
  },
  {
    name: 'metadata',
    compare: (a, b) => exifFacts(a) - exifFacts(b),
    explain: (k, o) => `richest EXIF (${exifFacts(k)} facts vs ${exifFacts(o)})`,
  },
  {
    name: 'original',
    compare: (a, b) => editedSigns(b).length - editedSigns(a).length,
    explain: (_k, o) => `original rather than edited (other copy: ${editedSigns(o).join(', ')})`,
  },
  {
    name: 'age',
    // Within a couple of seconds the order is that of a copy command, not of editing.
    compare: (a, b) => (Math.abs(b.mtimeMs - a.mtimeMs) < 2000 ? 0 : b.mtimeMs - a.mtimeMs),
    explain: () => 'oldest file',
  },
  {
    name: 'path',
    compare: (a, b) => b.path.length - a.path.length || (a.path < b.path ? 1 : a.path > b.path ? -1 : 0),
    explain: () => 'otherwise equal: shortest path',
  },
];

function compareCandidates(a: KeeperCandidate, b: KeeperCandidate): number {
  for (const criterion of CRITERIA) {
    const c = criterion.compare(a, b);
    if (c !== 0) return c;
  }
  return 0;
}

/** Picks the copy to keep and explains the decision against the runner-up. */
export function chooseKeeper<T extends KeeperCandidate>(candidates: readonly T[]): { keep: T; why: string } {
  if (candidates.length === 0) throw new Error('chooseKeeper: empty group');
  const ranked = [...candidates].sort((a, b) => compareCandidates(b, a));
  const keep = ranked[0]!;
  const runnerUp = ranked[1];
  if (!runnerUp) return { keep, why: 'only copy' };
  const deciding = CRITERIA.find((c) => c.compare(keep, runnerUp) !== 0) ?? CRITERIA.at(-1)!;
  return { keep, why: `keep ${path.basename(keep.path)}: ${deciding.explain(keep, runnerUp)}` };
}
