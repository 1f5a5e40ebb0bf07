/** Every CLI command, in the order `looktwice --help` lists them. */
import type { Command } from '../command.ts';
import { serveCommand } from './serve.ts';

export const COMMANDS: Command[] = [serveCommand];
