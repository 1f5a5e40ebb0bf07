/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) for the benchmarks: an IDX loader for the four
 * `*-ubyte.gz` files of Debian's `dataset-fashion-mnist`, and the on-disk format in which
 * `bench:fmnist` saves the embeddings it computes so other benchmarks (bench:fewshot) can reuse
 * them without training again.
 *
 * Saved embeddings format (a folder, default `.looktwice-tmp/fmnist-embeddings/<name>/`):
 *   meta.json        { "name", "dim", "train_count", "test_count", "features": "simclr-h" | "raw-pixels" | …,
 *                      "created_at", plus free-form fields describing how they were made (arch, steps, …) }
 *   train.f32        float32 little-endian, row-major [train_count, dim] (row i = training image i, file order)
 *   test.f32         float32 little-endian, row-major [test_count, dim]
 *   train-labels.u8  uint8 [train_count], class 0..9 (copied from the IDX labels, for convenience)
 *   test-labels.u8   uint8 [test_count]
 * Features are saved as computed (not standardised, not L2-normalised); each consumer applies its
 * own protocol. `saveEmbeddings` / `loadEmbeddings` below write and read this format.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** One split: `count` grayscale images of `height`×`width` pixels, uint8 row-major [count, height, width]. */
export interface FashionMnistSplit {
  count: number;
  height: number;
  width: number;
  pixels: Uint8Array;
  labels: Uint8Array; // [count]
}

function readGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message} (install Debian's dataset-fashion-mnist or pass the folder)`);
  }
  return file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
}

/** Parses an IDX file (big-endian header: magic 0x00 0x00 type rank, then rank uint32 sizes, then data). */
export function parseIdx(buffer: Buffer, file = 'IDX data'): { shape: number[]; data: Uint8Array } {
  if (buffer.length < 4 || buffer[0] !== 0 || buffer[1] !== 0) throw new Error(`${file}: not an IDX file (bad magic)`);
  const type = buffer[2]!;
  if (type !== 0x08) throw new Error(`${file}: IDX element type 0x${type.toString(16)} is not unsigned byte`);
  const rank = buffer[3]!;
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(buffer.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const size = shape.reduce((a, b) => a * b, 1);
  if (buffer.length - offset !== size) throw new Error(`${file}: header says ${size} bytes of data, file has ${buffer.length - offset}`);
  return { shape, data: new Uint8Array(buffer.buffer, buffer.byteOffset + offset, size) };
}

/** Loads the `train` (60k) or `test` (10k) split from `dir`. */
export function loadFashionMnist(split: 'train' | 'test', dir = FASHION_MNIST_DIR): FashionMnistSplit {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesFile = path.join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsFile = path.join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  const images = parseIdx(readGzip(imagesFile), imagesFile);
  const labels = parseIdx(readGzip(labelsFile), labelsFile);
  if (images.shape.length !== 3) throw new Error(`${imagesFile}: expected rank 3, got ${images.shape.length}`);
  const [count, height, width] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) throw new Error(`${labelsFile}: ${labels.shape[0]} labels for ${count} images`);
  return { count, height, width, pixels: images.data, labels: labels.data };
}

/** Embeddings of both splits as saved by bench:fmnist (see the header for the file format). */
export interface SavedEmbeddings {
  meta: { name: string; dim: number; train_count: number; test_count: number; features: string; [key: string]: unknown };
  train: Float32Array; // [train_count, dim]
  test: Float32Array; // [test_count, dim]
  trainLabels: Uint8Array;
  testLabels: Uint8Array;
}

function float32ToLeBuffer(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i]!, i * 4);
  return out;
}

function leBufferToFloat32(buffer: Buffer): Float32Array {
  const out = new Float32Array(buffer.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buffer.readFloatLE(i * 4);
  return out;
}

/** Default folder for saved embeddings, relative to the project root. */
export const DEFAULT_EMBEDDINGS_DIR = '.looktwice-tmp/fmnist-embeddings';

/** Writes `embeddings` into `dir` (created). */
export function saveEmbeddings(dir: string, embeddings: SavedEmbeddings): void {
  const { meta } = embeddings;
  if (embeddings.train.length !== meta.train_count * meta.dim) throw new Error('train embeddings do not match meta.train_count × meta.dim');
  if (embeddings.test.length !== meta.test_count * meta.dim) throw new Error('test embeddings do not match meta.test_count × meta.dim');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'train.f32'), float32ToLeBuffer(embeddings.train));
  fs.writeFileSync(path.join(dir, 'test.f32'), float32ToLeBuffer(embeddings.test));
  fs.writeFileSync(path.join(dir, 'train-labels.u8'), embeddings.trainLabels);
  fs.writeFileSync(path.join(dir, 'test-labels.u8'), embeddings.testLabels);
  fs.writeFileSync(path.join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

/** Reads embeddings written by `saveEmbeddings`. */
export function loadEmbeddings(dir: string): SavedEmbeddings {
  const metaFile = path.join(dir, 'meta.json');
  let meta: SavedEmbeddings['meta'];
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as SavedEmbeddings['meta'];
  } catch (error) {
    throw new Error(`cannot read ${metaFile}: ${(error as Error).message} (run npm run bench:fmnist first)`);
  }
  const train = leBufferToFloat32(fs.readFileSync(path.join(dir, 'train.f32')));
  const test = leBufferToFloat32(fs.readFileSync(path.join(dir, 'test.f32')));
  if (train.length !== meta.train_count * meta.dim) throw new Error(`${dir}/train.f32 does not hold ${meta.train_count}×${meta.dim} floats`);
  if (test.length !== meta.test_count * meta.dim) throw new Error(`${dir}/test.f32 does not hold ${meta.test_count}×${meta.dim} floats`);
  const trainLabels = new Uint8Array(fs.readFileSync(path.join(dir, 'train-labels.u8')));
  const testLabels = new Uint8Array(fs.readFileSync(path.join(dir, 'test-labels.u8')));
  return { meta, train, test, trainLabels, testLabels };
}
