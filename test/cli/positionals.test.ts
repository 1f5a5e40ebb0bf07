/**
 * Positional arguments on the real CLI: a command that reads one file or folder says which is
 * missing and names the first extra one (onePositional in core/cli/args.ts); a command that
 * takes none refuses one. Both are usage errors, exit 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempLibrary, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;

beforeAll(() => {
  temp = tempLibrary('looktwice-cli-positionals-');
  temp.library.close();
});

afterAll(() => temp?.cleanup());

describe('positional arguments', () => {
  it('the import commands want exactly one file or folder', async () => {
    const cases: Array<[string[], string]> = [
      [['labels-import'], 'name the folder, .csv or .jsonl to import labels from'],
      [['labels-import', 'a.csv', 'b.csv'], 'unexpected argument "b.csv"'],
      [['model', 'import'], 'name the .safetensors file to import'],
      [['embeddings', 'import', 'e.npy', 'extra'], 'unexpected argument "extra"'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli([...args, '--db', temp.dbPath]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
    }
  });

  it('train and embed take no positional argument', async () => {
    for (const command of ['train', 'embed']) {
      const result = await runCli([command, 'photos', '--db', temp.dbPath]);
      expect(result.code, command).toBe(2);
      expect(result.stderr, command).toContain("Unexpected argument 'photos'");
    }
  });
});
