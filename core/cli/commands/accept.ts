/**
 * `looktwice accept <class> --min-confidence X` — accept every prediction of the class at or above
 * the confidence as a label (source probe, confidence kept, history recorded).
 * --json: {"class":"cat","min_confidence":X,"accepted":N}.
 */
import { acceptPredictions, classNamed, countPredictions } from '../../app/labels.ts';
import { derivedStates } from '../../app/derived.ts';
import { PARAMS } from '../../app/schemas.ts';
import { LabelsRepository } from '../../store/labels.repository.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';

const USAGE = `usage: looktwice accept <class> --min-confidence X [--dry-run] [--db PATH] [--json]

Accepts every prediction of the latest probe for <class> whose calibrated confidence is at least
X: those images get the class as a label (source "probe", with its confidence). The probe keeps
training on your own labels only. Undo an image with \`looktwice label --clear <path>\`.

  --min-confidence X   0..1 (required)
  --dry-run            only count the predictions that would be accepted
  --db PATH            library database (default: library.db in the per-user app data folder)
  --json               one JSON document: {"class","min_confidence","accepted"}
                       (with --dry-run: "would_accept" instead of "accepted")`;

export const acceptCommand: Command = {
  name: 'accept',
  summary: 'accept the predictions of a class above a confidence',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...COMMON_OPTIONS, 'min-confidence': { type: 'string' }, 'dry-run': { type: 'boolean', default: false } });
    if (positionals.length !== 1) throw new UsageError('give exactly one class name');
    if (values['min-confidence'] === undefined) throw new UsageError('--min-confidence is required');
    const { minConfidence } = optionsOnto(PARAMS.acceptPredictions.pick({ minConfidence: true }), values, { 'min-confidence': 'minConfidence' });
    const className = positionals[0]!;
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const found = classNamed(library, className);
      if (!new LabelsRepository(library.db).latestProbeRun()) throw new Error('no predictions yet: run `looktwice probe` first');
      const probe = derivedStates(library).probe;
      if (probe.stale) io.stderr.write(`note: the probe is out of date (${probe.changed.join(' and ')} changed since it ran); run \`looktwice probe\` first to accept current predictions\n`);
      if (values['dry-run']) {
        const count = countPredictions(library, found.id, minConfidence);
        if (values.json) io.stdout.write(`${JSON.stringify({ class: found.name, min_confidence: minConfidence, would_accept: count })}\n`);
        else io.stdout.write(`would accept ${count} prediction(s) of "${found.name}" with confidence ≥ ${minConfidence}\n`);
        return 0;
      }
      const accepted = acceptPredictions(library, found.id, minConfidence);
      if (values.json) io.stdout.write(`${JSON.stringify({ class: found.name, min_confidence: minConfidence, accepted })}\n`);
      else io.stdout.write(`accepted ${accepted} prediction(s) of "${found.name}" with confidence ≥ ${minConfidence}\n`);
      return 0;
    } finally {
      library.close();
    }
  },
};
