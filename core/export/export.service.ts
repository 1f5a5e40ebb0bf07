/**
 * Dataset export: the labeled images of the library as a folder a training script reads
 * directly — ImageFolder (`OUT/<split>/<class>/<file>`, what torchvision's ImageFolder and
 * Hugging Face's `imagefolder` load) or a CSV/JSONL table next to `OUT/images/<class>/<file>`.
 *
 * Guarantees:
 *   - leak-free, stratified splits: near-duplicate groups stay inside one split (split.ts);
 *   - `dedup`: only each group's keeper is exported;
 *   - atomic: everything is written to `<OUT>.looktwice-partial-*` next to OUT and swapped into
 *     place at the end (swap.ts, journaled in the database), so a crash never leaves a
 *     half-written dataset at OUT, and the next export finishes or cleans up what a crash left;
 *   - a non-empty OUT is refused unless `force`; `force` replaces only the files the previous
 *     export of this library wrote (its manifest lists each with size and SHA-256): the user's
 *     files in OUT stay and are reported, and a folder that is not this library's export is kept
 *     aside (renamed), never deleted;
 *   - never into a photo folder of the library or its data folder (target.ts), even with `force`;
 *   - the user's photos are only read; name collisions are resolved without losing an image;
 *   - a manifest records the settings, counts per class and split, the model runs used, and
 *     every file written;
 *   - a photo whose name is not UTF-8 is read through its bytes (core/common/file-name-bytes.ts)
 *     and exported under its readable name (each such byte U+FFFD), so every name in the
 *     export's folders, tables and manifest is valid UTF-8 and matches; a symbolic link points
 *     at the original's bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CancelledError, throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { crashPoint, JOURNAL_OWNER } from '../common/crash-point.ts';
import { fileSha256 } from '../common/durable-files.ts';
import { decoderInput, fsPath, nameFromBytes, readableName } from '../common/file-name-bytes.ts';
import type { Db } from '../store/db.ts';
import { JournalRepository } from '../store/journal.repository.ts';
import { LabelsRepository, type LabelSource } from '../store/labels.repository.ts';
import { findDuplicateGroups } from '../curate/duplicates.ts';
import { FileNameAllocator, safeFileName } from './file-names.ts';
import { assignSplits, mergeOverlappingGroups, SPLITS, type SplitName } from './split.ts';
import { loadLines, usesSplitFolders, writeFormatFiles } from './formats/dataset-formats.ts';
import { continueSwap, PARTIAL_MARK, planSwap, recoverExports, REPLACED_MARK, rollBackSwap, type WrittenFile } from './swap.ts';
import { exportTargetProblem } from './target.ts';

export type ExportFormat = 'imagefolder' | 'csv' | 'jsonl' | 'fiftyone' | 'huggingface';
export type ExportMode = 'copy' | 'hardlink' | 'symlink';

/** A near-duplicate group as export needs it. */
export interface ExportGroup {
  imageIds: readonly number[];
  keepImageId: number;
}

