// Worker thread for heic-decoder.ts: decodes HEIC/HEIF (HEVC) with heic-decode (libheif
// compiled to WebAssembly). The wasm decoder is synchronous, so it runs here, off the main
// thread that owns the database. Plain JavaScript so it loads without a TypeScript loader.
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const decode = require('heic-decode');

parentPort.on('message', async ({ id, bytes }) => {
  try {
    const { width, height, data } = await decode({ buffer: bytes });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    parentPort.postMessage({ id, width, height, pixels }, [pixels.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
