/**
 * Everything ingest learns from an image's pixels, from one decode: format, dimensions after
 * EXIF orientation, EXIF, a thumbnail (WebP, longest side 256 px) and the perceptual hashes
 * (of the thumbnail, see perceptual-hash.ts).
 * The decode is sharp (libvips) straight to thumbnail size, so JPEG and WebP use shrink-on-load
 * and a 12-megapixel photo is never held at full size. HEIC (HEVC), which libvips cannot
 * decode, goes through heic-decoder.ts first. The header is checked against a pixel
 * limit before anything is decoded (decompression bombs).
 */
import fs from 'node:fs';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { parseExif, type ExifSummary } from './exif.ts';
import { describeNonImage, sniffFormat, type ImageFormatName } from './formats.ts';
import { decodeHeic } from './heic-decoder.ts';
import { hashImage } from './perceptual-hash.ts';

/** Default pixel limit: sharp's own default, 0x3FFF × 0x3FFF ≈ 268 megapixels. */
export const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;
/** Longest side of the catalogue thumbnail. */
export const THUMBNAIL_SIZE_PX = 256;
const THUMBNAIL_WEBP = { quality: 80, effort: 2 } as const;

/** An input that is not an image we can catalogue; `message` is the reason shown to the user. */
export class ImageRejectedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ImageRejectedError';
  }
}

export interface AnalysedImage {
  format: ImageFormatName;
  /** After EXIF orientation is applied. */
  width: number;
  height: number;
  exif: ExifSummary;
  thumbnail: { bytes: Buffer; width: number; height: number };
  dhash: string;
  phash: string;
}

export interface AnalyseOptions {
  maxPixels?: number;
  thumbnailSizePx?: number;
  /** The file's first bytes, when `input` is a path (for a clear "not an image" reason). */
  head?: Uint8Array;
}

function formatName(metadata: Metadata): ImageFormatName | null {
  switch (metadata.format) {
    case 'jpeg': case 'png': case 'webp': case 'tiff': case 'gif': return metadata.format;
    case 'heif': return metadata.compression === 'av1' ? 'avif' : 'heic';
    default: return null;
  }
}

