/**
 * The safetensors file format (what PyTorch, Hugging Face and Lightly exchange weights in):
 * an 8-byte little-endian header length N, N bytes of JSON — for each tensor its dtype, shape
 * and [begin, end) byte offsets into the data that follows, plus an optional "__metadata__"
 * map of strings — then the raw little-endian tensor data, C order. Written and read here
 * directly (the format is that small), so no native or Python dependency is needed.
 *
 * Reading accepts F32, F16, BF16 and F64 (converted to float32) and I64/I32 (integer counters
 * such as batch norm's num_batches_tracked); a file whose header or offsets do not add up is
 * refused naming the file and the tensor.
 */
import fs from 'node:fs';
import { halfToFloat, readFileBytes } from './bytes.ts';

/** The dtypes this module reads; it writes F32 and I64. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32';

/** One tensor: float values as float32, integers as float64 numbers (exact below 2^53). */
export interface NamedTensor {
  name: string;
  /** C-order shape, e.g. [out, in, kh, kw] for a PyTorch convolution weight. */
  shape: number[];
  dtype: SafetensorsDtype;
  values: Float32Array | Float64Array;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4 };

/** A tensor to write: float32 values (F32) or whole numbers (I64). */
export interface TensorToWrite {
  name: string;
  shape: number[];
  dtype: 'F32' | 'I64';
  values: ArrayLike<number>;
}

/** The bytes of a safetensors file holding `tensors` (in the given order) and `metadata`. */
export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.values.length) throw new Error(`safetensors: tensor ${t.name} has ${t.values.length} values for shape [${t.shape.join(', ')}]`);
    if (t.name in header) throw new Error(`safetensors: tensor ${t.name} is given twice`);
    const bytes = count * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // The header is padded with spaces so the data starts 8-byte aligned (as the reference writer does).
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    if (t.dtype === 'F32') {
      for (let i = 0; i < t.values.length; i++, at += 4) out.writeFloatLE(t.values[i]!, at);
    } else {
      for (let i = 0; i < t.values.length; i++, at += 8) out.writeBigInt64LE(BigInt(Math.round(t.values[i]!)), at);
    }
  }
  return out;
}

/** Writes a safetensors file (to a temporary name, then renamed, so a crash leaves no half file). */
export function writeSafetensors(file: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): void {
  const temp = `${file}.partial-${process.pid}`;
  fs.writeFileSync(temp, encodeSafetensors(tensors, metadata));
  fs.renameSync(temp, file);
}

/** Parses safetensors bytes; `source` names the file in errors. */
export function decodeSafetensors(bytes: Buffer, source = 'the file'): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${source} is not a safetensors file: it is only ${bytes.length} bytes long`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) throw new Error(`${source} is not a safetensors file: its header length (${headerLength}) is larger than the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${source} is not a safetensors file: its header is not JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${source} is not a safetensors file: its header is not a JSON object`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: string; shape?: unknown; data_offsets?: unknown };
    if (!dtype || !(dtype in BYTES)) throw new Error(`${source}: tensor ${name} has dtype ${String(dtype)}, which is not supported (F32, F16, BF16, F64, I64, I32)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${source}: tensor ${name} has no valid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o))) throw new Error(`${source}: tensor ${name} has no valid data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const size = BYTES[dtype as SafetensorsDtype];
    if (end - begin !== count * size || begin < 0 || end > dataLength) {
      throw new Error(`${source}: tensor ${name} (${dtype} [${(shape as number[]).join(', ')}]) does not fit its data_offsets [${begin}, ${end}) in ${dataLength} bytes of data`);
    }
    const at = dataStart + begin;
    const kind = dtype as SafetensorsDtype;
    const values = kind === 'I64' || kind === 'F64' || kind === 'I32' ? new Float64Array(count) : new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const p = at + i * size;
      values[i] =
        kind === 'F32' ? bytes.readFloatLE(p)
        : kind === 'F64' ? bytes.readDoubleLE(p)
        : kind === 'F16' ? halfToFloat(bytes.readUInt16LE(p))
        : kind === 'BF16' ? (() => { const b = Buffer.alloc(4); b.writeUInt16LE(bytes.readUInt16LE(p), 2); return b.readFloatLE(0); })()
        : kind === 'I32' ? bytes.readInt32LE(p)
        : Number(bytes.readBigInt64LE(p));
    }
    tensors.set(name, { name, shape: shape as number[], dtype: kind, values });
  }
  return { tensors, metadata };
}

/** Reads a safetensors file, or throws naming the file and what is wrong with it. */
export function readSafetensors(file: string): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileBytes(file), file);
}
