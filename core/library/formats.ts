/**
 * Which files ingest looks at (by extension) and what their bytes really are (by signature).
 * A file is a candidate by its name; whether it is an image is decided by its content, so a
 * PNG named .jpg ingests fine and a text file named .jpg fails with a clear reason.
 */

/** Extensions (lower case, no dot) of the formats Looktwice reads. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  'jpg', 'jpeg', 'jpe', 'jfif', 'png', 'webp', 'tif', 'tiff', 'gif', 'avif', 'heic', 'heif',
]);

/** Formats as stored in images.format. */
export type ImageFormatName = 'jpeg' | 'png' | 'webp' | 'tiff' | 'gif' | 'avif' | 'heic';

export function hasImageExtension(fileName: string): boolean {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(fileName.slice(dot + 1).toLowerCase());
}

/**
 * The format the first bytes announce, or null when they match no format we read.
 * Needs at least 12 bytes.
 */
export function sniffFormat(head: Uint8Array): ImageFormatName | null {
  const ascii = (start: number, end: number): string => String.fromCharCode(...head.subarray(start, end));
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 8 && ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (head.length >= 4 && (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*' || ascii(0, 4) === 'II+\0' || ascii(0, 4) === 'MM\0+')) return 'tiff';
  if (head.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (head.length >= 12 && ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  return null;
}

/** A short description of bytes that are not an image, for error messages. */
export function describeNonImage(head: Uint8Array): string {
  if (head.length === 0) return 'empty';
  let printable = 0;
  for (const byte of head) if (byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127)) printable += 1;
  if (printable / head.length > 0.95) return 'looks like text';
  return `starts with bytes ${Buffer.from(head.subarray(0, 8)).toString('hex')}`;
}
