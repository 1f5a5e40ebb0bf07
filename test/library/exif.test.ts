import { describe, expect, it } from 'vitest';
import { analyseImage } from '../../core/library/analyse-image.ts';
import { exifDateToIso } from '../../core/library/exif.ts';
import { encodeImage } from '../helpers/index.ts';

describe('EXIF', () => {
  it('turns EXIF dates into ISO 8601 and rejects junk', () => {
    expect(exifDateToIso('2021:05:01 10:11:12')).toBe('2021-05-01T10:11:12');
    expect(exifDateToIso('2021:05:01 10:11:12', '+02:00')).toBe('2021-05-01T10:11:12+02:00');
    expect(exifDateToIso('0000:00:00 00:00:00')).toBeNull();
    expect(exifDateToIso('    :  :     :  :  ')).toBeNull();
    expect(exifDateToIso(undefined)).toBeNull();
  });

  it.each(['jpeg', 'png', 'webp', 'avif'] as const)('reads taken-at, camera, orientation and GPS from %s', async (format) => {
    const bytes = await encodeImage({
      width: 60, height: 40, format, pattern: 'gradient', seed: 3,
      exif: { make: 'Fujifilm', model: 'X-T4', dateTimeOriginal: '2019:12:31 23:59:58', orientation: 6, gps: { latitude: -33.8568, longitude: 151.2153 } },
    });
    const image = await analyseImage(bytes);
    expect(image.exif.takenAt).toBe('2019-12-31T23:59:58');
    expect(image.exif.cameraMake).toBe('Fujifilm');
    expect(image.exif.cameraModel).toBe('X-T4');
    expect(image.exif.orientation).toBe(6);
    expect(image.exif.gpsLat).toBeCloseTo(-33.8568, 3);
    expect(image.exif.gpsLon).toBeCloseTo(151.2153, 3);
    // Orientation 6 (rotate 90°): the catalogue's dimensions and thumbnail are upright.
    expect([image.width, image.height]).toEqual([40, 60]);
    expect([image.thumbnail.width, image.thumbnail.height]).toEqual([40, 60]);
  });

  it('an image without EXIF has nulls, not errors', async () => {
    const image = await analyseImage(await encodeImage({ width: 20, height: 10, format: 'gif', pattern: 'solid', color: [1, 2, 3] }));
    expect(image.exif).toMatchObject({ takenAt: null, cameraMake: null, gpsLat: null, gpsLon: null });
    expect([image.width, image.height]).toEqual([20, 10]);
  });
});
