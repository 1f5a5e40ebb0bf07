/**
 * Collision-safe file names inside one export folder. Two different images may share a base
 * name ("IMG_0001.jpg" from two cameras); both must survive. Names are compared
 * case-insensitively (macOS and Windows folders are), characters not allowed on some OS are
 * replaced, and a clash gets the content hash's first 8 digits (then a counter) before the
 * extension — stable across re-exports of the same images.
 */
import path from 'node:path';

/** Replaces characters not allowed in file names on Windows/macOS/Linux with "_". */
export function safeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be replaced
  let cleaned = name.replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_').replace(/[. ]+$/, '');
  if (cleaned === '' || cleaned === '.' || cleaned === '..') cleaned = 'image';
  // Windows reserves these device names regardless of extension.
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(cleaned)) cleaned = `_${cleaned}`;
  return cleaned;
}

/** Hands out unique names per folder. */
export class FileNameAllocator {
  private readonly used = new Map<string, Set<string>>();

  /**
   * A name for `originalName` in `folder` that no earlier call got; `contentHash` disambiguates.
   * `extension` (with dot) replaces the original extension when given (e.g. after re-encoding).
   */
  allocate(folder: string, originalName: string, contentHash: string, extension?: string): string {
    const safe = safeFileName(originalName);
    const originalExtension = path.extname(safe);
    const stem = safe.slice(0, safe.length - originalExtension.length) || 'image';
    const ext = extension ?? originalExtension;
    const taken = this.used.get(folder) ?? new Set<string>();
    this.used.set(folder, taken);
    const candidates = [`${stem}${ext}`, `${stem}-${contentHash.slice(0, 8)}${ext}`];
    for (let counter = 2; ; counter++) {
      const candidate = candidates.shift() ?? `${stem}-${contentHash.slice(0, 8)}-${counter}${ext}`;
      if (!taken.has(candidate.toLowerCase())) {
        taken.add(candidate.toLowerCase());
        return candidate;
      }
    }
  }
}
