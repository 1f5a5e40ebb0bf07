/**
 * `looktwice dedup` — exact and near-duplicate groups with a suggested keeper and why; `--apply`
 * moves every other copy to the trash (or `--quarantine DIR`), `--undo` restores the last apply.
 * --json: {"groups":[{"kind","keep","members","similarity","why"}]} (apply/undo: what moved).
 */
import path from 'node:path';
import { findDuplicates, keepAllDuplicates, removalTarget, removeAllDuplicates, undoRemoval } from '../../app/curation.ts';
import { oneOf } from '../../app/schemas.ts';
import { AppError } from '../../common/errors.ts';
import { openLibrary } from '../../store/db.ts';
import { z } from 'zod';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const usage = `usage: looktwice dedup [--db PATH] [--json] [--only exact|near] [--hashes-only]
       looktwice dedup --apply [--to-trash | --quarantine DIR] [--only exact|near]
       looktwice dedup --undo
       looktwice dedup --keep-all PATH

Finds exact duplicates (same bytes, or same decoded pixels) and near duplicates (re-encodes,
resizes, crops, brightness edits, flips), using perceptual hashes and a crop-tolerant pixel
check, plus the trained model's embeddings when there are any. Each group names the copy to
keep — highest resolution, then least compressed, richest EXIF, original over edited, oldest —
and says why.

  --apply            move every copy except the keeper out of the library (nothing is deleted)
  --to-trash         ... into the desktop trash (default; on Windows: a quarantine folder)
  --quarantine DIR   ... into DIR instead
  --undo             put back the files of the last --apply (never overwriting: a file that now
                     exists at the old path makes the restored one "name (restored).ext")
  --keep-all PATH    these are not duplicates to me: forget the group containing PATH (it is
                     not suggested again while its members stay the same)
  --only KIND        only exact or only near groups
  --hashes-only      ignore embeddings even if a trained model produced them
  --json             one JSON document on stdout`;

export const dedupCommand: Command = {
  name: 'dedup',
  summary: 'find duplicate photos; --apply moves extra copies to the trash, --undo restores',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, {
      ...COMMON_OPTIONS,
      apply: { type: 'boolean', default: false },
      'to-trash': { type: 'boolean', default: false },
      quarantine: { type: 'string' },
      undo: { type: 'boolean', default: false },
      only: { type: 'string' },
      'hashes-only': { type: 'boolean', default: false },
      'keep-all': { type: 'string' },
    }, false);
    if ([values.apply, values.undo, values['keep-all'] !== undefined].filter(Boolean).length > 1) throw new UsageError('choose one of --apply, --undo and --keep-all');
    if (values.quarantine !== undefined && values['to-trash']) throw new UsageError('choose --to-trash or --quarantine DIR, not both');
    if ((values.quarantine !== undefined || values['to-trash']) && !values.apply) throw new UsageError('--to-trash/--quarantine only make sense with --apply');
    const { only } = optionsOnto(z.object({ only: oneOf(['exact', 'near'] as const).optional() }), values, { only: 'only' });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    const bar = new ProgressBar(io.stderr);
    try {
      if (values.undo) {
        let result;
        try {
          result = undoRemoval(library);
        } catch (error) {
          // Nothing left to undo is an answer here, not a failure.
          if (!(error instanceof AppError) || error.code !== 'invalid') throw error;
          result = { batchId: null, restored: [], errors: [] };
        }
        if (values.json) io.stdout.write(`${JSON.stringify({ restored: result.restored, errors: result.errors })}\n`);
        else if (result.batchId === null) io.stdout.write('nothing to undo\n');
        else {
          for (const r of result.restored) io.stdout.write(`restored ${r.to}\n`);
          for (const e of result.errors) io.stderr.write(`could not restore ${e.path}: ${e.reason}\n`);
          io.stdout.write(`${result.restored.length} file(s) restored${result.errors.length ? `, ${result.errors.length} failed (run --undo again once fixed)` : ''}\n`);
        }
        return 0;
      }
      // The search is stored: the app's review list and export read the same groups.
      const groups = (await findDuplicates(library, { hashesOnly: values['hashes-only'] }, { signal: io.signal, onProgress: bar.update }))
        .filter((g) => only === undefined || g.kind === only);
      bar.done();
      if (values['keep-all'] !== undefined) {
        const target = path.resolve(values['keep-all']);
        const group = groups.find((g) => g.members.includes(target));
        if (!group) throw new UsageError(`${target} is in no duplicate group`);
        keepAllDuplicates(library, group.id);
        if (values.json) io.stdout.write(`${JSON.stringify({ keptAll: group.members })}\n`);
        else io.stdout.write(`kept all ${group.members.length} photos of the group of ${target}; it will not be suggested again\n`);
        return 0;
      }
      if (values.apply) {
        const result = removeAllDuplicates(library, groups, {
          method: values.quarantine !== undefined ? 'quarantine' : 'trash',
          quarantineDir: values.quarantine !== undefined ? path.resolve(values.quarantine) : undefined,
          ...removalTarget(library, io.env),
          signal: io.signal,
          onProgress: bar.update,
        });
        bar.done();
        if (values.json) {
          io.stdout.write(`${JSON.stringify({ method: result.method, destination: result.destination, moved: result.moved, errors: result.errors, ...(result.note ? { note: result.note } : {}) })}\n`);
        } else {
          if (result.note) io.stderr.write(`note: ${result.note}\n`);
          for (const m of result.moved) io.stdout.write(`moved ${m.from} → ${m.to}\n`);
          for (const e of result.errors) io.stderr.write(`could not move ${e.path}: ${e.reason}\n`);
          io.stdout.write(`${result.moved.length} file(s) moved to ${result.method === 'trash' ? 'the trash' : 'quarantine'} (${result.destination}); undo with: looktwice dedup --undo\n`);
        }
        return 0;
      }
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ groups: groups.map((g) => ({ kind: g.kind, keep: g.keep, members: g.members, similarity: g.similarity, why: g.why })) })}\n`);
      } else if (groups.length === 0) {
        io.stdout.write('no duplicates found\n');
      } else {
        for (const [i, g] of groups.entries()) {
          io.stdout.write(`group ${i + 1} (${g.kind}, similarity ${g.similarity.toFixed(3)}): ${g.why}\n`);
          for (const m of g.members) io.stdout.write(`  ${m === g.keep ? 'keep  ' : 'remove'} ${m}\n`);
        }
        const extra = groups.reduce((n, g) => n + g.members.length - 1, 0);
        io.stdout.write(`${groups.length} group(s); ${extra} extra cop${extra === 1 ? 'y' : 'ies'} — move them to the trash with: looktwice dedup --apply\n`);
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
