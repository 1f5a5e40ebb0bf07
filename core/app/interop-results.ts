/**
 * What the interop use cases (core/app/interop.ts) return, declared once: core/api/contract.ts
 * re-exports these under its names (ModelExportInfo, …). Types only, importing nothing that
 * needs Node, because the contract (and so the renderer's type check) reaches this file.
 */
import type { ResNetArch } from '../ml/choices.ts';

/** An encoder written as torchvision-layout safetensors, with what was written beside it. */
export interface ModelExportResult {
  run: number;
  weights: string;
  card: string;
  readme: string;
  pytorchModule: string;
  arch: string;
  inputSize: number;
  dim: number;
  tensors: number;
}

/** An encoder imported as a run. */
export interface ModelImportResult {
  run: number;
  arch: ResNetArch;
  widths: number[];
  blocks: number[];
  stem: 'cifar' | 'imagenet';
  sizePx: number;
  padding: 'same' | 'symmetric';
  normalisation: { mean: number[]; std: number[] };
  dim: number;
  /** Tensors of the file that are not part of the encoder (a head, fc, a momentum encoder…). */
  ignored: string[];
  /** Whether the file carried a Looktwice model card (a Looktwice export coming back). */
  fromLooktwice: boolean;
}

/** Embeddings written to disk. */
export interface EmbeddingsExportResult {
  run: number;
  format: 'parquet' | 'npy';
  rows: number;
  dim: number;
  files: string[];
}

/** A row of an imported file that matched no image (or could not be used). */
export interface UnmatchedRow {
  /** 1-based row (or the file, for a folder tree). */
  row: number | string;
  key: string;
  reason: string;
}

/** Embeddings imported (or, with dryRun, what would be). */
export interface EmbeddingsImportResult {
  dryRun: boolean;
  /** The new run holding them (null on a dry run or when nothing matched). */
  run: number | null;
  rows: number;
  matched: number;
  dim: number;
  unmatchedCount: number;
  /** The first unmatched rows. */
  unmatched: UnmatchedRow[];
}

/** Labels imported (or, with dryRun, what would be). */
export interface LabelsImportResult {
  dryRun: boolean;
  /** The source's kind (LabelSourceKind of core/interop/labels-source.ts). */
  kind: 'folder' | 'csv' | 'jsonl';
  rows: number;
  matched: number;
  /** Images given a label (new or changed). */
  labeled: number;
  /** Images that already had that label. */
  unchanged: number;
  /** Images you had labeled differently (kept unless replace). */
  conflicts: number;
  classesCreated: string[];
  perClass: Record<string, number>;
  unmatchedCount: number;
  unmatched: UnmatchedRow[];
}
