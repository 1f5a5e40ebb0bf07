// The encoder out and in against real PyTorch: a trained run exported as safetensors loads into
// an equivalent nn.Module (looktwice_resnet.py, strict) whose embeddings equal Looktwice's; a
// torchvision resnet18 written by PyTorch (its own names, Lightly's backbone, module. prefix)
// imports as a run whose embeddings equal PyTorch's; a Looktwice export imports back unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ingestFolder, tempLibrary, writeImage, type TempLibrary } from '../helpers/index.ts';
import { trainLibrary } from '../../core/ml/train.service.ts';
import { embedLibrary } from '../../core/ml/embed.ts';
import { loadTrainingImages } from '../../core/ml/training-cache.ts';
import { EmbeddingsRepository } from '../../core/store/embeddings.repository.ts';
import { TrainingImagesRepository } from '../../core/store/training-images.repository.ts';
import { ImagesRepository } from '../../core/store/images.repository.ts';
import { RunsRepository } from '../../core/store/runs.repository.ts';
import { exportModel, importModel } from '../../core/app/interop.ts';
import { readNpy, writeNpy } from '../../core/interop/npy.ts';
import { readSafetensors } from '../../core/interop/safetensors.ts';
import { compareRows, torchCheck, TORCH_MISSING } from './python.ts';

let temp: TempLibrary;
let trainedRun: number;

/** uint8 [N, S, S, 3] of the library's images at `sizePx` (what embed feeds the encoder), in image-id order. */
async function pixelsAt(sizePx: number, file: string): Promise<number[]> {
  const ids = new ImagesRepository(temp.library.db).presentImageIds();
  const images = await loadTrainingImages(temp.library.dataDir, new TrainingImagesRepository(temp.library.db).list(ids), sizePx);
  writeNpy(file, images.pixels, [images.count, sizePx, sizePx, 3]);
  return images.imageIds;
}

async function embeddingsOf(run: number): Promise<{ imageIds: number[]; vectors: Float32Array; dim: number }> {
  await embedLibrary(temp.library, { runId: run, backend: 'wasm', threads: 1 });
  return new EmbeddingsRepository(temp.library.db).load(run);
}

beforeAll(async () => {
  temp = tempLibrary('looktwice-interop-model-');
  for (let i = 0; i < 6; i++) await writeImage(path.join(temp.photosDir, `p${i}.png`), { width: 40, height: 36, pattern: i % 2 ? 'shapes' : 'noise', seed: i + 3 });
  await ingestFolder(temp);
  // resnet-small at 16 px, widths 8-16-24 (a CIFAR stem; the last stage's first block has a
  // stride-2 1×1 shortcut on an even size: exactly where TensorFlow's and PyTorch's padding differ).
  const trained = await trainLibrary(temp.library, { backend: 'wasm', threads: 1, config: { sizePx: 16, batchSize: 6, steps: 2, widths: [8, 16, 24], blocks: [1, 2, 1] } });
  trainedRun = trained.run;
}, 120_000);

afterAll(() => temp?.cleanup());

