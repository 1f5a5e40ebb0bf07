import { expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openLibrary } from '../../core/store/db.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';

it('round-trips float32 vectors through little-endian BLOBs and finds missing images', () => {
  const library = openLibrary(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-emb-')), 'library.db'));
  const { db } = library;
  for (const [hash, p] of [['a', '/p/a.jpg'], ['b', '/p/b.jpg']] as const) {
    const imageId = db.prepare("INSERT INTO images (content_hash, byte_size, width, height, format) VALUES (?, 1, 1, 1, 'jpeg')").run(hash).lastInsertRowid;
    db.prepare('INSERT INTO files (path, image_id, size, mtime_ms) VALUES (?, ?, 1, 1)').run(p, imageId);
  }
  const runId = Number(db.prepare("INSERT INTO runs (status, config_json, backend, device) VALUES ('completed', '{}', 'cpu', 'cpu')").run().lastInsertRowid);
  const repository = new EmbeddingsRepository(db);
  expect(repository.latestRunWithEmbeddings()).toBeNull();
  const vector = new Float32Array([0.6, -0.8, 1e-7]);
  repository.upsertMany(runId, [{ imageId: 1, vector }]);
  expect(repository.imagesMissing(runId)).toEqual([2]);
  const matrix = repository.load(runId);
  expect(matrix.dim).toBe(3);
  expect(matrix.imageIds).toEqual([1]);
  expect(Array.from(matrix.vectors)).toEqual(Array.from(vector));
  expect(repository.latestRunWithEmbeddings()).toBe(runId);
  library.close();
});
