/**
 * EXIF the catalogue keeps: when the photo was taken, camera, orientation, GPS and a small
 * JSON-safe subset of other tags. Parsed by exifr from the EXIF block sharp already found
 * (so every format sharp reads works the same way). Broken EXIF never fails an image.
 */
import exifr from 'exifr';
import type { ImageExif } from '../store/images.repository.ts';

/** The EXIF facts the catalogue keeps: the EXIF columns of `images`. */
export type ExifSummary = ImageExif;

export const EMPTY_EXIF: ExifSummary = { takenAt: null, cameraMake: null, cameraModel: null, orientation: null, gpsLat: null, gpsLon: null, exifJson: null };

/** Tags copied into exif_json when present (numbers and short strings only). */
const EXTRA_TAGS = ['LensModel', 'LensMake', 'FNumber', 'ExposureTime', 'ISO', 'FocalLength', 'FocalLengthIn35mmFormat', 'Flash', 'Software', 'Artist', 'ImageDescription', 'GPSAltitude'] as const;

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;

/** '2021:05:01 10:11:12' (+ offset '+02:00') → '2021-05-01T10:11:12+02:00'; null for junk. */
export function exifDateToIso(value: unknown, offset?: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = EXIF_DATE.exec(value.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match;
  const y = Number(year), mo = Number(month), d = Number(day), h = Number(hour), mi = Number(minute), s = Number(second);
  if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const suffix = typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset.trim()) ? offset.trim() : '';
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${suffix}`;
}

function cleanString(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/\u0000/g, '').trim();
  return cleaned.length > 0 && cleaned.length <= 200 ? cleaned : null;
}

/**
 * Parses an EXIF block: either sharp's `metadata().exif` (starts with "Exif\0\0") or a whole
 * TIFF file. Returns EMPTY_EXIF when there is nothing usable.
 */
export async function parseExif(block: Buffer | undefined): Promise<ExifSummary> {
  if (!block || block.length < 8) return EMPTY_EXIF;
  const tiff = block.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? block.subarray(6) : block;
  let tags: Record<string, unknown> | undefined;
  try {
    tags = (await exifr.parse(tiff, {
      tiff: true, exif: true, gps: true, ifd1: false, interop: false, makerNote: false, userComment: false,
      translateValues: false, reviveValues: false, mergeOutput: true,
    })) as Record<string, unknown> | undefined;
  } catch {
    return EMPTY_EXIF;
  }
  if (!tags) return EMPTY_EXIF;
  const orientation = typeof tags.Orientation === 'number' && tags.Orientation >= 1 && tags.Orientation <= 8 ? tags.Orientation : null;
  let gpsLat = typeof tags.latitude === 'number' && Number.isFinite(tags.latitude) && Math.abs(tags.latitude) <= 90 ? tags.latitude : null;
  let gpsLon = typeof tags.longitude === 'number' && Number.isFinite(tags.longitude) && Math.abs(tags.longitude) <= 180 ? tags.longitude : null;
  // Cameras without a fix often write 0/0: that is "no position", not the Gulf of Guinea.
  if (gpsLat === 0 && gpsLon === 0) gpsLat = gpsLon = null;
  if (gpsLat === null || gpsLon === null) gpsLat = gpsLon = null;
  const extra: Record<string, string | number> = {};
  for (const tag of EXTRA_TAGS) {
    const value = tags[tag];
    if (typeof value === 'number' && Number.isFinite(value)) extra[tag] = value;
    else if (typeof value === 'string' && cleanString(value)) extra[tag] = cleanString(value)!;
  }
  return {
    takenAt: exifDateToIso(tags.DateTimeOriginal, tags.OffsetTimeOriginal) ?? exifDateToIso(tags.CreateDate, tags.OffsetTimeDigitized),
    cameraMake: cleanString(tags.Make),
    cameraModel: cleanString(tags.Model),
    orientation,
    gpsLat,
    gpsLon,
    exifJson: Object.keys(extra).length > 0 ? JSON.stringify(extra) : null,
  };
}
