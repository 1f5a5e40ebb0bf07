/**
 * `looktwice export --out DIR --format imagefolder|csv|jsonl …` — write the labeled images as a
 * dataset with stratified, leak-free splits. --json: exactly
 * {"exported":N,"splits":{"train":N,"val":N,"test":N},"classes":{…},"out":"/abs","kept":[…],"keptAside":null|"/abs"}.
 */
import { parseSplitFractions } from '../../export/split.ts';
import { exportDataset } from '../../app/export.ts';
import { exportOptionsSchema } from '../../app/schemas.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const USAGE = `usage: looktwice export --out DIR [--format imagefolder|csv|jsonl|huggingface|fiftyone] [--split 0.8,0.1,0.1] [--seed N]
                        [--min-confidence X] [--only-user-labels] [--dedup] [--mode copy|hardlink|symlink]
                        [--resize PX] [--force] [--db PATH] [--json]

Writes every labeled image (your labels, accepted predictions, and confident predictions) as a
dataset. Splits are stratified by class and keep each near-duplicate group inside one split, so
no copy of a test image is trained on. Your photos are only read.

  --out DIR              the dataset folder; must be empty or new unless --force
  --format F             imagefolder (default): DIR/<split>/<class>/<file>, as torchvision's
                         ImageFolder and Hugging Face's "imagefolder" read it;
                         csv | jsonl: DIR/images/<class>/<file> plus DIR/labels.csv|jsonl with
                         path, class, split, source, confidence, content_hash, original_path;
                         huggingface: the imagefolder tree + DIR/<split>/metadata.jsonl —
                         load_dataset("imagefolder", data_dir=DIR);
                         fiftyone: the imagefolder tree, each split a
                         fo.types.ImageClassificationDirectoryTree (the manifest's "load" has the line)
  --split T,V,T          train,val,test fractions (default 0.8,0.1,0.1)
  --seed N               seed of the split (default 0)
  --min-confidence X     leave out probe labels below X (default: the probe's unsure threshold)
  --only-user-labels     export only the images you labeled yourself
  --dedup                export only the keeper of each duplicate group
  --mode M               copy (default), hardlink (no extra space, same disk), or symlink
  --resize PX            shrink so the longest side is at most PX (re-encodes; needs --mode copy)
  --force                replace a non-empty DIR: only the files the previous export of this library
                         wrote are replaced (its manifest lists them); files you added there stay and
                         are listed; a folder that is not this library's export is moved aside to
                         DIR.looktwice-replaced-<time>, never deleted. A photo folder of the library
                         (or one inside or holding it) is refused, even with --force
  --db PATH              library database (default: library.db in the per-user app data folder)
  --json                 one JSON document:
                         {"exported":N,"splits":{"train":N,"val":N,"test":N},"classes":{…},"out":"/abs",
                          "kept":["/abs/file kept in DIR",…],"keptAside":null|"/abs/folder"}

The dataset is written to DIR.looktwice-partial-* and swapped into place at the end: after a
crash DIR is the old export or the new one once the next export has run (it finishes or
cleans up whatever the crash left). DIR/manifest.json records
the settings, counts per class and split, skipped images and the model runs used.
Exit status: 0 when the export was written (files that could not be read are listed);
1 when it could not be written (DIR not empty, nothing labeled, …); 130 when stopped with Ctrl-C.`;

export const exportCommand: Command = {
  name: 'export',
  summary: 'export the labeled images as a dataset with leak-free splits',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parse(argv, {
      ...COMMON_OPTIONS,
      out: { type: 'string' },
      format: { type: 'string' },
      split: { type: 'string' },
      seed: { type: 'string' },
      'min-confidence': { type: 'string' },
      'only-user-labels': { type: 'boolean', default: false },
      dedup: { type: 'boolean', default: false },
      mode: { type: 'string' },
      resize: { type: 'string' },
      force: { type: 'boolean', default: false },
    }, false);
    if (!values.out) throw new UsageError('--out DIR is required');
    let split: [number, number, number] | undefined;
    try {
      split = values.split === undefined ? undefined : parseSplitFractions(values.split);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const options = optionsOnto(exportOptionsSchema, values, {
      out: 'out', format: 'format', seed: 'seed', 'min-confidence': 'minConfidence', 'only-user-labels': 'onlyUserLabels', dedup: 'dedup',
      mode: 'mode', resize: 'resizePx', force: 'force',
    }, split ? { split } : {});

    const library = openLibrary(resolveDbPath(values.db, io.env));
    const bar = new ProgressBar(io.stderr);
    try {
      const result = await exportDataset(library, options, {
        signal: io.signal,
        onProgress: bar.update,
        log: (_level, message) => {
          bar.done();
          io.stderr.write(`${message}\n`);
        },
      });
      bar.done();
      if (result.exported === 0) io.stderr.write('warning: nothing was exported: label some images first (`looktwice label`, `looktwice probe`)\n');
      for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
      for (const error of result.errors) io.stderr.write(`could not export ${error.path}: ${error.reason}\n`);
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ exported: result.exported, splits: result.splits, classes: result.classes, out: result.out, kept: result.kept, keptAside: result.keptAside })}\n`);
      } else {
        io.stdout.write(
          `exported ${result.exported} image(s) to ${result.out}: train ${result.splits.train} · val ${result.splits.val} · test ${result.splits.test}\n` +
          Object.entries(result.classes).map(([name, n]) => `  ${name}: ${n}`).join('\n') + '\n',
        );
        if (result.kept.length > 0) io.stdout.write(`kept ${result.kept.length} file(s) of yours in ${result.out}:\n${result.kept.map((file) => `  ${file}`).join('\n')}\n`);
        if (result.keptAside) io.stdout.write(`kept in ${result.keptAside}: files that could not stay in ${result.out} (nothing was deleted)\n`);
      }
      return 0;
    } catch (error) {
      if ((error as Error).name === 'CancelledError') {
        io.stderr.write('export stopped: nothing was written to the output folder\n');
        return 130;
      }
      throw error;
    } finally {
      bar.done();
      library.close();
    }
  },
};