export interface ExportSettings {
  out: string;
  format: ExportFormat;
  /** train, val, test fractions (default 0.8, 0.1, 0.1). */
  split?: readonly [number, number, number];
  seed?: number;
  /** Probe labels (accepted or predicted) below this are left out (default: the probe's unsure threshold, else 0.5). */
  minConfidence?: number;
  onlyUserLabels?: boolean;
  dedup?: boolean;
  mode?: ExportMode;
  /** Longest side in pixels; images are re-encoded (never enlarged). Needs mode 'copy'. */
  resizePx?: number | null;
  force?: boolean;
  /** Near-duplicate groups; default: core/curate findDuplicateGroups (including dismissed ones). */
  duplicateGroups?: readonly ExportGroup[];
  /** The library's data folder (lets duplicate finding use cached thumbnails). */
  dataDir?: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface PlannedImage {
  imageId: number;
  className: string;
  split: SplitName;
  source: LabelSource;
  confidence: number;
  /** true for a prediction the user has not accepted. */
  predicted: boolean;
  contentHash: string;
  format: string;
  sourcePath: string;
  /** Index of its near-duplicate group in the plan's groups, or null. */
  group: number | null;
}

export type SplitCounts = Record<SplitName, number>;

export interface ExportPlan {
  images: PlannedImage[];
  splits: SplitCounts;
  /** Counts per class name and split. */
  classes: Record<string, SplitCounts>;
  /** Images left out, by reason. */
  skipped: Record<string, number>;
  minConfidence: number;
  groups: number;
  probeRunId: number | null;
  embeddingRunId: number | null;
}

export interface ExportOutcome {
  exported: number;
  splits: SplitCounts;
  /** Exported images per class. */
  classes: Record<string, number>;
  out: string;
  manifestPath: string;
  /** Files that could not be exported, with the reason (the rest were). */
  errors: Array<{ path: string; reason: string }>;
  warnings: string[];
  /** Files in OUT that the previous export did not write (the user's), left in place. */
  kept: string[];
  /** The folder next to OUT keeping what could not stay in OUT (a folder that was not this library's export), or null. */
  keptAside: string | null;
}

function emptyCounts(): SplitCounts {
  return { train: 0, val: 0, test: 0 };
}

function skip(skipped: Record<string, number>, reason: string): void {
  skipped[reason] = (skipped[reason] ?? 0) + 1;
}

/** Decides which images go where, without touching the disk. */
export async function planExport(db: Db, settings: Omit<ExportSettings, 'out' | 'format'>): Promise<ExportPlan> {
  const labels = new LabelsRepository(db);
  const probe = labels.latestProbeRun();
  const minConfidence = settings.minConfidence ?? probe?.unsureBelow ?? 0.5;
  const fractions = settings.split ?? [0.8, 0.1, 0.1];
  const skipped: Record<string, number> = {};

  const candidates: PlannedImage[] = [];
  for (const row of labels.labeledImages()) {
    if (row.path === null) {
      skip(skipped, 'no_present_file');
      continue;
    }
    if (settings.onlyUserLabels && row.source !== 'user') {
      skip(skipped, 'not_a_user_label');
      continue;
    }
    if (row.source !== 'user' && row.confidence < minConfidence) {
      skip(skipped, 'below_min_confidence');
      continue;
    }
    candidates.push({
      imageId: row.imageId, className: row.className, split: 'train', source: row.source, confidence: row.confidence,
      predicted: row.predicted, contentHash: row.contentHash, format: row.format, sourcePath: row.path, group: null,
    });
  }
  throwIfCancelled(settings.signal);

  const groups: readonly ExportGroup[] = mergeOverlappingGroups(settings.duplicateGroups
    ?? (await findDuplicateGroups(db, { dataDir: settings.dataDir, includeDismissed: true, signal: settings.signal, onProgress: settings.onProgress })));
  const groupOf = new Map<number, number>();
  groups.forEach((group, index) => group.imageIds.forEach((id) => groupOf.set(id, index)));
  for (const image of candidates) image.group = groupOf.get(image.imageId) ?? null;

  let selected = candidates;
  if (settings.dedup) {
    // One image per group: the keeper if it is exported, else the most trusted labeled member.
    const rank = (image: PlannedImage) => (image.source === 'user' ? 2 : 1) + image.confidence;
    const chosen = new Map<number, PlannedImage>();
    for (const image of candidates) {
      if (image.group === null) continue;
      const current = chosen.get(image.group);
      const keeper = groups[image.group]!.keepImageId;
      if (!current || (image.imageId === keeper && current.imageId !== keeper) || (current.imageId !== keeper && rank(image) > rank(current))) {
        chosen.set(image.group, image);
      }
    }
    selected = candidates.filter((image) => {
      if (image.group === null || chosen.get(image.group) === image) return true;
      skip(skipped, 'duplicate_not_keeper');
      return false;
    });
  }

  const assignment = assignSplits(
    selected.map((image) => ({ imageId: image.imageId, classKey: image.className })),
    groups.map((group) => group.imageIds),
    fractions as [number, number, number],
    settings.seed ?? 0,
  );
  const splits = emptyCounts();
  const classes: Record<string, SplitCounts> = {};
  for (const image of selected) {
    image.split = assignment.get(image.imageId)!;
    splits[image.split]++;
    (classes[image.className] ??= emptyCounts())[image.split]++;
  }
  return {
    images: selected, splits, classes, skipped, minConfidence, groups: groups.length,
    probeRunId: probe?.id ?? null, embeddingRunId: probe?.embeddingRunId ?? null,
  };
}

function isNonEmptyFolder(folder: string): boolean {
  try {
    return fs.readdirSync(folder).length > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new Error(`--out ${folder} exists and is not a folder`);
    throw error;
  }
}

/** Removes partial folders a crashed export to the same OUT left behind (not one a live export is writing). */
function removeStalePartials(out: string, live: ReadonlySet<string>): string[] {
  const parent = path.dirname(out);
  const prefix = path.basename(out) + PARTIAL_MARK;
  const removed: string[] = [];
  for (const name of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
    if (!name.startsWith(prefix) || live.has(path.join(parent, name))) continue;
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    removed.push(path.join(parent, name));
  }
  return removed;
}

/** Output extension and sharp format when re-encoding for --resize. */
function resizedFormat(format: string): { extension: string; format: 'jpeg' | 'png' | 'webp' } {
  if (format === 'png' || format === 'gif') return { extension: '.png', format: 'png' };
  if (format === 'webp') return { extension: '.webp', format: 'webp' };
  return { extension: '.jpg', format: 'jpeg' };
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes the export. Throws (leaving OUT untouched) when OUT is a non-empty folder without
 * `force`, when cancelled, or on an error writing the export itself; files that cannot be read
 * are reported in `errors` and the rest is exported.
 */
export async function runExport(db: Db, settings: ExportSettings): Promise<ExportOutcome> {
  const out = path.resolve(settings.out);
  const mode = settings.mode ?? 'copy';
  const resizePx = settings.resizePx ?? null;
  if (resizePx !== null && mode !== 'copy') throw new Error(`--resize writes new image files, so it needs --mode copy (not ${mode})`);
  if (resizePx !== null && !(Number.isInteger(resizePx) && resizePx > 0)) throw new Error(`--resize must be a positive number of pixels, got ${resizePx}`);
  const problem = exportTargetProblem(db, out, settings.dataDir);
  if (problem) throw new Error(problem);
  const journal = new JournalRepository(db);
  // First finish what a crashed export left (it may be this very OUT, gone mid-swap).
  const warnings: string[] = recoverExports(db);
  if (isNonEmptyFolder(out) && !settings.force) {
    throw new Error(`${out} is not empty; choose an empty or new folder, or pass --force to replace it`);
  }
  const plan = await planExport(db, settings);
  throwIfCancelled(settings.signal);

  fs.mkdirSync(path.dirname(out), { recursive: true });
  const live = new Set(journal.openExports().map((entry) => entry.partial));
  for (const stale of removeStalePartials(out, live)) warnings.push(`removed ${stale}, left by an export that did not finish`);
  const temp = path.join(path.dirname(out), `${path.basename(out)}${PARTIAL_MARK}${process.pid}-${Date.now()}`);
  fs.mkdirSync(temp);
  const entryId = journal.addExport({ owner: JOURNAL_OWNER, out, partial: temp });
  let swapStarted = false;

  const errors: Array<{ path: string; reason: string }> = [];
  const written: Array<PlannedImage & { relativePath: string }> = [];
  /** Every file written, for the manifest: a later --force replaces exactly these. */
  const files: WrittenFile[] = [];
  const listWritten = (relativePath: string): void => {
    const file = path.join(temp, relativePath);
    const posix = relativePath.split(path.sep).join('/');
    files.push(fs.lstatSync(file).isSymbolicLink() ? { path: posix, symlink: nameFromBytes(fs.readlinkSync(file, { encoding: 'buffer' })) } : { path: posix, size: fs.statSync(file).size, sha256: fileSha256(file) });
  };
  const names = new FileNameAllocator();
  // Class names become folder names: make each safe and unique even on case-insensitive disks
  // ("Cat" and "cat" must not share a folder on macOS/Windows).
  const classFolder = new Map<string, string>();
  const usedFolders = new Set<string>();
  for (const className of [...new Set(plan.images.map((image) => image.className))].sort()) {
    const base = safeFileName(className);
    let folder = base;
    for (let n = 2; usedFolders.has(folder.toLowerCase()); n++) folder = `${base}-${n}`;
    usedFolders.add(folder.toLowerCase());
    classFolder.set(className, folder);
  }
  let hardlinkFellBack = false;
  try {
    const total = plan.images.length;
    for (let k = 0; k < total; k++) {
      throwIfCancelled(settings.signal);
      const image = plan.images[k]!;
      const folder = path.join(usesSplitFolders(settings.format) ? image.split : 'images', classFolder.get(image.className)!);
      const resized = resizePx !== null ? resizedFormat(image.format) : null;
      const name = names.allocate(folder, readableName(path.basename(image.sourcePath)), image.contentHash, resized?.extension);
      const relativePath = path.join(folder, name);
      const target = path.join(temp, relativePath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      try {
        if (resized) {
          await sharp(await decoderInput(image.sourcePath))
            .rotate() // apply EXIF orientation: training code rarely does
            .resize({ width: resizePx!, height: resizePx!, fit: 'inside', withoutEnlargement: true })
            .toFormat(resized.format)
            .toFile(target);
        } else if (mode === 'symlink') {
          fs.accessSync(fsPath(image.sourcePath), fs.constants.R_OK);
          fs.symlinkSync(fsPath(image.sourcePath), target);
        } else if (mode === 'hardlink') {
          try {
            fs.linkSync(fsPath(image.sourcePath), target);
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error;
            hardlinkFellBack = true;
            fs.copyFileSync(fsPath(image.sourcePath), target, fs.constants.COPYFILE_EXCL);
          }
        } else {
          fs.copyFileSync(fsPath(image.sourcePath), target, fs.constants.COPYFILE_EXCL);
        }
        written.push({ ...image, relativePath });
        listWritten(relativePath);
      } catch (error) {
        if (error instanceof CancelledError) throw error;
        errors.push({ path: image.sourcePath, reason: (error as Error).message });
      }
      settings.onProgress?.({ phase: 'export:write', done: k + 1, total, message: image.sourcePath });
    }
    if (hardlinkFellBack) warnings.push('some files could not be hard-linked (another disk?) and were copied instead');
    // A huge near-duplicate group (chained look-alikes) must stay in one split, which skews them.
    const groupSizes = new Map<number, number>();
    for (const image of plan.images) if (image.group !== null) groupSizes.set(image.group, (groupSizes.get(image.group) ?? 0) + 1);
    const largestGroup = Math.max(0, ...groupSizes.values());
    if (plan.images.length >= 20 && largestGroup > 0.1 * plan.images.length) {
      warnings.push(`one duplicate group holds ${largestGroup} of ${plan.images.length} images and must stay in one split, so the split proportions are off; review it with \`looktwice dedup\` or export with --dedup`);
    }

    const splits = emptyCounts();
    const classes: Record<string, number> = {};
    const perClass: Record<string, SplitCounts> = {};
    for (const image of written) {
      splits[image.split]++;
      classes[image.className] = (classes[image.className] ?? 0) + 1;
      (perClass[image.className] ??= emptyCounts())[image.split]++;
    }
    const classNames = Object.keys(classes).sort();
    for (const className of classNames) {
      for (const split of SPLITS) {
        if (perClass[className]![split] === 0 && splits[split] > 0) {
          warnings.push(`class "${className}" has no image in ${split}: label more of it (a loader's class indices may then differ between splits; see class_to_idx in the manifest)`);
        }
      }
    }
    const rowOf = (image: (typeof written)[number]) => ({
      path: image.relativePath.split(path.sep).join('/'),
      class: image.className,
      split: image.split,
      source: image.source,
      confidence: Number(image.confidence.toFixed(6)),
      content_hash: image.contentHash,
      original_path: readableName(image.sourcePath),
    });
    if (settings.format === 'csv') {
      const header = ['path', 'class', 'split', 'source', 'confidence', 'content_hash', 'original_path'];
      const lines = [header.join(','), ...written.map((image) => Object.values(rowOf(image)).map(csvField).join(','))];
      fs.writeFileSync(path.join(temp, 'labels.csv'), lines.join('\n') + '\n');
      listWritten('labels.csv');
    } else if (settings.format === 'jsonl') {
      fs.writeFileSync(path.join(temp, 'labels.jsonl'), written.map((image) => JSON.stringify(rowOf(image))).join('\n') + (written.length ? '\n' : ''));
      listWritten('labels.jsonl');
    }
    for (const file of writeFormatFiles(temp, settings.format, written.map(rowOf))) listWritten(file);
    const manifest = {
      tool: 'looktwice',
      manifest_version: 2,
      created_at: new Date().toISOString(),
      format: settings.format,
      layout: usesSplitFolders(settings.format) ? `<split>/<class>/<file>${settings.format === 'huggingface' ? ' + <split>/metadata.jsonl' : ''}` : `images/<class>/<file> + labels.${settings.format}`,
      load: loadLines(settings.format, out),
      settings: {
        split: { train: (settings.split ?? [0.8, 0.1, 0.1])[0], val: (settings.split ?? [0.8, 0.1, 0.1])[1], test: (settings.split ?? [0.8, 0.1, 0.1])[2] },
        seed: settings.seed ?? 0,
        min_confidence: plan.minConfidence,
        only_user_labels: settings.onlyUserLabels ?? false,
        dedup: settings.dedup ?? false,
        mode,
        resize_px: resizePx,
      },
      model: { embedding_run_id: plan.embeddingRunId, probe_run_id: plan.probeRunId },
      duplicate_groups: plan.groups,
      classes: classNames,
      // What torchvision's ImageFolder computes: sorted folder names → index.
      class_to_idx: Object.fromEntries(classNames.map((name) => classFolder.get(name)!).sort().map((folder, index) => [folder, index])),
      class_folders: Object.fromEntries(classNames.map((name) => [name, classFolder.get(name)!])),
      counts: { total: written.length, splits, classes: perClass },
      sources: { user: written.filter((i) => i.source === 'user').length, probe_accepted: written.filter((i) => i.source === 'probe' && !i.predicted).length, probe_predicted: written.filter((i) => i.predicted).length },
      skipped: plan.skipped,
      errors,
      warnings,
      // Every file this export wrote (manifest.json aside), so a later --force replaces only these.
      files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    };
    const manifestPath = path.join(temp, 'manifest.json');
    fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    const manifestFd = fs.openSync(manifestPath, 'r');
    fs.fsyncSync(manifestFd);
    fs.closeSync(manifestFd);
    throwIfCancelled(settings.signal);

    // Swap into place (swap.ts): the plan is committed to the journal before the first rename,
    // so a crash at any point is finished by the next export.
    const swapPlan = planSwap(db, out);
    const replaced = swapPlan.kind === 'export' || swapPlan.kind === 'foreign' ? path.join(path.dirname(out), `${path.basename(out)}${REPLACED_MARK}${Date.now()}`) : null;
    journal.planExportSwap(entryId, replaced, JSON.stringify(swapPlan), fileSha256(manifestPath));
    swapStarted = true;
    crashPoint('export-after-journal');
    const entry = journal.openExports().find((open) => open.id === entryId)!;
    const swapped = continueSwap(db, entry);
    warnings.push(...swapped.warnings);
    return {
      exported: written.length, splits, classes, out, manifestPath: path.join(out, 'manifest.json'), errors, warnings,
      kept: swapped.kept, keptAside: swapped.keptAside,
    };
  } catch (error) {
    const entry = journal.openExports().find((open) => open.id === entryId);
    if (!swapStarted || entry?.state === 'swapping') {
      // Not in place yet: the old folder stays (or comes back), the new export goes.
      if (entry) rollBackSwap(db, entry, (error as Error).message);
      else fs.rmSync(temp, { recursive: true, force: true });
    }
    throw error;
  }
}
