/**
 * `looktwice accept <class> --min-confidence X` — accept every prediction of the class at or above
 * the confidence as a label (source probe, confidence kept, history recorded).
 * --json: {"class":"cat","min_confidence":X,"accepted":N}.
 */
import { ProbeService } from '../../label/probe.service.ts';
import { openLibrary } from '../../store/db.ts';
import { EmbeddingsRepository } from '../../store/embeddings.repository.ts';
import { LabelsRepository } from '../../store/labels.repository.ts';
import { COMMON_OPTIONS, finiteNumber, parse, resolveDbPath } from '../args.ts';
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
    const minConfidence = finiteNumber('min-confidence', values['min-confidence'], 1);
    if (minConfidence < 0 || minConfidence > 1) throw new UsageError('--min-confidence must be between 0 and 1');
    const className = positionals[0]!;
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const repository = new LabelsRepository(library.db);
      const found = repository.classByName(className.trim());
      if (!found) throw new Error(`no class named "${className}" (see \`looktwice classes\`)`);
      const service = new ProbeService(repository, new EmbeddingsRepository(library.db));
      if (!repository.latestProbeRun()) throw new Error('no predictions yet: run `looktwice probe` first');
      if (values['dry-run']) {
        const count = service.countPredictions(found.id, minConfidence);
        if (values.json) io.stdout.write(`${JSON.stringify({ class: found.name, min_confidence: minConfidence, would_accept: count })}\n`);
        else io.stdout.write(`would accept ${count} prediction(s) of "${found.name}" with confidence ≥ ${minConfidence}\n`);
        return 0;
      }
      const accepted = service.acceptPredictions(found.id, minConfidence);
      if (values.json) io.stdout.write(`${JSON.stringify({ class: found.name, min_confidence: minConfidence, accepted })}\n`);
      else io.stdout.write(`accepted ${accepted} prediction(s) of "${found.name}" with confidence ≥ ${minConfidence}\n`);
      return 0;
    } finally {
      library.close();
    }
  },
};
