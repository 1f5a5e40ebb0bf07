/**
 * NumPy's .npy format, version 1.0 (what `numpy.save`/`numpy.load` write and read): the magic
 * "\x93NUMPY", version 1.0, a little-endian uint16 header length, a Python-literal dict header
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }` padded with spaces to a multiple
 * of 64 bytes and ended by a newline, then the raw C-order data. Written for float32 [N, D]
 * embeddings and uint8 pixels; read for float32/float64/float16 and uint8 (versions 1–3).
 */
import fs from 'node:fs';
import { halfToFloat, readFileBytes } from './bytes.ts';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** What a .npy holds: its shape and its values (floats as float32, uint8 as is). */
export interface NpyArray {
  shape: number[];
  dtype: '<f4' | '<f8' | '<f2' | '|u1';
  values: Float32Array | Uint8Array;
}

/** The bytes of a .npy file holding `values` with `shape` (float32 → '<f4', uint8 → '|u1'). */
export function encodeNpy(values: Float32Array | Uint8Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new Error(`npy: ${values.length} values for shape (${shape.join(', ')})`);
  const descr = values instanceof Float32Array ? '<f4' : '|u1';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(10 + header.length + data.length);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  // Little-endian hosts only (every platform Node runs the app on): the bytes are the values.
  data.copy(out, 10 + header.length);
  return out;
}

/** Writes a .npy file. */
export function writeNpy(file: string, values: Float32Array | Uint8Array, shape: readonly number[]): void {
  fs.writeFileSync(file, encodeNpy(values, shape));
}

/** Parses .npy bytes; `source` names the file in errors. */
export function decodeNpy(bytes: Buffer, source = 'the file'): NpyArray {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new Error(`${source} is not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.subarray(headerStart, headerStart + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${source}: cannot read its .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new Error(`${source}: the array is in Fortran order; save it with numpy.ascontiguousarray first`);
  const shape = shapeText.split(',').map((d) => d.trim()).filter((d) => d !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  const size = descr === '<f8' ? 8 : descr === '<f4' ? 4 : descr === '<f2' ? 2 : descr === '|u1' || descr === '<u1' ? 1 : 0;
  if (size === 0) throw new Error(`${source}: dtype ${descr} is not supported (float32, float64, float16 or uint8, little-endian)`);
  if (bytes.length - dataStart < count * size) throw new Error(`${source}: holds ${bytes.length - dataStart} bytes of data, shape (${shape.join(', ')}) of ${descr} needs ${count * size}`);
  if (size === 1) return { shape, dtype: '|u1', values: Uint8Array.from(bytes.subarray(dataStart, dataStart + count)) };
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const at = dataStart + i * size;
    values[i] = size === 8 ? bytes.readDoubleLE(at) : size === 4 ? bytes.readFloatLE(at) : halfToFloat(bytes.readUInt16LE(at));
  }
  return { shape, dtype: descr as NpyArray['dtype'], values };
}

/** Reads a .npy file, or throws naming the file and what is wrong with it. */
export function readNpy(file: string): NpyArray {
  return decodeNpy(readFileBytes(file), file);
}
