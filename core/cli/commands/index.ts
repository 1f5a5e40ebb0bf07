/** Every CLI command, in the order `looktwice --help` lists them. */
import type { Command } from '../command.ts';
import { serveCommand } from './serve.ts';
import { ingestCommand } from './ingest.ts';
import { curateCommand } from './curate.ts';
import { labelCommand } from './label.ts';
import { classesCommand } from './classes.ts';
import { probeCommand } from './probe.ts';
import { suggestCommand } from './suggest.ts';
import { acceptCommand } from './accept.ts';
import { exportCommand } from './export.ts';
import { dedupCommand } from './dedup.ts';
import { similarCommand } from './similar.ts';
import { clusterCommand } from './cluster.ts';
import { mapCommand } from './map.ts';
import { flagsCommand } from './flags.ts';
import { trainCommand } from './train.ts';
import { embedCommand } from './embed.ts';
import { modelCommand } from './model.ts';
import { embeddingsCommand } from './embeddings.ts';
import { labelsImportCommand } from './labels-import.ts';

export const COMMANDS: Command[] = [curateCommand, ingestCommand, serveCommand, labelCommand, classesCommand, probeCommand, suggestCommand, acceptCommand, exportCommand, dedupCommand, similarCommand, clusterCommand, mapCommand, flagsCommand, trainCommand, embedCommand, modelCommand, embeddingsCommand, labelsImportCommand];
