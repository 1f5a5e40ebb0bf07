/**
 * Interop use cases (the encoder, embeddings and labels in and out, core/interop): exporting a
 * run's encoder as torchvision-layout safetensors with its model card, importing an encoder
 * trained elsewhere as a run that embed, similar search, clusters and the probe use, the
 * embeddings as Parquet or .npy + CSV and back (matched by content hash), and labels from a
 * folder tree or a CSV/JSONL of path,label.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Library } from '../store/db.ts';
import { RunsRepository } from '../store/runs.repository.ts';
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor } from '../ml/checkpoint.ts';
import type { ModelConfig } from '../ml/simclr-model.ts';
import type { ResNetArch } from '../ml/choices.ts';
import { invalid } from '../common/errors.ts';
import { readSafetensors, writeSafetensors } from '../interop/safetensors.ts';
import { encoderFromTorchvision, encoderToTorchvision, normaliseNames, structureOfStateDict, type EncoderStructure } from '../interop/torchvision-resnet.ts';
import { cardFromMetadata, IMAGENET_NORMALISATION, LOOKTWICE_NORMALISATION, modelCard, modelReadme, PYTORCH_MODULE, type ModelCard } from '../interop/model-card.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { ImagesRepository } from '../store/images.repository.ts';
import { LabelsRepository } from '../store/labels.repository.ts';
import { LibraryViewRepository } from '../store/library-view.repository.ts';
import { normaliseRows } from '../common/vectors.ts';
import { readEmbeddingsNpy, readEmbeddingsParquet, writeEmbeddingsNpy, writeEmbeddingsParquet, type EmbeddingRow, type ImportedRow } from '../interop/embeddings-io.ts';
import { hashFile, readLabelSource } from '../interop/labels-source.ts';
import { runToEmbedWith } from './embedding.ts';
import { previewExport } from './export.ts';
import { createClass, setLabels } from './labels.ts';
import { validateClassName } from '../label/labels.service.ts';
import { exportOptionsSchema, type ParamsOut } from './schemas.ts';
import type { EmbeddingsExportResult, EmbeddingsImportResult, LabelsImportResult, ModelExportResult, ModelImportResult, UnmatchedRow } from './interop-results.ts';

// ───────────── the encoder out ─────────────

function isResnet18(structure: EncoderStructure): boolean {
  return structure.widths.join('-') === '64-128-256-512' && structure.blocks.join('-') === '2-2-2-2';
}

/** Writes the encoder of a run (default: the newest completed or stopped one) as safetensors + card + README + PyTorch module. */
export function exportModel(library: Library, options: ParamsOut<'exportModel'>): ModelExportResult {
  const run = runToEmbedWith(library, options.runId);
  const out = path.resolve(options.out);
  if (!out.endsWith('.safetensors')) throw invalid(`The encoder is written as safetensors: name the file <name>.safetensors (not ${path.basename(out)}).`);
  if (fs.existsSync(out) && !options.force) throw invalid(`${out} already exists; choose another name or pass --force to replace it.`);
  const { meta, tensors } = loadCheckpoint<ModelConfig>(path.join(library.dataDir, ...run.checkpointPath!.split('/')));
  const { structure, tensors: torchTensors } = encoderToTorchvision(tensors, run.stepsDone);
  const config = meta.config;
  const card = modelCard(structure, {
    arch: isResnet18(structure) ? 'resnet18' : config.arch,
    sizePx: config.sizePx,
    padding: config.padding ?? 'same',
    normalisation: config.normalisation ?? LOOKTWICE_NORMALISATION,
    runId: run.id,
    stepsDone: run.stepsDone,
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  writeSafetensors(out, torchTensors, { format: 'pt', looktwice: JSON.stringify(card) });
  const stem = out.slice(0, -'.safetensors'.length);
  const cardFile = `${stem}.json`;
  const readme = `${stem}.README.md`;
  const pytorchModule = path.join(path.dirname(out), 'looktwice_resnet.py');
  fs.writeFileSync(cardFile, `${JSON.stringify(card, null, 2)}\n`);
  fs.writeFileSync(readme, modelReadme(card, path.basename(out)));
  fs.writeFileSync(pytorchModule, PYTORCH_MODULE);
  return { run: run.id, weights: out, card: cardFile, readme, pytorchModule, arch: card.arch, inputSize: card.input_size, dim: card.output.dim, tensors: torchTensors.length };
}

// ───────────── the encoder in ─────────────

/**
 * Makes a torchvision-layout ResNet checkpoint (safetensors) a completed run of this library:
 * its encoder is checked tensor by tensor, converted to Looktwice's layout and saved as the run's
 * checkpoint, so `embed`, similar search, clusters and the probe use it like a trained one.
 */
export function importModel(library: Library, options: ParamsOut<'importModel'>): ModelImportResult {
  const file = path.resolve(options.file);
  let read: ReturnType<typeof readSafetensors>;
  try {
    read = readSafetensors(file);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const card: ModelCard | null = cardFromMetadata(read.metadata);
  let structure: EncoderStructure;
  let tensors: CheckpointTensor[];
  let ignored: string[];
  try {
    const names = normaliseNames(read.tensors);
    structure = structureOfStateDict(names, file);
    ({ tensors, ignored } = encoderFromTorchvision(names, structure, file));
  } catch (error) {
    throw invalid((error as Error).message);
  }
  if (structure.inputChannels !== 3) throw invalid(`${file}: the encoder takes ${structure.inputChannels} input channels; Looktwice feeds RGB (3).`);
  const arch: ResNetArch = isResnet18(structure) ? 'resnet18' : 'resnet-small';
  if (options.arch !== 'auto' && options.arch !== arch) {
    throw invalid(`${file} holds a ResNet with widths ${structure.widths.join('-')} and blocks ${structure.blocks.join('-')}, which is not ${options.arch}${arch === 'resnet18' ? ' (it is resnet18)' : ''}.`);
  }
  const sizePx = options.sizePx ?? card?.input_size ?? (structure.stem === 'cifar' ? 32 : 224);
  const normalisation =
    options.normalisation === 'imagenet' ? IMAGENET_NORMALISATION
    : options.normalisation === 'looktwice' ? LOOKTWICE_NORMALISATION
    : card?.normalisation ?? IMAGENET_NORMALISATION;
  const padding = card?.padding ?? 'symmetric';
  const config: ModelConfig = {
    arch, sizePx, channels: 3, widths: structure.widths, blocks: structure.blocks,
    stem: structure.stem, padding, normalisation, seed: 0,
  };
  const runs = new RunsRepository(library.db);
  const runId = runs.create({ config: { ...config, imported: path.basename(file), importedFrom: card ? 'looktwice' : 'torchvision' }, backend: 'import', device: 'imported', stepsTotal: 0 });
  try {
    const relpath = `checkpoints/run-${runId}`;
    saveCheckpoint(path.join(library.dataDir, 'checkpoints', `run-${runId}`), { step: 0, config, random: { state: 0, spareNormal: null }, optimizerIterations: 0, lastLoss: null }, tensors);
    runs.setCheckpointPath(runId, relpath);
    runs.finish(runId, { status: 'completed', stepsDone: 0, finalLoss: null, imagesPerS: null });
  } catch (error) {
    runs.finish(runId, { status: 'failed', stepsDone: 0, finalLoss: null, imagesPerS: null, error: (error as Error).message });
    throw error;
  }
  return {
    run: runId, arch, widths: structure.widths, blocks: structure.blocks, stem: structure.stem, sizePx, padding, normalisation,
    dim: structure.widths[structure.widths.length - 1]!, ignored, fromLooktwice: card !== null,
  };
}

// ───────────── embeddings out ─────────────

function refuseExisting(file: string, force: boolean | undefined): void {
  if (fs.existsSync(file) && !force) throw invalid(`${file} already exists; choose another name or pass --force to replace it.`);
}

/**
 * Writes the embeddings of a run (default: the newest with embeddings) with each image's id,
 * primary path, content hash, label (the current one: yours, else the probe's) and split (the
 * split the dataset export gives it with its default settings; null when it would not be exported).
 */
export async function exportEmbeddings(library: Library, options: ParamsOut<'exportEmbeddings'>): Promise<EmbeddingsExportResult> {
  const embeddings = new EmbeddingsRepository(library.db);
  const runId = options.runId ?? embeddings.latestRunWithEmbeddings();
  if (runId === null) throw invalid('Nothing is embedded yet: run `looktwice embed` (or import embeddings) first.');
  const matrix = embeddings.load(runId);
  if (matrix.imageIds.length === 0) throw invalid(`Run ${runId} has no embeddings: run \`looktwice embed --run ${runId}\` first.`);
  const out = path.resolve(options.out);
  const extension = options.format === 'parquet' ? '.parquet' : '.npy';
  if (!out.endsWith(extension)) throw invalid(`The ${options.format} export is one file named <name>${extension} (not ${path.basename(out)}).`);
  const csv = `${out.slice(0, -4)}.csv`;
  refuseExisting(out, options.force);
  if (options.format === 'npy') refuseExisting(csv, options.force);
  const views = new Map(new LibraryViewRepository(library.db).imagesByIds(matrix.imageIds).map((view) => [view.id, view]));
  const plan = await previewExport(library, exportOptionsSchema.parse({ out }));
  const splitOf = new Map(plan.images.map((image) => [image.imageId, image.split]));
  const rows: EmbeddingRow[] = matrix.imageIds.map((id) => {
    const view = views.get(id);
    return { id, path: view?.path || null, contentHash: view?.hash ?? '', split: splitOf.get(id) ?? null, label: view?.label?.className ?? null };
  });
  const table = { rows, dim: matrix.dim, vectors: matrix.vectors };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (options.format === 'parquet') {
    writeEmbeddingsParquet(out, table, { 'looktwice.run': String(runId), 'looktwice.dim': String(matrix.dim), 'looktwice.normalised': 'L2' });
    return { run: runId, format: 'parquet', rows: rows.length, dim: matrix.dim, files: [out] };
  }
  writeEmbeddingsNpy(out, csv, table);
  return { run: runId, format: 'npy', rows: rows.length, dim: matrix.dim, files: [out, csv] };
}

// ───────────── embeddings in ─────────────

/** How many unmatched rows a result lists (all are counted). */
const UNMATCHED_LISTED = 200;

/** The image of a row: by its content hash, else by hashing the file at its path (copies elsewhere match). */
async function imageOfRow(images: ImagesRepository, row: { contentHash: string | null; path: string | null }): Promise<{ imageId: number } | { reason: string; key: string }> {
  if (row.contentHash) {
    const image = images.byContentHash(row.contentHash.toLowerCase());
    return image ? { imageId: image.id } : { key: row.contentHash, reason: 'no image in the library has this content hash' };
  }
  if (!row.path) return { key: '', reason: 'the row names no file and no content hash' };
  let hash: string;
  try {
    hash = await hashFile(row.path);
  } catch (error) {
    return { key: row.path, reason: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  const image = images.byContentHash(hash);
  return image ? { imageId: image.id } : { key: row.path, reason: 'no image in the library has the same content' };
}

/**
 * Imports embeddings computed elsewhere (a .parquet with content_hash/path + embedding, or a
 * .npy with its CSV) as a new completed run holding them (L2-normalised, as the library stores
 * them), matched to images by content hash; rows that match nothing are reported, not fatal.
 */
export async function importEmbeddings(library: Library, options: ParamsOut<'importEmbeddings'>): Promise<EmbeddingsImportResult> {
  const file = path.resolve(options.file);
  let rows: ImportedRow[];
  try {
    if (file.toLowerCase().endsWith('.parquet')) rows = await readEmbeddingsParquet(file);
    else if (file.toLowerCase().endsWith('.npy')) rows = readEmbeddingsNpy(file, path.resolve(options.rows ?? `${file.slice(0, -4)}.csv`));
    else throw new Error(`${file}: give a .parquet file or a .npy (with its .csv)`);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const images = new ImagesRepository(library.db);
  const unmatched: UnmatchedRow[] = [];
  const byImage = new Map<number, Float32Array>();
  let dim = 0;
  for (const row of rows) {
    const key = row.contentHash ?? row.path ?? '';
    if (!row.vector) {
      unmatched.push({ row: row.row, key, reason: row.problem ?? 'no embedding' });
      continue;
    }
    const found = await imageOfRow(images, row);
    if ('reason' in found) {
      unmatched.push({ row: row.row, key: found.key, reason: found.reason });
      continue;
    }
    if (byImage.has(found.imageId)) {
      unmatched.push({ row: row.row, key, reason: 'an earlier row already gave this image an embedding' });
      continue;
    }
    dim = row.vector.length;
    byImage.set(found.imageId, row.vector);
  }
  const result = { dryRun: options.dryRun, run: null as number | null, rows: rows.length, matched: byImage.size, dim, unmatchedCount: unmatched.length, unmatched: unmatched.slice(0, UNMATCHED_LISTED) };
  if (options.dryRun || byImage.size === 0) return result;
  const runs = new RunsRepository(library.db);
  const runId = runs.create({ config: { arch: 'external', imported: options.name ?? path.basename(file), dim }, backend: 'import', device: 'external embeddings', stepsTotal: 0 });
  const batch = [...byImage].map(([imageId, vector]) => ({ imageId, vector: normaliseRows(vector, dim) }));
  new EmbeddingsRepository(library.db).upsertMany(runId, batch);
  runs.finish(runId, { status: 'completed', stepsDone: 0, finalLoss: null, imagesPerS: null });
  return { ...result, run: runId };
}

// ───────────── labels in ─────────────

/**
 * Labels from a folder tree `<class>/<file>` or a CSV/JSONL of path,label: each row's file is
 * matched to its image by content (so a copy anywhere matches) and gets the class as your label;
 * classes are created as needed. An image you labeled differently keeps your label unless
 * `replace` (counted as a conflict); `dryRun` only reports.
 */
export async function importLabels(library: Library, options: ParamsOut<'importLabels'>): Promise<LabelsImportResult> {
  let source: ReturnType<typeof readLabelSource>;
  try {
    source = readLabelSource(options.source);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const images = new ImagesRepository(library.db);
  const labels = new LabelsRepository(library.db);
  const current = new Map(labels.labels('user').map((row) => [row.imageId, row.className]));
  const unmatched: UnmatchedRow[] = [];
  const wanted = new Map<number, string>();
  for (const row of source.rows) {
    if (row.label === '') {
      unmatched.push({ row: row.row, key: row.path ?? row.contentHash ?? '', reason: 'the row has no label' });
      continue;
    }
    let label: string;
    try {
      label = validateClassName(row.label);
    } catch (error) {
      unmatched.push({ row: row.row, key: row.label, reason: (error as Error).message });
      continue;
    }
    const found = await imageOfRow(images, row);
    if ('reason' in found) {
      unmatched.push({ row: row.row, key: found.key, reason: found.reason });
      continue;
    }
    const earlier = wanted.get(found.imageId);
    if (earlier !== undefined && earlier !== label) {
      unmatched.push({ row: row.row, key: row.path ?? row.contentHash ?? '', reason: `the same image is labeled "${earlier}" by an earlier row` });
      continue;
    }
    wanted.set(found.imageId, label);
  }
  const existingClasses = new Set(labels.listClasses().map((c) => c.name));
  const classesCreated = [...new Set(wanted.values())].filter((name) => !existingClasses.has(name)).sort();
  const perClass: Record<string, number> = {};
  const toSet = new Map<string, number[]>();
  let unchanged = 0;
  let conflicts = 0;
  for (const [imageId, className] of wanted) {
    const had = current.get(imageId);
    if (had === className) {
      unchanged++;
      continue;
    }
    if (had !== undefined && !options.replace) {
      conflicts++;
      continue;
    }
    perClass[className] = (perClass[className] ?? 0) + 1;
    (toSet.get(className) ?? toSet.set(className, []).get(className)!).push(imageId);
  }
  const labeled = [...toSet.values()].reduce((sum, ids) => sum + ids.length, 0);
  if (!options.dryRun) {
    for (const [className, imageIds] of toSet) {
      const classId = labels.classByName(className)?.id ?? createClass(library, className).id;
      setLabels(library, imageIds, classId);
    }
  }
  return {
    dryRun: options.dryRun, kind: source.kind, rows: source.rows.length, matched: wanted.size, labeled, unchanged, conflicts,
    classesCreated, perClass, unmatchedCount: unmatched.length, unmatched: unmatched.slice(0, UNMATCHED_LISTED),
  };
}
