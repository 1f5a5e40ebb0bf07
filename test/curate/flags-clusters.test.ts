import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import { ingestFolder, tempLibrary, writeImage, runCli, type TempLibrary } from '../helpers/index.ts';
import { computeFlags } from '../../core/curate/flags.service.ts';
import { ensureFeatures } from '../../core/curate/features.service.ts';
import { clusterLibrary } from '../../core/curate/clusters.service.ts';
import { computeMap } from '../../core/curate/map.service.ts';
import { findSimilar } from '../../core/curate/similar.service.ts';
import { CurateRepository } from '../../core/store/curate.repository.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';

let temp: TempLibrary | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

describe('quality flags', () => {
  it('flags blurry, dark, bright, uniform, tiny and odd-aspect images and not the good ones', async () => {
    temp = tempLibrary('looktwice-flags-');
    const dir = temp.photosDir;
    for (const seed of [1, 2, 3, 4, 5, 6]) await writeImage(path.join(dir, `good-${seed}.png`), { width: 256, height: 192, pattern: 'shapes', seed });
    const source = path.join(dir, 'good-1.png');
    await sharp(source).blur(6).png().toFile(path.join(dir, 'blurry.png'));
    await sharp(source).linear(0.12, 0).png().toFile(path.join(dir, 'dark.png'));
    await sharp(source).linear(0.2, 215).png().toFile(path.join(dir, 'bright.png'));
    await writeImage(path.join(dir, 'uniform.png'), { width: 256, height: 192, pattern: 'solid', color: [90, 120, 60] });
    await writeImage(path.join(dir, 'tiny.png'), { width: 48, height: 36, pattern: 'shapes', seed: 7 });
    await writeImage(path.join(dir, 'panorama.png'), { width: 800, height: 160, pattern: 'shapes', seed: 8 });
    await ingestFolder(temp);
    const flags = await computeFlags(temp.library.db, { dataDir: temp.library.dataDir, all: true });
    const byName = new Map(flags.map((f) => [path.basename(f.path), f]));
    const has = (name: string): string[] => byName.get(name)!.flags;
    expect(has('blurry.png')).toContain('blurry');
    expect(has('dark.png')).toContain('too_dark');
    expect(has('bright.png')).toContain('too_bright');
    expect(has('uniform.png')).toEqual(expect.arrayContaining(['uniform', 'low_information']));
    expect(has('uniform.png')).not.toContain('blurry');
    expect(has('tiny.png')).toContain('tiny');
    expect(has('panorama.png')).toContain('odd_aspect');
    for (const seed of [1, 2, 3, 4, 5, 6]) expect(has(`good-${seed}.png`)).toEqual([]);
    expect(byName.get('blurry.png')!.scores.laplacianVariance).toBeLessThan(byName.get('good-1.png')!.scores.laplacianVariance!);

    // Scores are cached: a second run analyses nothing new.
    let analysed = 0;
    await ensureFeatures(temp.library.db, { onProgress: () => analysed++ });
    expect(analysed).toBe(0);
  });
});

