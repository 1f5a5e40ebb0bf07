/**
 * The labeling and export commands end to end through the real CLI entry (in-process main()):
 * label → classes → probe → suggest → accept → export, checking each --json document's exact keys.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.ts';
import { labelFixture, type LabelFixture } from './library-fixture.ts';

let fixture: LabelFixture | null = null;
afterEach(() => {
  fixture?.temp.cleanup();
  fixture = null;
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await main(args, { stdout, stderr, signal: new AbortController().signal, env: {} });
  return { code, stdout: out, stderr: err };
}

describe('label, classes, probe, suggest, accept, export commands', () => {
  it('runs the whole few-shot loop and writes a loadable ImageFolder dataset', async () => {
    fixture = await labelFixture({ cat: 15, dog: 15, bird: 15 });
    const db = ['--db', fixture.temp.dbPath];
    const of = (name: string) => fixture!.images.filter((image) => image.trueClass === name).map((image) => image.path);

    for (const name of ['cat', 'dog', 'bird']) {
      const labeled = await cli(['label', name, ...of(name).slice(0, 5), '--json', ...db]);
      expect(labeled.code).toBe(0);
      expect(JSON.parse(labeled.stdout)).toEqual({ class: name, labeled: 5, not_found: [] });
    }
    const missing = await cli(['label', 'cat', '/nowhere/x.jpg', '--json', ...db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/nowhere/x.jpg: no such file or folder');

    const classes = JSON.parse((await cli(['classes', '--json', ...db])).stdout);
    expect(classes.classes.map((c: { name: string; user_labels: number }) => [c.name, c.user_labels])).toEqual([['bird', 5], ['cat', 5], ['dog', 5]]);

    const probe = await cli(['probe', '--json', ...db]);
    expect(probe.code).toBe(0);
    const probeJson = JSON.parse(probe.stdout);
    expect(Object.keys(probeJson)).toEqual(['classes', 'labeled', 'cv_accuracy', 'predicted', 'unsure']);
    expect(probeJson).toMatchObject({ labeled: 15 });
    expect(probeJson.cv_accuracy).toBeGreaterThan(0.9);
    expect(probeJson.predicted + probeJson.unsure).toBe(30);

    const suggest = JSON.parse((await cli(['suggest', '--n', '4', '--json', ...db])).stdout);
    expect(suggest.suggestions).toHaveLength(4);
    for (const s of suggest.suggestions) {
      expect(Object.keys(s)).toEqual(['image_id', 'path', 'predicted_class', 'confidence', 'reason']);
      expect(fs.existsSync(s.path)).toBe(true);
      expect(s.reason).toMatch(/^the probe (is unsure|says)/);
    }

    const dry = JSON.parse((await cli(['accept', 'cat', '--min-confidence', '0.6', '--dry-run', '--json', ...db])).stdout);
    const accept = JSON.parse((await cli(['accept', 'cat', '--min-confidence', '0.6', '--json', ...db])).stdout);
    expect(accept).toEqual({ class: 'cat', min_confidence: 0.6, accepted: dry.would_accept });
    expect((await cli(['accept', 'cat', ...db])).code).toBe(2); // --min-confidence is required

    const clear = JSON.parse((await cli(['label', '--clear', of('cat')[0]!, '--json', ...db])).stdout);
    expect(clear).toEqual({ cleared: 1, not_found: [] });

    const out = path.join(fixture.temp.dir, 'dataset');
    const exported = await cli(['export', '--out', out, '--format', 'imagefolder', '--split', '0.6,0.2,0.2', '--json', ...db]);
    expect(exported.code).toBe(0);
    const result = JSON.parse(exported.stdout);
    expect(Object.keys(result)).toEqual(['exported', 'splits', 'classes', 'out', 'kept', 'keptAside']);
    expect(result.out).toBe(out);
    expect(result.splits.train + result.splits.val + result.splits.test).toBe(result.exported);
    expect(Object.keys(result.classes).sort()).toEqual(['bird', 'cat', 'dog']);

    // What torchvision.datasets.ImageFolder does: classes = sorted sub-folders, files with image
    // extensions; each split must have the same classes so indices agree.
    for (const split of ['train', 'val', 'test']) {
      const classFolders = fs.readdirSync(path.join(out, split)).sort();
      expect(classFolders).toEqual(['bird', 'cat', 'dog']);
      for (const name of classFolders) {
        const files = fs.readdirSync(path.join(out, split, name));
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) expect(file).toMatch(/\.(png|jpe?g|webp|tiff?|gif|avif)$/i);
      }
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.class_to_idx).toEqual({ bird: 0, cat: 1, dog: 2 });
    expect(manifest.model.probe_run_id).toBeGreaterThan(0);

    const refused = await cli(['export', '--out', out, '--json', ...db]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/not empty.*--force/);
    expect((await cli(['export', '--out', out, '--format', 'parquet', ...db])).code).toBe(2);
  });
});
