/**
 * HEIC/HEIF (HEVC-coded) decoding. sharp's prebuilt libvips reads HEIF containers and AVIF but
 * has no HEVC decoder, so HEIC pixels come from heic-decode (libheif as WebAssembly). Its
 * decoder is synchronous and CPU-heavy, so it runs in a small pool of worker threads (one per
 * core, created on first use and unref'd so they never keep the process alive).
 * The decoded pixels already have the file's rotation/mirroring (irot/imir) applied.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface DecodedPixels {
  width: number;
  height: number;
  /** RGBA, row-major, 4 bytes per pixel. */
  pixels: Uint8Array;
}

interface Job {
  id: number;
  bytes: Uint8Array;
  resolve: (value: DecodedPixels) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  job: Job | null;
}

type WorkerReply = { id: number; width: number; height: number; pixels: Uint8Array } | { id: number; error: string };

/**
 * The worker script beside this module — or, in a bundle (esbuild points import.meta.url at the
 * bundle), beside the bundle: packaging copies heic-worker.mjs there. Resolved on first use so
 * a library without HEIC files never needs it.
 */
function workerUrl(): URL {
  const url = new URL('./heic-worker.mjs', import.meta.url);
  if (!fs.existsSync(url)) throw new Error(`the HEIC decoder's worker script is missing (${url.pathname}); the installation is incomplete`);
  return url;
}
const poolSize = Math.max(1, Math.min(4, os.availableParallelism()));
const pool: PoolWorker[] = [];
const queue: Job[] = [];
let nextId = 1;

function startWorker(): PoolWorker {
  const entry: PoolWorker = { worker: new Worker(workerUrl()), job: null };
  entry.worker.unref();
  entry.worker.on('message', (reply: WorkerReply) => {
    const job = entry.job;
    entry.job = null;
    entry.worker.unref();
    if (job && job.id === reply.id) {
      if ('error' in reply) job.reject(new Error(reply.error));
      else job.resolve({ width: reply.width, height: reply.height, pixels: reply.pixels });
    }
    dispatch();
  });
  const fail = (error: Error): void => {
    const job = entry.job;
    entry.job = null;
    pool.splice(pool.indexOf(entry), 1);
    job?.reject(new Error(`the HEIC decoder stopped: ${error.message}`));
    dispatch();
  };
  entry.worker.on('error', fail);
  entry.worker.on('exit', (code) => {
    if (pool.includes(entry)) fail(new Error(`worker exited with code ${code}`));
  });
  pool.push(entry);
  return entry;
}

function dispatch(): void {
  while (queue.length > 0) {
    let idle = pool.find((entry) => entry.job === null);
    if (!idle && pool.length < poolSize) {
      try {
        idle = startWorker();
      } catch (error) {
        for (const job of queue.splice(0, queue.length)) job.reject(error as Error);
        return;
      }
    }
    if (!idle) return;
    const job = queue.shift()!;
    idle.job = job;
    idle.worker.ref(); // keep the process alive while a decode is in flight
    idle.worker.postMessage({ id: job.id, bytes: job.bytes });
  }
}

/** Decodes the primary image of a HEIC/HEIF file to RGBA pixels (in a worker thread). */
export function decodeHeic(bytes: Uint8Array): Promise<DecodedPixels> {
  return new Promise((resolve, reject) => {
    queue.push({ id: nextId++, bytes, resolve, reject });
    dispatch();
  });
}

/** Ends the worker threads (tests; the process never waits for them anyway). */
export async function closeHeicDecoder(): Promise<void> {
  const workers = pool.splice(0, pool.length);
  await Promise.all(workers.map((entry) => entry.worker.terminate()));
}
