/**
 * Embeddings on disk, for tools that read tables of vectors (pandas/pyarrow, DuckDB, FiftyOne,
 * Lightly): Parquet with one row per image — `id` (int32), `path`, `content_hash`, `split` and
 * `label` (strings, null when none) and `embedding` (list<float32>) — written with
 * hyparquet-writer (pure JavaScript, snappy), read back with hyparquet; or NumPy's .npy (float32
 * [N, D]) with a CSV of the same columns but the vector, row k of the CSV being row k of the array.
 */
import fs from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetReadObjects } from 'hyparquet';
import { formatCsv, parseCsv } from './csv.ts';
import { readNpy, writeNpy } from './npy.ts';
import { readFileBytes } from './bytes.ts';

/** One image's row. */
export interface EmbeddingRow {
  id: number;
  path: string | null;
  contentHash: string;
  split: string | null;
  label: string | null;
}

/** The rows and their vectors, row-major [N, D]. */
export interface EmbeddingTable {
  rows: EmbeddingRow[];
  dim: number;
  vectors: Float32Array;
}

/** Writes `table` as one Parquet file (replacing through a temporary name). */
export function writeEmbeddingsParquet(file: string, table: EmbeddingTable, metadata: Record<string, string>): void {
  const { rows, dim, vectors } = table;
  const embedding: number[][] = rows.map((_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: rows.map((r) => r.id) },
      { name: 'path', data: rows.map((r) => r.path) },
      { name: 'content_hash', data: rows.map((r) => r.contentHash) },
      { name: 'split', data: rows.map((r) => r.split) },
      { name: 'label', data: rows.map((r) => r.label) },
      { name: 'embedding', data: embedding },
    ],
    schema: [
      { name: 'root', num_children: 6 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'content_hash', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'split', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      // The standard three-level LIST (what pyarrow writes for list<float>).
      { name: 'embedding', repetition_type: 'REQUIRED', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    ],
    kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    createdBy: 'looktwice',
  });
  const temp = `${file}.partial-${process.pid}`;
  fs.writeFileSync(temp, Buffer.from(buffer));
  fs.renameSync(temp, file);
}

const CSV_HEADER = ['row', 'id', 'path', 'content_hash', 'split', 'label'];

/** Writes `table` as `<npyFile>` (float32 [N, D]) and `<csvFile>` (row, id, path, content_hash, split, label). */
export function writeEmbeddingsNpy(npyFile: string, csvFile: string, table: EmbeddingTable): void {
  writeNpy(npyFile, table.vectors, [table.rows.length, table.dim]);
  fs.writeFileSync(csvFile, formatCsv(CSV_HEADER, table.rows.map((r, k) => [k, r.id, r.path, r.contentHash, r.split, r.label])));
}

/** A row of a file being imported: how to find its image, and its vector. */
export interface ImportedRow {
  /** 1-based row in the file. */
  row: number;
  contentHash: string | null;
  path: string | null;
  vector: Float32Array | null;
  /** Why the row's vector cannot be used, if it cannot. */
  problem: string | null;
}

function checkedVector(values: ArrayLike<number> | null | undefined, dim: number | null): { vector: Float32Array | null; problem: string | null } {
  if (!values || typeof values.length !== 'number') return { vector: null, problem: 'no embedding' };
  const vector = Float32Array.from(values);
  if (vector.length === 0) return { vector: null, problem: 'an empty embedding' };
  if (dim !== null && vector.length !== dim) return { vector: null, problem: `an embedding of ${vector.length} values where the others have ${dim}` };
  if (!vector.every(Number.isFinite)) return { vector: null, problem: 'an embedding with a value that is not a finite number' };
  if (!vector.some((v) => v !== 0)) return { vector: null, problem: 'an all-zero embedding' };
  return { vector, problem: null };
}

/** Rows of a Parquet file with `content_hash` (or `path`) and `embedding` (list of numbers) columns. */
export async function readEmbeddingsParquet(file: string): Promise<ImportedRow[]> {
  const bytes = readFileBytes(file);
  let records: Array<Record<string, unknown>>;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    records = (await parquetReadObjects({ file: buffer })) as Array<Record<string, unknown>>;
  } catch (error) {
    throw new Error(`${file} is not a Parquet file Looktwice can read: ${(error as Error).message}`);
  }
  const first = records[0];
  if (first && !('embedding' in first)) throw new Error(`${file} has no "embedding" column (columns: ${Object.keys(first).join(', ')})`);
  if (first && !('content_hash' in first) && !('path' in first)) throw new Error(`${file} has neither a "content_hash" nor a "path" column to match images by`);
  let dim: number | null = null;
  return records.map((record, k) => {
    const { vector, problem } = checkedVector(record.embedding as ArrayLike<number> | null, dim);
    dim ??= vector?.length ?? null;
    const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
    return { row: k + 1, contentHash: text(record.content_hash), path: text(record.path), vector, problem };
  });
}

/** Rows of a .npy (float [N, D]) and its CSV (a content_hash or path column, row k = array row k). */
export function readEmbeddingsNpy(npyFile: string, csvFile: string): ImportedRow[] {
  const array = readNpy(npyFile);
  if (array.shape.length !== 2 || array.dtype === '|u1') throw new Error(`${npyFile}: expected a float array of shape (N, D), got ${array.dtype} (${array.shape.join(', ')})`);
  const [n, dim] = array.shape as [number, number];
  let text: string;
  try {
    text = fs.readFileSync(csvFile, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${csvFile} (the rows of ${npyFile}): ${(error as Error).message}`);
  }
  const records = parseCsv(text, csvFile);
  if (records.length !== n) throw new Error(`${csvFile} has ${records.length} rows but ${npyFile} has ${n} vectors: row k of the CSV must describe row k of the array`);
  if (records[0] && !('content_hash' in records[0]) && !('path' in records[0])) throw new Error(`${csvFile} has neither a "content_hash" nor a "path" column to match images by`);
  const values = array.values as Float32Array;
  return records.map((record, k) => {
    const { vector, problem } = checkedVector(values.subarray(k * dim, (k + 1) * dim), dim);
    const pick = (value: string | undefined) => (value !== undefined && value.trim() !== '' ? value.trim() : null);
    return { row: k + 1, contentHash: pick(record.content_hash), path: pick(record.path), vector, problem };
  });
}
