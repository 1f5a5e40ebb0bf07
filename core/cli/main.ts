/**
 * `looktwice` — the command-line front door to the engine. Dispatches to one command per file
 * in commands/; Ctrl-C aborts the running command's signal so it stops at a safe point.
 */
import { COMMANDS } from './commands/index.ts';
import { UsageError, type CliIo } from './command.ts';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'looktwice — labeling-free dataset curation for your own photos',
    '',
    'usage: looktwice <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `looktwice <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[], io?: Partial<CliIo>): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping at the next safe point… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  const fullIo: CliIo = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    signal: io?.signal ?? controller.signal,
    env: io?.env ?? process.env,
  };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    fullIo.stdout.write(`${help()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    fullIo.stderr.write(`looktwice: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  // Every command's `--help`/`-h` prints its usage here, before any option parsing.
  if (rest.includes('--help') || rest.includes('-h')) {
    fullIo.stdout.write(`${command.usage}\n`);
    return 0;
  }
  if (!io?.signal) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    return await command.run(rest, fullIo);
  } catch (error) {
    if (error instanceof UsageError) {
      fullIo.stderr.write(`looktwice ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    fullIo.stderr.write(`looktwice ${name}: ${(error as Error).message}\n`);
    if (fullIo.env.LOOKTWICE_DEBUG) fullIo.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
