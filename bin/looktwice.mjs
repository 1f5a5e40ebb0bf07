#!/usr/bin/env node
// The `looktwice` command. The engine is TypeScript; tsx loads it without a build step, so
// `npx looktwice …` works in a fresh clone right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../core/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