describe.skipIf(TORCH_MISSING !== null)('encoder out and in, against real PyTorch', () => {
  it('model export: PyTorch loads the safetensors strictly and its embeddings equal Looktwice’s', async () => {
    const out = path.join(temp.dir, 'out', 'encoder.safetensors');
    const result = exportModel(temp.library, { runId: trainedRun, out });
    expect(result).toMatchObject({ run: trainedRun, arch: 'resnet-small', inputSize: 16, dim: 24 });
    for (const file of [result.weights, result.card, result.readme, result.pytorchModule]) expect(fs.existsSync(file)).toBe(true);
    const card = JSON.parse(fs.readFileSync(result.card, 'utf8')) as Record<string, unknown>;
    expect(card).toMatchObject({ arch: 'resnet-small', input_size: 16, stem: 'cifar', padding: 'same', widths: [8, 16, 24], blocks: [1, 2, 1], normalisation: { mean: [0.5, 0.5, 0.5], std: [1, 1, 1] } });
    const { tensors } = readSafetensors(out);
    expect(tensors.get('conv1.weight')!.shape).toEqual([8, 3, 3, 3]);
    expect(tensors.get('layer2.0.downsample.0.weight')!.shape).toEqual([16, 8, 1, 1]);
    expect(tensors.get('layer2.1.bn2.running_var')!.shape).toEqual([16]);
    expect(tensors.has('layer2.1.downsample.0.weight')).toBe(false);

    const pixels = path.join(temp.dir, 'pixels16.npy');
    const ids = await pixelsAt(16, pixels);
    const ours = await embeddingsOf(trainedRun);
    expect(ours.imageIds).toEqual(ids);
    const theirsFile = path.join(temp.dir, 'torch-export.npy');
    const report = torchCheck(['export-embeddings', path.dirname(out), out, pixels, theirsFile]);
    expect(report).toMatchObject({ n: 6, dim: 24 });
    const theirs = readNpy(theirsFile);
    const { minCosine, maxAbs } = compareRows(ours.vectors, theirs.values as Float32Array, 24);
    console.log(`model export vs PyTorch: min cosine ${minCosine.toFixed(7)}, max |Δ| ${maxAbs.toExponential(2)}`);
    expect(minCosine).toBeGreaterThanOrEqual(0.999);
    expect(maxAbs).toBeLessThan(1e-3);
  }, 120_000);

  it('model import: a torchvision resnet18 written by PyTorch embeds like PyTorch (32 px, ImageNet stem and normalisation)', async () => {
    const pixels = path.join(temp.dir, 'pixels32.npy');
    await pixelsAt(32, pixels);
    const results: Record<string, { minCosine: number; maxAbs: number }> = {};
    for (const layout of ['torchvision', 'lightly', 'module'] as const) {
      const weights = path.join(temp.dir, `resnet18-${layout}.safetensors`);
      const expected = path.join(temp.dir, `resnet18-${layout}.npy`);
      torchCheck(['make-resnet18', weights, pixels, expected, layout]);
      const imported = importModel(temp.library, { file: weights, arch: 'auto', sizePx: 32, normalisation: 'auto' });
      expect(imported).toMatchObject({ arch: 'resnet18', stem: 'imagenet', padding: 'symmetric', sizePx: 32, dim: 512, fromLooktwice: false });
      expect(imported.normalisation).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
      if (layout === 'torchvision') expect(imported.ignored).toEqual(['fc.weight', 'fc.bias']);
      if (layout === 'lightly') expect(imported.ignored).toEqual(['projection_head.layer.0.weight']);
      expect(new RunsRepository(temp.library.db).byId(imported.run)).toMatchObject({ status: 'completed' });
      if (layout !== 'torchvision') continue; // the same weights: one embedding pass is enough
      const ours = await embeddingsOf(imported.run);
      results[layout] = compareRows(ours.vectors, readNpy(expected).values as Float32Array, 512);
    }
    console.log(`model import (torchvision resnet18) vs PyTorch: ${JSON.stringify(results)}`);
    expect(results.torchvision!.minCosine).toBeGreaterThanOrEqual(0.999);
    expect(results.torchvision!.maxAbs).toBeLessThan(1e-3);
  }, 180_000);

  it('a Looktwice export imports back as a run with the same embeddings', async () => {
    const out = path.join(temp.dir, 'back', 'encoder.safetensors');
    exportModel(temp.library, { runId: trainedRun, out });
    const imported = importModel(temp.library, { file: out, arch: 'auto', normalisation: 'auto' });
    expect(imported).toMatchObject({ arch: 'resnet-small', padding: 'same', sizePx: 16, fromLooktwice: true, ignored: [] });
    const original = new EmbeddingsRepository(temp.library.db).load(trainedRun);
    const back = await embeddingsOf(imported.run);
    expect(compareRows(back.vectors, original.vectors, original.dim).maxAbs).toBeLessThan(1e-6);
  }, 60_000);
});
