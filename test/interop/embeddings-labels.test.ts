// Embeddings and labels in and out against real consumers and producers: DuckDB (from npm)
// reads the Parquet export and writes a Parquet Looktwice imports; NumPy reads the .npy export
// and writes one Looktwice imports; labels come from a folder tree of copies, a CSV and a JSONL;
// bad encoder files are refused naming the tensor; the API and the CLI validate like the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ingestFolder, runCli, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';
import { ImagesRepository } from '../../core/store/images.repository.ts';
import { LabelsRepository } from '../../core/store/labels.repository.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';
import { saveCheckpoint } from '../../core/ml/checkpoint.ts';
import { exportEmbeddings, exportModel, importEmbeddings, importLabels, importModel } from '../../core/app/interop.ts';
import { readNpy } from '../../core/interop/npy.ts';
import { encodeSafetensors, readSafetensors } from '../../core/interop/safetensors.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import { PYTHON } from './python.ts';

const DIM = 4;
let temp: TempLibrary;
let run: number;
let hashes: Map<number, string>;
const files: string[] = [];

async function duckdb(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
  } finally {
    connection.closeSync();
  }
}

beforeAll(async () => {
  temp = tempLibrary('looktwice-interop-embeddings-');
  for (let i = 0; i < 5; i++) files.push(await writeImage(path.join(temp.photosDir, `img${i}.png`), { width: 24, height: 20, pattern: 'noise', seed: 40 + i }));
  await ingestFolder(temp);
  const ids = new ImagesRepository(temp.library.db).presentImageIds();
  hashes = new Map(ids.map((id) => [id, new ImagesRepository(temp.library.db).byId(id)!.contentHash]));
  const runs = new RunsRepository(temp.library.db);
  run = runs.create({ config: { arch: 'test' }, backend: 'cpu', device: 'test', stepsTotal: 1 });
  runs.finish(run, { status: 'completed', stepsDone: 1, finalLoss: null, imagesPerS: null });
  // Unit vectors with a different direction per image.
  new EmbeddingsRepository(temp.library.db).upsertMany(run, ids.map((id, k) => {
    const v = Float32Array.from({ length: DIM }, (_, d) => (d === k % DIM ? 0.8 : 0.2 + 0.01 * k));
    const norm = Math.hypot(...v);
    return { imageId: id, vector: v.map((x) => x / norm) };
  }));
  const labels = new LabelsRepository(temp.library.db);
  labels.setLabels([idOf(files[0]!)], labels.ensureClass('cat'));
}, 60_000);

afterAll(() => temp?.cleanup());

