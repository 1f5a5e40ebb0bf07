/** Worker thread for ivfSearch: searches a range of query rows and posts back their neighbours. */
import { parentPort, workerData } from 'node:worker_threads';
import { searchIvfRows } from './ivf.ts';

interface IvfWorkerData {
  base: SharedArrayBuffer;
  queries: SharedArrayBuffer;
  dim: number;
  k: number;
  selfPositions: Int32Array | null;
  offsets: Int32Array;
  centres: Float32Array;
  probeCount: number;
  rowStart: number;
  rowEnd: number;
}

const data = workerData as IvfWorkerData;
const result = searchIvfRows(new Float32Array(data.base), new Float32Array(data.queries), data.dim, data.k, data, data.rowStart, data.rowEnd, data.selfPositions, (done) => {
  parentPort?.postMessage({ type: 'progress', done });
});
parentPort?.postMessage({ type: 'done', indices: result.indices, scores: result.scores }, [result.indices.buffer as ArrayBuffer, result.scores.buffer as ArrayBuffer]);