/** The last bytes of the input (for telling a truncated file from other damage). */
async function tail(input: Buffer | string, length: number): Promise<Buffer> {
  if (Buffer.isBuffer(input)) return input.subarray(Math.max(0, input.length - length));
  const handle = await fs.promises.open(input, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(length, size));
    await handle.read(buffer, 0, buffer.length, size - buffer.length);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** Whether a file of this format visibly stops before its end marker. */
function looksTruncated(format: ImageFormatName, end: Buffer): boolean {
  switch (format) {
    // JPEG ends with EOI (FF D9), though some writers pad after it.
    case 'jpeg': return !end.includes(Buffer.from([0xff, 0xd9]));
    // PNG ends with an empty IEND chunk and its CRC.
    case 'png': return !end.includes(Buffer.from('IEND', 'latin1'));
    // GIF ends with the trailer byte 0x3B.
    case 'gif': return end.at(-1) !== 0x3b;
    default: return false;
  }
}

/**
 * The reason a decode failed, in words. libvips' own message can be lost when several images
 * decode at once ("Unknown error"), so truncation is also checked from the file's last bytes.
 */
async function decodeFailure(error: unknown, format: ImageFormatName, input: Buffer | string): Promise<ImageRejectedError> {
  const message = ((error as Error).message ?? String(error)).split('\n')[0]!.trim();
  if (/premature end|truncat|unexpected end|end of (file|stream)|read error|Not enough data/i.test(message)) {
    return new ImageRejectedError(`truncated or corrupt ${format} data: ${message}`);
  }
  if (/exceeds pixel limit/i.test(message)) return new ImageRejectedError(`image is over the pixel limit: ${message}`);
  let truncated = false;
  try {
    truncated = looksTruncated(format, await tail(input, 32));
  } catch {
    // the file is gone or unreadable now: keep libvips' message
  }
  if (truncated) return new ImageRejectedError(`truncated or corrupt ${format} data: the file ends before the image does (premature end)`);
  return new ImageRejectedError(`cannot decode ${format} image: ${message || 'unknown error'}`);
}

/**
 * Analyses an image given as its bytes or its path (libvips then reads the file itself, off the
 * main thread). Throws ImageRejectedError with a specific reason for anything that is not a
 * usable image.
 */
export async function analyseImage(input: Buffer | string, options: AnalyseOptions = {}): Promise<AnalysedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const sizePx = options.thumbnailSizePx ?? THUMBNAIL_SIZE_PX;
  const head = Buffer.isBuffer(input) ? input.subarray(0, 64) : options.head;
  if (head) {
    if (head.length === 0) throw new ImageRejectedError('empty file (0 bytes)');
    if (!sniffFormat(head)) throw new ImageRejectedError(`not an image: the content is not JPEG, PNG, WebP, TIFF, GIF, AVIF or HEIC (${describeNonImage(head)})`);
  }

  // 1. Header only: nothing is decoded yet.
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageRejectedError(`unreadable image header: ${((error as Error).message ?? '').split('\n')[0]}`);
  }
  const format = formatName(metadata);
  if (!format) throw new ImageRejectedError(`unsupported image format "${metadata.format}"`);
  const storedWidth = metadata.width ?? 0;
  const storedHeight = metadata.height ?? 0;
  if (storedWidth <= 0 || storedHeight <= 0) throw new ImageRejectedError(`${format} header has no valid dimensions`);
  const pixels = storedWidth * storedHeight;
  if (pixels > maxPixels) {
    const mp = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} megapixels`;
    throw new ImageRejectedError(
      `image is ${storedWidth}×${storedHeight} = ${mp(pixels)}, over the limit of ${mp(maxPixels)} (decompression-bomb guard); not decoded`,
    );
  }
  let width = metadata.autoOrient?.width ?? storedWidth;
  let height = metadata.autoOrient?.height ?? storedHeight;

  // 2. One decode, oriented and shrunk to thumbnail size, as raw sRGB(A).
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    let pipeline: Sharp;
    if (format === 'heic') {
      // libvips has no HEVC decoder: full-size RGBA from libheif (worker thread), then shrink.
      const heic = await decodeHeic(Buffer.isBuffer(input) ? input : await fs.promises.readFile(input));
      width = heic.width;
      height = heic.height;
      pipeline = sharp(heic.pixels, { raw: { width: heic.width, height: heic.height, channels: 4 } });
    } else {
      pipeline = sharp(input, { limitInputPixels: maxPixels, failOn: 'error', autoOrient: true, sequentialRead: true });
    }
    decoded = await pipeline
      .resize(sizePx, sizePx, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw await decodeFailure(error, format, input);
  }
  const { data, info } = decoded;
  const channels = info.channels as 1 | 2 | 3 | 4;

  // 3. Thumbnail and hashes from the small decode; EXIF from the block sharp already found.
  const thumbnailPromise = sharp(data, { raw: { width: info.width, height: info.height, channels } }).webp(THUMBNAIL_WEBP).toBuffer();
  const exifPromise = parseExif(metadata.exif ?? (format === 'tiff' && Buffer.isBuffer(input) ? input : undefined));
  const [thumbnail, parsedExif] = await Promise.all([thumbnailPromise, exifPromise]);
  // The hashes are of the thumbnail, so curation can hash the same bytes for the mirror.
  const { dhash, phash } = await hashImage(thumbnail);
  const exif: ExifSummary = { ...parsedExif, orientation: parsedExif.orientation ?? metadata.orientation ?? null };
  return {
    format,
    width,
    height,
    exif,
    thumbnail: { bytes: thumbnail, width: info.width, height: info.height },
    dhash,
    phash,
  };
}
