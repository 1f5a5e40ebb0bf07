/**
 * `looktwice probe` — train the linear probe on the user labels and predict every other image.
 * --json: {"classes":[…],"labeled":N,"cv_accuracy":X|null,"predicted":N,"unsure":N}.
 */
import { runProbe } from '../../app/labels.ts';
import { probeSettingsSchema } from '../../app/schemas.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import type { Command } from '../command.ts';

const USAGE = `usage: looktwice probe [--db PATH] [--json] [--unsure-below X] [--weight-decay X] [--seed N]

Trains a linear probe (class-balanced, L2-regularised multinomial logistic regression) on the
embeddings of the images you labeled, estimates its accuracy by stratified cross-validation,
calibrates its confidences (temperature scaling on held-out predictions) and predicts a class
with a confidence for every unlabeled image. Predictions below --unsure-below are "unsure".

  --unsure-below X   confidence under which a prediction is unsure (default 0.5)
  --weight-decay X   L2 regularisation on standardised embeddings (default 0.01)
  --seed N           seed of the cross-validation folds (default 0)
  --db PATH          library database (default: library.db in the per-user app data folder)
  --json             one JSON document:
                     {"classes":[…],"labeled":N,"cv_accuracy":X|null,"predicted":N,"unsure":N}
                     labeled: user labels trained on; cv_accuracy: null with < 2 labels in a class;
                     predicted: unlabeled images at or above the threshold; unsure: below it.

Exit status: 0 when done; 1 without embeddings or without labels in two classes.`;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'train the linear probe on your labels and predict the rest',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parse(argv, { ...COMMON_OPTIONS, 'unsure-below': { type: 'string' }, 'weight-decay': { type: 'string' }, seed: { type: 'string' } }, false);
    const settings = optionsOnto(probeSettingsSchema, values, { 'unsure-below': 'unsureBelow', 'weight-decay': 'weightDecay', seed: 'seed' });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const outcome = await runProbe(library, { ...settings, signal: io.signal });
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ classes: outcome.classes, labeled: outcome.labeled, cv_accuracy: outcome.cvAccuracy, predicted: outcome.predicted, unsure: outcome.unsure })}\n`);
      } else {
        const accuracy = outcome.cvAccuracy === null ? 'not enough labels for cross-validation (2+ per class)' : `${(outcome.cvAccuracy * 100).toFixed(1)} % cross-validated`;
        io.stdout.write(
          `probe trained on ${outcome.labeled} labels in ${outcome.classes.length} classes (${outcome.classes.join(', ')}) in ${Math.round(outcome.trainMs)} ms\n` +
          `  accuracy: ${accuracy}\n` +
          `  predicted ${outcome.predicted} image(s); ${outcome.unsure} unsure (confidence < ${outcome.unsureBelow})\n`,
        );
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