describe('embeddings out and in', () => {
  it('Parquet: DuckDB reads id, path, content_hash, split, label and the embedding as FLOAT[]', async () => {
    const out = path.join(temp.dir, 'emb.parquet');
    const result = await exportEmbeddings(temp.library, { out, format: 'parquet', runId: run });
    expect(result).toMatchObject({ run, rows: 5, dim: DIM, files: [out] });
    const types = await duckdb(`DESCRIBE SELECT * FROM read_parquet('${out}')`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({ id: 'INTEGER', path: 'VARCHAR', content_hash: 'VARCHAR', split: 'VARCHAR', label: 'VARCHAR', embedding: 'FLOAT[]' });
    const rows = await duckdb(`SELECT * FROM read_parquet('${out}') ORDER BY id`);
    const stored = new EmbeddingsRepository(temp.library.db).load(run);
    expect(rows.map((r) => r.id)).toEqual(stored.imageIds);
    rows.forEach((row, k) => {
      expect(row.content_hash).toBe(hashes.get(stored.imageIds[k]!));
      expect(files).toContain(row.path);
      const vector = row.embedding as number[];
      for (let d = 0; d < DIM; d++) expect(vector[d]).toBeCloseTo(stored.vectors[k * DIM + d]!, 6);
    });
    expect(rows.find((r) => r.id === idOf(files[0]!))).toMatchObject({ label: 'cat', split: 'train' });
    expect(rows.find((r) => r.id === idOf(files[1]!))).toMatchObject({ label: null, split: null });
    await expect(exportEmbeddings(temp.library, { out, format: 'parquet', runId: run })).rejects.toThrow(/already exists/);
  });

  it('Parquet written by DuckDB imports by content hash, with unmatched rows reported', async () => {
    const source = path.join(temp.dir, 'emb.parquet');
    const theirs = path.join(temp.dir, 'from-duckdb.parquet');
    await duckdb(`COPY (SELECT content_hash, [e * 2 FOR e IN embedding] AS embedding FROM read_parquet('${source}')
                  UNION ALL SELECT 'ff' || repeat('0', 62), [1.0, 0.0, 0.0, 0.0]) TO '${theirs}' (FORMAT parquet)`);
    const dry = await importEmbeddings(temp.library, { file: theirs, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, run: null, rows: 6, matched: 5, unmatchedCount: 1 });
    expect(dry.unmatched[0]).toMatchObject({ row: 6, reason: 'no image in the library has this content hash' });
    const result = await importEmbeddings(temp.library, { file: theirs, dryRun: false, name: 'from duckdb' });
    expect(result).toMatchObject({ matched: 5, dim: DIM });
    // Stored L2-normalised (×2 undone): the same vectors as the original run.
    const back = new EmbeddingsRepository(temp.library.db).load(result.run!);
    const original = new EmbeddingsRepository(temp.library.db).load(run);
    expect(back.imageIds).toEqual(original.imageIds);
    back.vectors.forEach((v, i) => expect(v).toBeCloseTo(original.vectors[i]!, 6));
    expect(new RunsRepository(temp.library.db).byId(result.run!)).toMatchObject({ status: 'completed', config: { imported: 'from duckdb' } });
  });

  it.skipIf(spawnSync(PYTHON, ['-c', 'import numpy']).status !== 0)('.npy + CSV: NumPy reads the export; a .npy NumPy wrote with paths of copies elsewhere imports', async () => {
    const out = path.join(temp.dir, 'emb.npy');
    const result = await exportEmbeddings(temp.library, { out, format: 'npy', runId: run });
    expect(result.files).toEqual([out, path.join(temp.dir, 'emb.csv')]);
    const check = spawnSync(PYTHON, ['-c', `import numpy as np, json; a = np.load(${JSON.stringify(out)}); print(json.dumps([list(a.shape), str(a.dtype), float(a[2, 2])]))`], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    const stored = new EmbeddingsRepository(temp.library.db).load(run);
    const [shape, dtype, value] = JSON.parse(check.stdout) as [number[], string, number];
    expect(shape).toEqual([5, DIM]);
    expect(dtype).toBe('float32');
    expect(value).toBeCloseTo(stored.vectors[2 * DIM + 2]!, 6);
    expect(fs.readFileSync(path.join(temp.dir, 'emb.csv'), 'utf8').split('\n')[0]).toBe('row,id,path,content_hash,split,label');

    // Copies of two photos elsewhere, and vectors NumPy saved for them (float64), matched by hashing the copies.
    const elsewhere = path.join(temp.dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.copyFileSync(files[1]!, path.join(elsewhere, 'a.png'));
    fs.copyFileSync(files[3]!, path.join(elsewhere, 'b.png'));
    const npy = path.join(elsewhere, 'vectors.npy');
    const made = spawnSync(PYTHON, ['-c', `import numpy as np; np.save(${JSON.stringify(npy)}, np.array([[3.0, 4.0, 0, 0], [0, 0, 1.0, 0], [1, 1, 1, 1]]))`], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    fs.writeFileSync(path.join(elsewhere, 'vectors.csv'), 'path\na.png\nb.png\nmissing.png\n'.replace(/^(?!path)(.+)$/gm, (p) => path.join(elsewhere, p)));
    const imported = await importEmbeddings(temp.library, { file: npy, dryRun: false });
    expect(imported).toMatchObject({ rows: 3, matched: 2, unmatchedCount: 1 });
    expect(imported.unmatched[0]!.reason).toMatch(/cannot read the file \(ENOENT\)/);
    const back = new EmbeddingsRepository(temp.library.db).load(imported.run!);
    const k = back.imageIds.indexOf(idOf(files[1]!));
    expect(back.imageIds.sort()).toEqual([idOf(files[1]!), idOf(files[3]!)].sort());
    expect(Array.from(back.vectors.subarray(k * DIM, (k + 1) * DIM))).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6), 0, 0]);
    expect(readNpy(npy).shape).toEqual([3, 4]);
  });
});

describe('labels in', () => {
  it('from a folder tree of copies (matched by content), dry run first; conflicts kept unless replace', async () => {
    const tree = path.join(temp.dir, 'sorted');
    fs.mkdirSync(path.join(tree, 'dog', 'nested'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'cat'));
    fs.copyFileSync(files[0]!, path.join(tree, 'dog', 'x.png')); // labeled "cat" by the user: a conflict
    fs.copyFileSync(files[1]!, path.join(tree, 'dog', 'nested', 'y.png'));
    fs.copyFileSync(files[2]!, path.join(tree, 'cat', 'z.png'));
    await writeImage(path.join(tree, 'cat', 'unknown.png'), { width: 10, height: 10, pattern: 'noise', seed: 999 });
    fs.writeFileSync(path.join(tree, 'cat', 'notes.txt'), 'not an image');
    const labels = new LabelsRepository(temp.library.db);
    const before = labels.labels('user');
    const dry = await importLabels(temp.library, { source: tree, dryRun: true, replace: false });
    expect(dry).toMatchObject({ dryRun: true, kind: 'folder', rows: 4, matched: 3, labeled: 2, conflicts: 1, unchanged: 0, classesCreated: ['dog'], perClass: { dog: 1, cat: 1 }, unmatchedCount: 1 });
    expect(dry.unmatched[0]).toMatchObject({ row: 'cat/unknown.png', reason: 'no image in the library has the same content' });
    expect(labels.labels('user')).toEqual(before);
    expect(labels.classByName('dog')).toBeNull();

    const done = await importLabels(temp.library, { source: tree, dryRun: false, replace: false });
    expect(done).toMatchObject({ labeled: 2, conflicts: 1 });
    const byHash = (file: string) => labels.labels('user').find((l) => l.imageId === idOf(file))?.className;
    expect(byHash(files[0]!)).toBe('cat');
    expect(byHash(files[1]!)).toBe('dog');
    expect(byHash(files[2]!)).toBe('cat');
    const again = await importLabels(temp.library, { source: tree, dryRun: false, replace: true });
    expect(again).toMatchObject({ labeled: 1, unchanged: 2, conflicts: 0 });
    expect(byHash(files[0]!)).toBe('dog');
  });

  it('from CSV and JSONL of path,label (relative to the file); bad rows reported', async () => {
    const dir = path.join(temp.dir, 'tables');
    fs.mkdirSync(dir);
    fs.copyFileSync(files[3]!, path.join(dir, 'p3.png'));
    fs.writeFileSync(path.join(dir, 'labels.csv'), `file_name,class\np3.png,bird\n"${files[4]!}",bird\nnope.png,bird\np3.png,\n`);
    const csv = await importLabels(temp.library, { source: path.join(dir, 'labels.csv'), dryRun: false, replace: false });
    expect(csv).toMatchObject({ kind: 'csv', rows: 4, matched: 2, labeled: 2, perClass: { bird: 2 }, unmatchedCount: 2 });
    expect(csv.unmatched.map((u) => u.reason)).toEqual([expect.stringMatching(/cannot read the file/), 'the row has no label']);
    fs.writeFileSync(path.join(dir, 'labels.jsonl'), `{"path": "p3.png", "label": "bird"}\n{"content_hash": "${hashOf(files[2]!)}", "label": "a/b"}\n`);
    const jsonl = await importLabels(temp.library, { source: path.join(dir, 'labels.jsonl'), dryRun: true, replace: false });
    expect(jsonl).toMatchObject({ kind: 'jsonl', rows: 2, matched: 1, unchanged: 1, unmatchedCount: 1 });
    expect(jsonl.unmatched[0]!.reason).toMatch(/^class name "a\/b" contains a character not allowed/);
    await expect(importLabels(temp.library, { source: path.join(dir, 'p3.png'), dryRun: true, replace: false })).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('give a folder of <class>/<file>, a .csv or a .jsonl') });
  });
});

