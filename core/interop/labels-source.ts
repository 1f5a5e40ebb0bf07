/**
 * Labels from outside the library, as rows of (file, class):
 *   - a folder tree `<root>/<class>/<file>` (files in sub-folders of a class folder count for that
 *     class), as many people already sort photos; only image files (core/library/formats.ts);
 *   - a CSV with a header naming a path column (`path`, `file`, `filename`, `file_name`, `image`)
 *     and a label column (`label`, `class`, `category`), optionally `content_hash`;
 *   - JSONL, one object per line with the same keys.
 * Relative paths are relative to the CSV/JSONL's folder. Matching rows to images (by content
 * hash) is the use case's (core/app/interop.ts); `hashFile` gives the hash ingest gives.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hasImageExtension } from '../library/formats.ts';
import { parseCsv } from './csv.ts';

/** One labeled file of the source. */
export interface LabelSourceRow {
  /** 1-based row, or the file's path relative to the root for a folder tree. */
  row: number | string;
  /** Absolute path, or null when the row gives only a content hash. */
  path: string | null;
  contentHash: string | null;
  label: string;
}

export type LabelSourceKind = 'folder' | 'csv' | 'jsonl';

const PATH_KEYS = ['path', 'file', 'filename', 'file_name', 'image', 'filepath'];
const LABEL_KEYS = ['label', 'class', 'category', 'class_name'];

/** SHA-256 (hex) of a file's bytes: the library's content hash (core/library/read-file.ts). */
export async function hashFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function walk(folder: string, out: string[]): void {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && hasImageExtension(entry.name)) out.push(full);
  }
}

function pickKey(record: Record<string, unknown>, keys: readonly string[]): string | undefined {
  return keys.find((key) => key in record) ?? Object.keys(record).find((key) => keys.includes(key.toLowerCase()));
}

/** Reads a label source: a folder (tree), a .csv or a .jsonl; throws naming the file and the problem. */
export function readLabelSource(source: string): { kind: LabelSourceKind; rows: LabelSourceRow[] } {
  const resolved = path.resolve(source);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch (error) {
    throw new Error(`cannot read ${resolved}: ${(error as Error).message}`);
  }
  if (stat.isDirectory()) {
    const rows: LabelSourceRow[] = [];
    for (const entry of fs.readdirSync(resolved, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const files: string[] = [];
      walk(path.join(resolved, entry.name), files);
      for (const file of files) rows.push({ row: path.relative(resolved, file).split(path.sep).join('/'), path: file, contentHash: null, label: entry.name });
    }
    if (rows.length === 0) throw new Error(`${resolved} has no <class>/<image file> inside: name one folder per class and put the images in them`);
    return { kind: 'folder', rows };
  }
  const extension = path.extname(resolved).toLowerCase();
  if (extension !== '.csv' && extension !== '.jsonl' && extension !== '.ndjson') throw new Error(`${resolved}: give a folder of <class>/<file>, a .csv or a .jsonl`);
  const text = fs.readFileSync(resolved, 'utf8');
  const base = path.dirname(resolved);
  let records: Array<Record<string, unknown>>;
  if (extension === '.csv') records = parseCsv(text, resolved);
  else {
    records = [];
    text.split(/\r?\n/).forEach((line, k) => {
      if (line.trim() === '') return;
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
        records.push(value as Record<string, unknown>);
      } catch (error) {
        throw new Error(`${resolved}: line ${k + 1} is not a JSON object (${(error as Error).message})`);
      }
    });
  }
  const first = records[0] ?? {};
  const pathKey = pickKey(first, PATH_KEYS);
  const labelKey = pickKey(first, LABEL_KEYS);
  const hasHash = 'content_hash' in first;
  if (!labelKey) throw new Error(`${resolved} has no label column (one of ${LABEL_KEYS.join(', ')})`);
  if (!pathKey && !hasHash) throw new Error(`${resolved} has no path column (one of ${PATH_KEYS.join(', ')}) nor content_hash`);
  const rows = records.map((record, k): LabelSourceRow => {
    const value = pathKey ? record[pathKey] : undefined;
    const file = typeof value === 'string' && value.trim() !== '' ? path.resolve(base, value.trim()) : null;
    const hash = hasHash && typeof record.content_hash === 'string' && record.content_hash.trim() !== '' ? record.content_hash.trim().toLowerCase() : null;
    const label = record[labelKey];
    return { row: k + 1, path: file, contentHash: hash, label: typeof label === 'string' || typeof label === 'number' ? String(label).trim() : '' };
  });
  return { kind: extension === '.csv' ? 'csv' : 'jsonl', rows };
}
