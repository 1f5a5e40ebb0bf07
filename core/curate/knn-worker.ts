/**
 * Worker thread for parallel exact k-NN: searches its share of the query rows against the whole
 * base, both given as SharedArrayBuffers (no copies), and posts back its rows of the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { knnSearch } from './knn.ts';

interface KnnWorkerData {
  queries: SharedArrayBuffer;
  base: SharedArrayBuffer;
  dim: number;
  k: number;
  excludeSelf: boolean;
  queryStart: number;
  queryEnd: number;
}

const data = workerData as KnnWorkerData;
const result = knnSearch(new Float32Array(data.queries), new Float32Array(data.base), data.dim, data.k, {
  excludeSelf: data.excludeSelf,
  queryStart: data.queryStart,
  queryEnd: data.queryEnd,
  onBlock: (done) => parentPort?.postMessage({ type: 'progress', done }),
});
parentPort?.postMessage({ type: 'done', indices: result.indices, scores: result.scores }, [result.indices.buffer as ArrayBuffer, result.scores.buffer as ArrayBuffer]);
