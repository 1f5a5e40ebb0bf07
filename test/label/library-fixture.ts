/**
 * A small real library for labeling and export tests: real image files (test/helpers writeImage),
 * a real ingest into a real SQLite file, and embeddings of one run. The embeddings are synthetic
 * (class centre + noise, L2-normalised) because training SimCLR is not what these tests check.
 */
import path from 'node:path';
import { ingestFolders } from '../../core/library/ingest.service.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';
import { seededRandom } from '../../core/common/random.ts';
import { tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';

export interface FixtureImage {
  path: string;
  imageId: number;
  /** The class the synthetic embedding was drawn around. */
  trueClass: string;
}

export interface LabelFixture {
  temp: TempLibrary;
  images: FixtureImage[];
  runId: number;
  dim: number;
}

/**
 * `perClass[name]` images per class, written as `<photos>/<name>-src/<name>-<i>.png` (24 px, distinct
 * pixels). Embeddings: dim 16, class centres far apart, `noise` spread.
 */
export async function labelFixture(perClass: Record<string, number>, options: { noise?: number; seed?: number; dim?: number } = {}): Promise<LabelFixture> {
  const temp = tempLibrary('looktwice-label-');
  const dim = options.dim ?? 16;
  let seed = options.seed ?? 1;
  const wanted: Array<{ path: string; trueClass: string }> = [];
  for (const [name, count] of Object.entries(perClass)) {
    for (let i = 0; i < count; i++) {
      const file = path.join(temp.photosDir, `${name}-src`, `${name}-${i}.png`);
      await writeImage(file, { width: 24, height: 24, pattern: 'noise', seed: seed++ });
      wanted.push({ path: file, trueClass: name });
    }
  }
  await ingestFolders(temp.library, [temp.photosDir]);
  const db = temp.library.db;
  const idOf = db.prepare("SELECT image_id FROM files WHERE path = ? AND status = 'present'").pluck();
  const images = wanted.map((w) => {
    const imageId = idOf.get(w.path) as number | undefined;
    if (imageId === undefined) throw new Error(`fixture: ${w.path} was not ingested`);
    return { ...w, imageId };
  });
  const runId = Number(db.prepare("INSERT INTO runs (status, config_json, backend, device) VALUES ('completed', '{}', 'cpu', 'test')").run().lastInsertRowid);
  const random = seededRandom(options.seed ?? 1);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const classNames = Object.keys(perClass);
  const centres = classNames.map(() => Array.from({ length: dim }, () => gaussian()));
  const noise = options.noise ?? 0.3;
  new EmbeddingsRepository(db).upsertMany(runId, images.map((image) => {
    const centre = centres[classNames.indexOf(image.trueClass)]!;
    const vector = Float32Array.from(centre, (v) => v + noise * gaussian());
    const norm = Math.hypot(...vector);
    return { imageId: image.imageId, vector: vector.map((v) => v / norm) };
  }));
  return { temp, images, runId, dim };
}
