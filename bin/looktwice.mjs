#!/usr/bin/env node
// The `looktwice` command. The engine is TypeScript; tsx loads it without a build step, so
// `npx looktwice …` works in a fresh clone right after `npm ci`.
import os from 'node:os';

// Ingest decodes several photos at once on libuv's thread pool (sharp, file reads); its default
// of 4 threads would idle most cores of a bigger machine. Set before anything uses the pool.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, os.availableParallelism()));
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../core/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
