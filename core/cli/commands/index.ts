/** Every CLI command, in the order `looktwice --help` lists them. */
import type { Command } from '../command.ts';
import { serveCommand } from './serve.ts';
import { ingestCommand } from './ingest.ts';
import { curateCommand } from './curate.ts';

export const COMMANDS: Command[] = [curateCommand, ingestCommand, serveCommand];
