/**
 * Putting a finished export into place without losing a user file, crash-safely.
 *
 * The new export is complete in `<OUT>.looktwice-partial-*` (its manifest lists every file it
 * wrote, with size and SHA-256). What happens to an existing OUT depends on what it is:
 *   - missing or empty: the partial folder is renamed to OUT;
 *   - an export of this library (its manifest.json's SHA-256 is one this library's export journal
 *     recorded — a forged `{"tool":"looktwice"}` is not): OUT is renamed aside to
 *     `<OUT>.looktwice-replaced-*`, the partial folder renamed to OUT, then every file of the old
 *     folder that is not byte-identical to what the old export listed (the user's notes, a model,
 *     an exported file they edited) is moved back to its place in OUT, the old export's own files
 *     are deleted, and the aside folder goes once empty. A user file that sits exactly where the
 *     new export wrote one stays in the aside folder, and the user is told;
 *   - anything else: it is kept whole in the aside folder (never deleted), and the user is told.
 *
 * Every step is announced in `export_journal` (core/store/journal.repository.ts) before it is
 * taken — 'writing' → 'swapping' (the plan) → 'restoring' → 'done' — and `continueSwap` drives
 * an entry from whatever the disk shows, so the next export (or the app at open,
 * `recoverExports`) finishes a swap a crash interrupted: OUT ends as the old export or the new
 * one, the user's files in it, with no `…-replaced-*` or `…-partial-*` leftover.
 *
 * Names in OUT are read as bytes and kept as the catalogue's text (core/common/file-name-bytes.ts),
 * so a user's file or folder whose name is not UTF-8 is moved back like any other.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.ts';
import { JournalRepository, type ExportJournalEntry } from '../store/journal.repository.ts';
import { crashPoint, ownerIsGone } from '../common/crash-point.ts';
import { fileSha256, pathExists, syncDir } from '../common/durable-files.ts';
import { fsPath, nameFromBytes } from '../common/file-name-bytes.ts';

/** A file the export wrote, as its manifest lists it: a copy (size, hash) or a symbolic link (its target). */
export type WrittenFile = { path: string; size: number; sha256: string } | { path: string; symlink: string };

/** What the swap does with the old OUT, recorded in the journal before the first rename. */
export interface SwapPlan {
  /** 'new': no OUT; 'empty': an empty folder; 'export': this library's export; 'foreign': anything else. */
  kind: 'new' | 'empty' | 'export' | 'foreign';
  /** The old export's own files ('export' only), '/'-separated relative paths; manifest.json included. */
  ours: WrittenFile[];
}

/** What the swap did that the user should hear about. */
export interface SwapOutcome {
  /** Files of the user's moved back into OUT (absolute paths there). */
  kept: string[];
  /** The aside folder still holding files of the user's, or null when it is gone. */
  keptAside: string | null;
  warnings: string[];
}

export const PARTIAL_MARK = '.looktwice-partial-';
export const REPLACED_MARK = '.looktwice-replaced-';

function relativeOf(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** Whether `file` is still exactly what the export listed (so deleting it loses nothing). */
function isUnchanged(file: string, written: WrittenFile): boolean {
  try {
    const stat = fs.lstatSync(fsPath(file));
    if ('symlink' in written) return stat.isSymbolicLink() && nameFromBytes(fs.readlinkSync(fsPath(file), { encoding: 'buffer' })) === written.symlink;
    return stat.isFile() && stat.size === written.size && fileSha256(fsPath(file)) === written.sha256;
  } catch {
    return false;
  }
}

/** Decides what the swap does with what is at OUT now (see the header). */
export function planSwap(db: Db, out: string): SwapPlan {
  if (!pathExists(out)) return { kind: 'new', ours: [] };
  if (fs.readdirSync(out).length === 0) return { kind: 'empty', ours: [] };
  const manifestPath = path.join(out, 'manifest.json');
  try {
    const sha256 = fileSha256(manifestPath);
    if (!new JournalRepository(db).isOwnManifest(sha256)) return { kind: 'foreign', ours: [] };
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { files?: unknown };
    if (!Array.isArray(manifest.files)) return { kind: 'foreign', ours: [] };
    const ours = (manifest.files as WrittenFile[]).filter((file) => typeof file?.path === 'string' && !file.path.split('/').includes('..'));
    return { kind: 'export', ours: [...ours, { path: 'manifest.json', size: fs.statSync(manifestPath).size, sha256 }] };
  } catch {
    return { kind: 'foreign', ours: [] };
  }
}

/**
 * Moves the user's files of the aside folder back into OUT and deletes the old export's own
 * files there (bottom-up, so folders the user made stay too). Returns what went back and what
 * could not (a new export file sits at its place).
 */
function restoreUserFiles(out: string, replaced: string, plan: SwapPlan): { kept: string[]; blocked: string[] } {
  const ours = new Map(plan.ours.map((file) => [file.path, file]));
  const oursDirs = new Set<string>();
  for (const file of plan.ours) for (let dir = path.posix.dirname(file.path); dir !== '.'; dir = path.posix.dirname(dir)) oursDirs.add(dir);
  const kept: string[] = [];
  const blocked: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(fsPath(dir), { withFileTypes: true, encoding: 'buffer' })) {
      const from = path.join(dir, nameFromBytes(entry.name));
      const relative = relativeOf(replaced, from);
      if (entry.isDirectory()) {
        visit(from);
        if (fs.readdirSync(fsPath(from)).length > 0) continue;
        // An empty folder: the old export's goes, one the user made comes back.
        if (!oursDirs.has(relative)) fs.mkdirSync(fsPath(path.join(out, relative)), { recursive: true });
        fs.rmdirSync(fsPath(from));
        continue;
      }
      const written = ours.get(relative);
      if (written && isUnchanged(from, written)) {
        fs.unlinkSync(fsPath(from));
        continue;
      }
      const to = path.join(out, relative);
      try {
        if (pathExists(fsPath(to))) throw new Error('taken');
        fs.mkdirSync(fsPath(path.dirname(to)), { recursive: true });
        fs.renameSync(fsPath(from), fsPath(to));
        kept.push(to);
        crashPoint('export-restoring');
      } catch {
        // The new export wrote a file there (or a folder of it is a file of the user's): keep it aside.
        blocked.push(from);
      }
    }
  };
  visit(replaced);
  if (fs.readdirSync(replaced).length === 0) fs.rmdirSync(replaced);
  syncDir(out);
  return { kept, blocked };
}