/** SHA-256 of a file (what ingest stores as its content hash). */
function hashOf(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The image id of a photo of the library. */
function idOf(file: string): number {
  return new ImagesRepository(temp.library.db).byContentHash(hashOf(file))!.id;
}

describe('bad encoder files, the API and the CLI', () => {
  it('a missing or mis-shaped tensor is refused naming it', () => {
    // A real (tiny) Looktwice checkpoint exported, then broken.
    const runs = new RunsRepository(temp.library.db);
    const id = runs.create({ config: { arch: 'resnet-small' }, backend: 'cpu', device: 'test', stepsTotal: 1 });
    const widths = [4, 8];
    const tensors = [
      { name: 'encoder/stem/conv/filter', shape: [3, 3, 3, 4] },
      ...bn('encoder/stem/bn', 4),
      { name: 'encoder/stage1/block1/conv1/filter', shape: [3, 3, 4, 4] }, ...bn('encoder/stage1/block1/bn1', 4),
      { name: 'encoder/stage1/block1/conv2/filter', shape: [3, 3, 4, 4] }, ...bn('encoder/stage1/block1/bn2', 4),
      { name: 'encoder/stage2/block1/conv1/filter', shape: [3, 3, 4, 8] }, ...bn('encoder/stage2/block1/bn1', 8),
      { name: 'encoder/stage2/block1/conv2/filter', shape: [3, 3, 8, 8] }, ...bn('encoder/stage2/block1/bn2', 8),
      { name: 'encoder/stage2/block1/shortcut/conv/filter', shape: [1, 1, 4, 8] }, ...bn('encoder/stage2/block1/shortcut/bn', 8),
    ].map((t) => ({ ...t, values: Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.5 + (i % 7) / 10) }));
    saveCheckpoint(path.join(temp.library.dataDir, 'checkpoints', `run-${id}`), { step: 1, config: { arch: 'resnet-small', sizePx: 16, channels: 3, widths, blocks: [1, 1], seed: 0 }, random: { state: 0, spareNormal: null }, optimizerIterations: 0, lastLoss: null }, tensors);
    runs.setCheckpointPath(id, `checkpoints/run-${id}`);
    runs.finish(id, { status: 'completed', stepsDone: 1, finalLoss: null, imagesPerS: null });
    const good = path.join(temp.dir, 'small.safetensors');
    exportModel(temp.library, { runId: id, out: good });
    const { tensors: saved } = readSafetensors(good);
    const write = (name: string, list: Array<{ name: string; shape: number[]; values: Float32Array | Float64Array; dtype: string }>) => {
      const file = path.join(temp.dir, name);
      fs.writeFileSync(file, encodeSafetensors(list.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype === 'I64' ? 'I64' : 'F32', values: t.values }))));
      return file;
    };
    const all = [...saved.values()];
    const missing = write('missing.safetensors', all.filter((t) => t.name !== 'layer2.0.downsample.1.running_var'));
    expect(() => importModel(temp.library, { file: missing, arch: 'auto', normalisation: 'auto' })).toThrow(/tensor layer2\.0\.downsample\.1\.running_var is missing \(expected shape \[8\]\)/);
    const misShaped = write('mis-shaped.safetensors', all.map((t) => (t.name === 'layer1.0.conv2.weight' ? { ...t, shape: [4, 4, 9, 1] } : t)).map((t) => ({ ...t, name: `backbone.${t.name}` })));
    expect(() => importModel(temp.library, { file: misShaped, arch: 'auto', normalisation: 'auto' })).toThrow(/tensor backbone\.layer1\.0\.conv2\.weight has shape \[4, 4, 9, 1\], expected \[4, 4, 3, 3\]/);
    const wrongArch = write('small-plain.safetensors', all);
    expect(() => importModel(temp.library, { file: wrongArch, arch: 'resnet18', normalisation: 'auto' })).toThrow(/widths 4-8 and blocks 1-1, which is not resnet18/);
    const notOne = path.join(temp.dir, 'not.safetensors');
    fs.writeFileSync(notOne, 'hello world, not weights');
    expect(() => importModel(temp.library, { file: notOne, arch: 'auto', normalisation: 'auto' })).toThrow(/is not a safetensors file/);
    expect(importModel(temp.library, { file: wrongArch, arch: 'auto', normalisation: 'imagenet' })).toMatchObject({ arch: 'resnet-small', widths, blocks: [1, 1], stem: 'cifar', sizePx: 32, padding: 'symmetric', normalisation: { mean: [0.485, 0.456, 0.406] } });
  });

  it('the API validates with the schemas and answers with the use cases', async () => {
    temp.library.close();
    const service = LooktwiceService.open(temp.dbPath);
    try {
      await expect(service.exportEmbeddings({ out: path.join(temp.dir, 'x.parquet'), format: 'csv' as 'npy' })).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('format must be one of parquet, npy') });
      await expect(service.importModel({ file: path.join(temp.dir, 'missing.safetensors'), sizePx: 17 })).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('sizePx must be a multiple of 8') });
      const dry = await service.importLabels({ source: path.join(temp.dir, 'sorted'), dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, matched: 3, unchanged: 3 });
      const written = await service.exportEmbeddings({ out: path.join(temp.dir, 'api.parquet') });
      expect(written).toMatchObject({ format: 'parquet', dim: DIM });
    } finally {
      await service.close();
      temp.library = (await import('../../core/store/db.ts')).openLibrary(temp.dbPath);
    }
  });

  it('the CLI: model import of a broken file exits 1 naming the tensor; a bad option exits 2', async () => {
    const broken = await runCli(['model', 'import', path.join(temp.dir, 'missing.safetensors'), '--db', temp.dbPath]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/layer2\.0\.downsample\.1\.running_var is missing/);
    const badFormat = await runCli(['embeddings', 'export', '--out', path.join(temp.dir, 'y.parquet'), '--format', 'csv', '--db', temp.dbPath]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/--format must be one of parquet, npy/);
    const labels = await runCli(['labels-import', path.join(temp.dir, 'sorted'), '--dry-run', '--json', '--db', temp.dbPath]);
    expect(labels.code, labels.stderr).toBe(0);
    expect(JSON.parse(labels.stdout)).toMatchObject({ dryRun: true, rows: 4, matched: 3 });
    expect(labels.stderr).toMatch(/cat\/unknown\.png: no image in the library has the same content/);
  });
});

function bn(name: string, channels: number): Array<{ name: string; shape: number[] }> {
  return ['scale', 'offset', 'moving_mean', 'moving_variance'].map((p) => ({ name: `${name}/${p}`, shape: [channels] }));
}
