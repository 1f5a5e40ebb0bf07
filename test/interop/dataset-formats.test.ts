// Dataset exports that load with one line: huggingface (the ImageFolder tree + metadata.jsonl per
// split, as datasets' "imagefolder" builder reads it) and fiftyone (each split an
// ImageClassificationDirectoryTree); the manifest names the format and the load line. Real
// torchvision ImageFolder reads the split folders; the metadata is checked the way the builder
// resolves it (file_name relative to the metadata file's folder).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { ImagesRepository } from '../../core/store/images.repository.ts';
import { LabelsRepository } from '../../core/store/labels.repository.ts';
import { exportDataset } from '../../core/app/export.ts';
import { exportOptionsSchema } from '../../core/app/schemas.ts';
import { PYTHON, TORCH_MISSING } from './python.ts';

let temp: TempLibrary;

beforeAll(async () => {
  temp = tempLibrary('looktwice-interop-formats-');
  for (let i = 0; i < 12; i++) await writeImage(path.join(temp.photosDir, `${i % 2 ? 'cat' : 'dog'}-${i}.png`), { width: 20, height: 20, pattern: 'noise', seed: 70 + i });
  await ingestFolder(temp);
  const labels = new LabelsRepository(temp.library.db);
  const ids = new ImagesRepository(temp.library.db).presentImageIds();
  const paths = labels.pathsOf(ids);
  for (const name of ['cat', 'dog']) labels.setLabels(ids.filter((id) => path.basename(paths.get(id)!).startsWith(name)), labels.ensureClass(name));
}, 60_000);

afterAll(() => temp?.cleanup());

describe('dataset formats', () => {
  it('huggingface: metadata.jsonl per split whose file_name resolves beside it; the manifest gives load_dataset', async () => {
    const out = path.join(temp.dir, 'hf');
    const result = await exportDataset(temp.library, exportOptionsSchema.parse({ out, format: 'huggingface', split: [0.5, 0.25, 0.25] }));
    expect(result.exported).toBe(12);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { format: string; layout: string; load: Record<string, string> };
    expect(manifest.format).toBe('huggingface');
    expect(manifest.layout).toBe('<split>/<class>/<file> + <split>/metadata.jsonl');
    expect(manifest.load.huggingface).toBe(`from datasets import load_dataset; ds = load_dataset("imagefolder", data_dir=${JSON.stringify(out)})`);
    let rows = 0;
    for (const split of ['train', 'val', 'test']) {
      const lines = fs.readFileSync(path.join(out, split, 'metadata.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const row of lines) {
        expect(Object.keys(row)).toEqual(['file_name', 'label', 'content_hash', 'source', 'confidence']);
        const file = path.join(out, split, row.file_name as string);
        expect(fs.existsSync(file)).toBe(true);
        // The label column agrees with the class folder (what the builder would infer without it).
        expect(path.basename(path.dirname(file))).toBe(row.label);
      }
      // Every image of the split folder is described.
      const images = fs.readdirSync(path.join(out, split), { recursive: true }).filter((f) => String(f).endsWith('.png'));
      expect(images).toHaveLength(lines.length);
      rows += lines.length;
    }
    expect(rows).toBe(12);
  });

  it.skipIf(TORCH_MISSING !== null)('fiftyone: each split is a <class>/<file> tree (torchvision ImageFolder reads them); the manifest gives the from-dir line', async () => {
    const out = path.join(temp.dir, 'fo');
    const result = await exportDataset(temp.library, exportOptionsSchema.parse({ out, format: 'fiftyone', split: [0.5, 0.25, 0.25] }));
    expect(result.exported).toBe(12);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { format: string; load: Record<string, string> };
    expect(manifest.format).toBe('fiftyone');
    expect(manifest.load.fiftyone).toContain('dataset_type=fo.types.ImageClassificationDirectoryTree, tags=s');
    // The line is valid Python (compiled, not run: FiftyOne is not installed here).
    const compiled = spawnSync(PYTHON, ['-c', `compile(${JSON.stringify(manifest.load.fiftyone)}, "load", "exec")`], { encoding: 'utf8' });
    expect(compiled.status, compiled.stderr).toBe(0);
    const read = spawnSync(PYTHON, ['-c', `import json, torchvision; print(json.dumps({s: len(torchvision.datasets.ImageFolder(${JSON.stringify(out)} + "/" + s)) for s in ("train", "val", "test")}))`], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual(result.splits);
  });
});