/**
 * Drives a journal entry to 'done' (or 'failed') from what the disk shows; idempotent, so the
 * export itself and a recovery after a crash run the same steps.
 */
export function continueSwap(db: Db, entry: ExportJournalEntry): SwapOutcome {
  const journal = new JournalRepository(db);
  const { out, partial, replaced } = entry;
  const plan = JSON.parse(entry.planJson ?? '{"kind":"new","ours":[]}') as SwapPlan;
  const outcome: SwapOutcome = { kept: [], keptAside: null, warnings: [] };
  if (entry.state === 'swapping') {
    if (pathExists(partial)) {
      if (pathExists(out)) {
        if (plan.kind === 'empty' || plan.kind === 'new') fs.rmdirSync(out); // empty: nothing of anyone's in it
        else if (replaced && !pathExists(replaced)) fs.renameSync(out, replaced);
        else {
          const note = `${out} and ${replaced} both exist; the new export was left in ${partial}`;
          journal.setExportState(entry.id, 'failed', note);
          return { ...outcome, warnings: [note] };
        }
        syncDir(path.dirname(out));
      }
      crashPoint('export-before-second-rename');
      fs.renameSync(partial, out);
      syncDir(path.dirname(out));
      crashPoint('export-after-second-rename');
    } else if (!pathExists(out)) {
      // The new export is gone (removed by hand?): put the old folder back.
      if (replaced && pathExists(replaced)) fs.renameSync(replaced, out);
      journal.setExportState(entry.id, 'failed', 'the new export was gone; the old folder was put back');
      return outcome;
    }
    journal.setExportState(entry.id, 'restoring');
  }
  if (replaced && pathExists(replaced)) {
    if (plan.kind === 'foreign') {
      outcome.keptAside = replaced;
      outcome.warnings.push(`${out} held files that no export of this library wrote; they were kept in ${replaced} (nothing was deleted)`);
    } else {
      const { kept, blocked } = restoreUserFiles(out, replaced, plan);
      outcome.kept = kept;
      if (kept.length > 0) {
        const names = kept.slice(0, 10).map((file) => relativeOf(out, file)).join(', ');
        outcome.warnings.push(`kept ${kept.length} file(s) in ${out} that were not written by the previous export: ${names}${kept.length > 10 ? ', …' : ''}`);
      }
      if (blocked.length > 0) {
        outcome.keptAside = replaced;
        outcome.warnings.push(`${blocked.length} file(s) of yours sat where the new export writes; they were kept in ${replaced}`);
      }
    }
  }
  journal.setExportState(entry.id, 'done');
  return outcome;
}

/** Takes a failed swap back: the old folder returns to OUT, the new export's partial folder goes. */
export function rollBackSwap(db: Db, entry: ExportJournalEntry, reason: string): void {
  if (entry.replaced && pathExists(entry.replaced) && !pathExists(entry.out)) fs.renameSync(entry.replaced, entry.out);
  fs.rmSync(entry.partial, { recursive: true, force: true });
  new JournalRepository(db).setExportState(entry.id, 'failed', reason);
}

/**
 * Finishes every export a dead process left unfinished: a partial folder it was still writing is
 * removed, a swap is carried to its end. Returns what the user should be told.
 */
export function recoverExports(db: Db): string[] {
  const journal = new JournalRepository(db);
  const warnings: string[] = [];
  for (const entry of journal.openExports()) {
    if (!ownerIsGone(entry.owner)) continue;
    if (entry.state === 'writing') {
      fs.rmSync(entry.partial, { recursive: true, force: true });
      journal.setExportState(entry.id, 'failed', 'interrupted while writing');
      warnings.push(`removed ${entry.partial}, left by an export that did not finish`);
      continue;
    }
    const outcome = continueSwap(db, entry);
    warnings.push(`finished the export to ${entry.out} that was interrupted while it was put into place`, ...outcome.warnings);
  }
  return warnings;
}
