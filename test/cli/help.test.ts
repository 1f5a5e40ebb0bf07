import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { main } from '../../core/cli/main.ts';
import { COMMANDS } from '../../core/cli/commands/index.ts';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await main(argv, { stdout, stderr, signal: new AbortController().signal, env: { LOOKTWICE_HOME: '/nonexistent-looktwice-home' } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('looktwice --help', () => {
  it('lists every command', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toContain(command.name);
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help and -h print its usage, exit 0 and touch no library', async (name) => {
    const command = COMMANDS.find((c) => c.name === name)!;
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await run([name, flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`${command.usage}\n`);
      expect(stdout).toMatch(new RegExp(`looktwice ${name}\\b`));
      expect(stderr).toBe('');
    }
  });

  it('an unknown command is a usage error (exit 2) that lists the commands', async () => {
    const { code, stderr } = await run(['frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
  });
});