describe('clusters, map and similarity on pixels and on embeddings', () => {
  /** Three visual families: solid-ish gradients of three colour schemes. */
  async function families(t: TempLibrary): Promise<void> {
    const colours: Array<[number, number, number]> = [[200, 30, 30], [30, 200, 30], [30, 30, 200]];
    for (const [f, colour] of colours.entries()) {
      for (let i = 0; i < 8; i++) {
        const pixels = Buffer.alloc(64 * 48 * 3);
        for (let y = 0; y < 48; y++) {
          for (let x = 0; x < 64; x++) {
            const shade = f === 0 ? x / 64 : f === 1 ? y / 48 : ((x + y) % 16) / 16;
            const o = (y * 64 + x) * 3;
            for (let c = 0; c < 3; c++) pixels[o + c] = Math.round(colour[c]! * (0.5 + 0.5 * shade) + i * 3);
          }
        }
        await sharp(pixels, { raw: { width: 64, height: 48, channels: 3 } }).png().toFile(path.join(t.photosDir, `family${f}-${i}.png`));
      }
    }
    await ingestFolder(t);
  }

  it('without a model: k-means finds the three families, map stores a point per image, similar ranks family first', async () => {
    temp = tempLibrary('looktwice-cluster-');
    await families(temp);
    const result = await clusterLibrary(temp.library.db, { k: 'auto' });
    expect(result.source).toBe('pixels');
    expect(result.clusters.map((c) => c.size).sort()).toEqual([8, 8, 8]);
    for (const cluster of result.clusters) {
      const family = path.basename(cluster.members[0]!).slice(0, 7);
      expect(cluster.members.every((m) => path.basename(m).startsWith(family))).toBe(true);
      expect(cluster.representatives.length).toBeGreaterThan(0);
    }
    const map = await computeMap(temp.library.db, { fitSample: 16 }); // fit on 16, transform 8
    expect(map.points).toHaveLength(24);
    expect(map.points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))).toBe(true);
    expect(new CurateRepository(temp.library.db).latestMap()!.points).toHaveLength(24);
    const similar = await findSimilar(temp.library.db, path.join(temp.photosDir, 'family1-0.png'), 5);
    expect(similar.results).toHaveLength(5);
    expect(similar.results.every((r) => path.basename(r.path).startsWith('family1'))).toBe(true);
  });

  it('with embeddings: uses the newest run and its structure', async () => {
    temp = tempLibrary('looktwice-cluster-emb-');
    await families(temp);
    const db = temp.library.db;
    const runId = Number(db.prepare("INSERT INTO runs (status, config_json, backend, device) VALUES ('completed', '{}', 'cpu', 'cpu')").run().lastInsertRowid);
    const files = new CurateRepository(db).presentFiles();
    // Embeddings that put images in two groups by index parity — unlike the pixel families.
    new EmbeddingsRepository(db).upsertMany(runId, files.map((f, i) => ({
      imageId: f.imageId,
      vector: Float32Array.from(i % 2 ? [1, 0.01 * (i % 5), 0, 0] : [0, 0, 1, 0.01 * (i % 5)]),
    })));
    const result = await clusterLibrary(db, { k: 'auto' });
    expect(result.source).toBe(`embeddings:${runId}`);
    expect(result.clusters.map((c) => c.size)).toEqual([12, 12]);
  });

  it('CLI: cluster, similar, flags and dedup print the documented JSON', async () => {
    temp = tempLibrary('looktwice-cli-curate-');
    await families(temp);
    const db = ['--db', temp.dbPath, '--json'];
    temp.library.close();
    const cluster = await runCli(['cluster', ...db, '--method', 'density']);
    expect(cluster.code).toBe(0);
    const clusters = JSON.parse(cluster.stdout) as { clusters: Array<{ id: number; size: number; representatives: string[]; members: string[] }> };
    expect(clusters.clusters.reduce((n, c) => n + c.size, 0)).toBe(24);
    for (const c of clusters.clusters) expect(Object.keys(c)).toEqual(['id', 'size', 'representatives', 'members']);
    const similar = await runCli(['similar', path.join(temp.photosDir, 'family0-0.png'), '--k', '3', ...db]);
    expect(similar.code).toBe(0);
    const results = (JSON.parse(similar.stdout) as { results: Array<{ path: string; score: number }> }).results;
    expect(results).toHaveLength(3);
    expect(Object.keys(results[0]!)).toEqual(['path', 'score']);
    const flags = await runCli(['flags', ...db]);
    expect(flags.code).toBe(0);
    expect(JSON.parse(flags.stdout)).toHaveProperty('flags');
    const dedup = await runCli(['dedup', ...db]);
    expect(dedup.code).toBe(0);
    const groups = (JSON.parse(dedup.stdout) as { groups: Array<Record<string, unknown>> }).groups;
    for (const g of groups) expect(Object.keys(g)).toEqual(expect.arrayContaining(['kind', 'keep', 'members', 'similarity']));
    const missing = await runCli(['similar', '/nowhere/x.jpg', ...db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not in the library/);
  });
});
