/**
 * Test images made with real sharp: deterministic pixels from a seed, encoded to any format
 * Looktwice ingests. Import from test/helpers/index.ts.
 *
 *   await writeImage(path.join(dir, 'a.jpg'), { width: 64, height: 48, pattern: 'shapes', seed: 3 });
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'gif' | 'avif';

/**
 * - solid: one colour (`color`, or one derived from `seed`)
 * - gradient: a smooth two-colour diagonal gradient (colours from `seed`)
 * - noise: uniform random RGB per pixel (seeded)
 * - shapes: a gradient background with a few seeded rectangles and discs — distinct, photo-like
 *   enough for perceptual hashes and embeddings to tell images apart
 */
export type ImagePattern = 'solid' | 'gradient' | 'noise' | 'shapes';

export interface WriteImageOptions {
  width: number;
  height: number;
  /** Defaults to the file extension's format (jpg/jpeg, png, webp, tif/tiff, gif, avif). */
  format?: ImageFormat;
  pattern?: ImagePattern;
  /** Seeds colours, noise and shapes; the same seed gives the same pixels. Default 1. */
  seed?: number;
  /** For 'solid': [r, g, b] 0..255. */
  color?: readonly [number, number, number];
  /** Encoder quality for jpeg/webp/avif (default 90). */
  quality?: number;
  /** EXIF to embed (JPEG, WebP, TIFF, PNG; ignored by GIF). */
  exif?: {
    make?: string;
    model?: string;
    /** Written as EXIF DateTimeOriginal, e.g. '2021:05:01 10:11:12'. */
    dateTimeOriginal?: string;
    /** EXIF orientation 1..8; the pixels are stored as given, readers must rotate. */
    orientation?: number;
    gps?: { latitude: number; longitude: number };
  };
}

/** A small, fast, seedable PRNG (mulberry32) so test images are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The RGB pixels (row-major, 3 bytes per pixel) of a pattern; the same inputs give the same bytes. */
export function renderPixels(options: Pick<WriteImageOptions, 'width' | 'height' | 'pattern' | 'seed' | 'color'>): Buffer {
  const { width, height } = options;
  const random = seededRandom(options.seed ?? 1);
  const pixels = Buffer.alloc(width * height * 3);
  const colour = (): [number, number, number] => [random() * 255, random() * 255, random() * 255].map(Math.round) as [number, number, number];
  const pattern = options.pattern ?? 'shapes';
  if (pattern === 'solid') {
    const [r, g, b] = options.color ?? colour();
    for (let i = 0; i < width * height; i += 1) pixels.set([r, g, b], i * 3);
    return pixels;
  }
  if (pattern === 'noise') {
    for (let i = 0; i < pixels.length; i += 1) pixels[i] = Math.floor(random() * 256);
    return pixels;
  }
  const from = colour();
  const to = colour();
  const span = Math.max(1, width + height - 2);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const t = (x + y) / span;
      const offset = (y * width + x) * 3;
      for (let c = 0; c < 3; c += 1) pixels[offset + c] = Math.round(from[c]! * (1 - t) + to[c]! * t);
    }
  }
  if (pattern === 'gradient') return pixels;
  const shapeCount = 3 + Math.floor(random() * 4);
  for (let s = 0; s < shapeCount; s += 1) {
    const fill = colour();
    const cx = random() * width;
    const cy = random() * height;
    const radius = (0.1 + random() * 0.25) * Math.min(width, height);
    const isDisc = random() < 0.5;
    const x0 = Math.max(0, Math.floor(cx - radius));
    const x1 = Math.min(width, Math.ceil(cx + radius));
    const y0 = Math.max(0, Math.floor(cy - radius));
    const y1 = Math.min(height, Math.ceil(cy + radius));
    for (let y = y0; y < y1; y += 1) {
      for (let x = x0; x < x1; x += 1) {
        if (isDisc && (x - cx) ** 2 + (y - cy) ** 2 > radius ** 2) continue;
        pixels.set(fill, (y * width + x) * 3);
      }
    }
  }
  return pixels;
}

function formatFromPath(filePath: string): ImageFormat {
  const ext = path.extname(filePath).slice(1).toLowerCase();
  const byExt: Record<string, ImageFormat> = { jpg: 'jpeg', jpeg: 'jpeg', png: 'png', webp: 'webp', tif: 'tiff', tiff: 'tiff', gif: 'gif', avif: 'avif' };
  const format = byExt[ext];
  if (!format) throw new Error(`writeImage: cannot tell the format of ${filePath}; pass options.format`);
  return format;
}

/** Encodes the pattern to an image file buffer (no file written). */
export async function encodeImage(options: WriteImageOptions & { format: ImageFormat }): Promise<Buffer> {
  const pixels = renderPixels(options);
  let image = sharp(pixels, { raw: { width: options.width, height: options.height, channels: 3 } });
  const quality = options.quality ?? 90;
  const exif = options.exif;
  if (exif && options.format !== 'gif') {
    if (exif.orientation !== undefined) image = image.withMetadata({ orientation: exif.orientation });
    const ifd0: Record<string, string> = {};
    if (exif.make) ifd0.Make = exif.make;
    if (exif.model) ifd0.Model = exif.model;
    const ifd2: Record<string, string> = {};
    if (exif.dateTimeOriginal) ifd2.DateTimeOriginal = exif.dateTimeOriginal;
    const ifd3: Record<string, string> = {};
    if (exif.gps) {
      const dms = (value: number): string => {
        const abs = Math.abs(value);
        const degrees = Math.floor(abs);
        const minutes = Math.floor((abs - degrees) * 60);
        const seconds = Math.round(((abs - degrees) * 60 - minutes) * 60 * 1000);
        return `${degrees}/1 ${minutes}/1 ${seconds}/1000`;
      };
      ifd3.GPSLatitudeRef = exif.gps.latitude >= 0 ? 'N' : 'S';
      ifd3.GPSLatitude = dms(exif.gps.latitude);
      ifd3.GPSLongitudeRef = exif.gps.longitude >= 0 ? 'E' : 'W';
      ifd3.GPSLongitude = dms(exif.gps.longitude);
    }
    image = image.withExifMerge({ IFD0: ifd0, IFD2: ifd2, IFD3: ifd3 });
  }
  switch (options.format) {
    case 'jpeg': return image.jpeg({ quality }).toBuffer();
    case 'png': return image.png().toBuffer();
    case 'webp': return image.webp({ quality }).toBuffer();
    case 'tiff': return image.tiff().toBuffer();
    case 'gif': return image.gif().toBuffer();
    case 'avif': return image.avif({ quality, effort: 0 }).toBuffer();
  }
}

/**
 * Writes a real image file (creating its folder), deterministic for the same options.
 * Returns the absolute path.
 */
export async function writeImage(filePath: string, options: WriteImageOptions): Promise<string> {
  const format = options.format ?? formatFromPath(filePath);
  const bytes = await encodeImage({ ...options, format });
  const absolute = path.resolve(filePath);
  fs.mkdirSync(path.dirname(absolute), { recursive: true });
  fs.writeFileSync(absolute, bytes);
  return absolute;
}
