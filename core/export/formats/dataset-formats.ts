/**
 * Dataset formats that load with one line in the tools ML users already have, on top of the
 * ImageFolder file layout `<split>/<class>/<file>` the export writes:
 *   - `huggingface`: `<split>/metadata.jsonl` per split (`file_name` relative to the split
 *     folder, `label`, `content_hash`, `source`, `confidence`), what `datasets`'s "imagefolder"
 *     builder reads — `load_dataset("imagefolder", data_dir=OUT)` gives train/validation/test
 *     splits (the "val" folder is its validation split) with the label and the extra columns;
 *   - `fiftyone`: each split folder is a `fo.types.ImageClassificationDirectoryTree` (the
 *     `<class>/<file>` tree FiftyOne imports as a classification dataset), added with its split
 *     as the samples' tag.
 * The manifest names the format and carries these load lines (`load`).
 */
import fs from 'node:fs';
import path from 'node:path';

export const TREE_FORMATS = ['imagefolder', 'fiftyone', 'huggingface'] as const;

/** A written image as the format files describe it. */
export interface FormatRow {
  /** Relative to the export folder, '/'-separated: `<split>/<class folder>/<file>`. */
  path: string;
  class: string;
  split: string;
  source: string;
  confidence: number;
  content_hash: string;
}

/** True for the formats whose images go under `<split>/<class>/`. */
export function usesSplitFolders(format: string): boolean {
  return (TREE_FORMATS as readonly string[]).includes(format);
}

/** Writes the files `format` adds to the tree (none for imagefolder); returns their '/'-separated relative paths. */
export function writeFormatFiles(folder: string, format: string, rows: readonly FormatRow[]): string[] {
  if (format !== 'huggingface') return [];
  const written: string[] = [];
  const bySplit = new Map<string, FormatRow[]>();
  for (const row of rows) (bySplit.get(row.split) ?? bySplit.set(row.split, []).get(row.split)!).push(row);
  for (const [split, splitRows] of bySplit) {
    const lines = splitRows.map((row) => JSON.stringify({
      file_name: row.path.slice(split.length + 1),
      label: row.class,
      content_hash: row.content_hash,
      source: row.source,
      confidence: row.confidence,
    }));
    fs.writeFileSync(path.join(folder, split, 'metadata.jsonl'), `${lines.join('\n')}\n`);
    written.push(`${split}/metadata.jsonl`);
  }
  return written;
}

/** The one-line loads the manifest and README give for `format` exported to `out`. */
export function loadLines(format: string, out: string): Record<string, string> {
  const dir = JSON.stringify(out);
  // Inside an f-string: braces doubled.
  const base = dir.slice(1, -1).replace(/[{}]/g, (brace) => brace + brace);
  if (format === 'huggingface') return { huggingface: `from datasets import load_dataset; ds = load_dataset("imagefolder", data_dir=${dir})` };
  if (format === 'fiftyone') {
    return {
      fiftyone: `import os, fiftyone as fo; ds = fo.Dataset(); [ds.add_dir(dataset_dir=f"${base}/{s}", dataset_type=fo.types.ImageClassificationDirectoryTree, tags=s) for s in ("train", "val", "test") if os.path.isdir(f"${base}/{s}")]`,
    };
  }
  if (format === 'imagefolder') return { torchvision: `import torchvision; train = torchvision.datasets.ImageFolder(${JSON.stringify(`${out}/train`)})` };
  return {};
}
