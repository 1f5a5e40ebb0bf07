/**
 * Vector maths on row-major matrices (`[N, D]` in one Float32Array, row r at offset r·D): the one
 * dot product, L2 normalisation and cosine helpers that curation, labeling and the probe share.
 * For L2-normalised rows the dot product is the cosine similarity, which is how every
 * similarity in Looktwice is computed. Plain loops: V8 compiles them to tight machine code and
 * there is no tensor backend to wait for in these small products.
 */

/** A row-major matrix or a single vector (typed arrays, or plain arrays for umap-js). */
export type Vectors = ArrayLike<number>;

/** Σ a[aOffset + d] · b[bOffset + d] for d < dim (two rows, or two whole vectors at offset 0). */
export function dot(a: Vectors, aOffset: number, b: Vectors, bOffset: number, dim: number): number {
  let sum = 0;
  for (let d = 0; d < dim; d++) sum += a[aOffset + d]! * b[bOffset + d]!;
  return sum;
}

/** Dot product of two whole vectors of the same length. */
export function dotVectors(a: Vectors, b: Vectors): number {
  if (a.length !== b.length) throw new Error(`dot product of vectors of lengths ${a.length} and ${b.length}`);
  return dot(a, 0, b, 0, a.length);
}

/** Scales each row of `vectors` [N, dim] to unit length in place (zero rows stay zero); returns it. */
export function normaliseRows<T extends Float32Array | Float64Array>(vectors: T, dim: number): T {
  for (let offset = 0; offset < vectors.length; offset += dim) {
    const norm = dot(vectors, offset, vectors, offset, dim);
    if (norm > 0) {
      const scale = 1 / Math.sqrt(norm);
      for (let d = 0; d < dim; d++) vectors[offset + d]! *= scale;
    }
  }
  return vectors;
}

/** Unit-length copies of the given rows of `vectors` [N, dim] (all rows by default): [rows, dim]. */
export function normalisedRows(vectors: Float32Array, dim: number, rows?: readonly number[]): Float32Array {
  const count = rows ? rows.length : vectors.length / dim;
  const out = new Float32Array(count * dim);
  for (let k = 0; k < count; k++) {
    const source = (rows ? rows[k]! : k) * dim;
    out.set(vectors.subarray(source, source + dim), k * dim);
  }
  return normaliseRows(out, dim);
}
