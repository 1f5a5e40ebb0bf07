// A fair baseline (real SQLite library, real decode): when the newest model's quality gauge says
// its embedding is not better than raw pixels, clusters and similar search use the pixel
// descriptor and say why; a model that beats the pixels, or one chosen explicitly, is used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { clusterLibrary } from '../../core/curate/clusters.service.ts';
import { findSimilar } from '../../core/curate/similar.service.ts';
import { curationVectors } from '../../core/curate/vectors.ts';
import { CurateRepository } from '../../core/store/curate.repository.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';

let temp: TempLibrary;
let runId: number;

beforeAll(async () => {
  temp = tempLibrary('looktwice-fair-baseline-');
  for (let i = 0; i < 8; i++) await writeImage(path.join(temp.photosDir, `p${i}.png`), { width: 48, height: 40, pattern: i % 2 ? 'shapes' : 'gradient', seed: i + 1 });
  await ingestFolder(temp);
  const db = temp.library.db;
  runId = Number(db.prepare("INSERT INTO runs (status, config_json, backend, device) VALUES ('completed', '{}', 'cpu', 'cpu')").run().lastInsertRowid);
  const files = new CurateRepository(db).presentFiles();
  new EmbeddingsRepository(db).upsertMany(runId, files.map((f, i) => ({ imageId: f.imageId, vector: Float32Array.from([i % 2, 1 - (i % 2), 0.1 * i, 0]) })));
});

afterAll(() => temp.cleanup());

const reading = (step: number, top1: number, pixelsTop1: number) => ({ step, top1, alignment: 0.5, uniformity: -2, pixelsTop1, heldOut: 20, stoppedHelping: false });

describe('fair baseline between the model and the pixel descriptor', () => {
  it('uses the embeddings while the run has no gauge (runs from before it)', async () => {
    const data = await curationVectors(temp.library.db);
    expect(data.source).toBe(`embeddings:${runId}`);
    expect(data.note).toBeUndefined();
  });

  it('uses pixels, and says why, when the gauge says the model is not better than the pixels', async () => {
    const runs = new RunsRepository(temp.library.db);
    runs.recordGauge(runId, reading(0, 0.3, 0.4));
    runs.recordGauge(runId, reading(10, 0.35, 0.4));
    const clusters = await clusterLibrary(temp.library.db, { k: 2 });
    expect(clusters.source).toBe('pixels');
    expect(clusters.note).toMatch(new RegExp(`model #${runId} is not better than raw pixels .*35\\.0 %, pixels 40\\.0 %`));
    const file = new CurateRepository(temp.library.db).presentFiles()[0]!;
    const similar = await findSimilar(temp.library.db, file.path, 3);
    expect(similar.source).toBe('pixels');
    expect(similar.note).toMatch(/quality gauge/);
    // Chosen explicitly, the model is used whatever the gauge says.
    expect((await curationVectors(temp.library.db, { embeddingRunId: runId })).source).toBe(`embeddings:${runId}`);
  });

  it('uses the embeddings once the latest reading beats the pixels', async () => {
    new RunsRepository(temp.library.db).recordGauge(runId, reading(20, 0.55, 0.4));
    const data = await curationVectors(temp.library.db);
    expect(data.source).toBe(`embeddings:${runId}`);
    expect(data.note).toBeUndefined();
  });
});
