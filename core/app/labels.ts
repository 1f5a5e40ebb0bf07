/**
 * Label use cases: classes, labels by image or by path, the linear probe, suggestions and
 * accepting predictions. Class names that cannot be folder names are refused as invalid input;
 * the probe's result is recorded as derived state, so new labels or embeddings mark it stale.
 */
import type { Library } from '../store/db.ts';
import { LabelsRepository, type ClassRow } from '../store/labels.repository.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { LabelsService, validateClassName, type PathLabelResult } from '../label/labels.service.ts';
import { ProbeService, type ProbeOutcome, type ProbeSettings, type Suggested } from '../label/probe.service.ts';
import { invalid, notFound } from '../common/errors.ts';
import { computeDerived, keepingFresh } from './derived.ts';

function labelsOf(library: Library): LabelsService {
  return new LabelsService(new LabelsRepository(library.db));
}

function probeOf(library: Library): ProbeService {
  return new ProbeService(new LabelsRepository(library.db), new EmbeddingsRepository(library.db));
}

/** A usable class name, or an 'invalid' error saying why not. */
function className(name: string): string {
  try {
    return validateClassName(name);
  } catch (error) {
    const message = (error as Error).message;
    throw invalid(`${message.charAt(0).toUpperCase()}${message.slice(1)}.`);
  }
}

function requireClass(library: Library, classId: number): void {
  if (!new LabelsRepository(library.db).classById(classId)) throw notFound(`There is no class with id ${classId}.`);
}

export function listClasses(library: Library): ClassRow[] {
  return labelsOf(library).listClasses();
}

/** The class named `name` (trimmed), or a not-found error pointing at the list. */
export function classNamed(library: Library, name: string): { id: number; name: string } {
  const found = new LabelsRepository(library.db).classByName(name.trim());
  if (!found) throw notFound(`There is no class named "${name}" (see \`looktwice classes\`).`);
  return found;
}

export function createClass(library: Library, name: string): ClassRow {
  return labelsOf(library).createClass(className(name));
}

export function renameClass(library: Library, classId: number, name: string): ClassRow {
  requireClass(library, classId);
  const valid = className(name);
  const existing = new LabelsRepository(library.db).classByName(valid);
  if (existing && existing.id !== classId) throw invalid(`A class named "${valid}" already exists.`);
  return labelsOf(library).renameClass(classId, valid);
}

export function deleteClass(library: Library, classId: number): void {
  requireClass(library, classId);
  labelsOf(library).deleteClass(classId);
}

export function setLabels(library: Library, imageIds: readonly number[], classId: number): number {
  requireClass(library, classId);
  return labelsOf(library).setLabels(imageIds, classId);
}

export function clearLabels(library: Library, imageIds: readonly number[]): number {
  return labelsOf(library).clearLabels(imageIds);
}

/** Labels the images at these paths (files or folders), creating the class if needed. */
export function labelPaths(library: Library, name: string, paths: readonly string[]): PathLabelResult {
  return labelsOf(library).labelPaths(className(name), paths);
}

export function clearPaths(library: Library, paths: readonly string[]): PathLabelResult {
  return labelsOf(library).clearPaths(paths);
}

/** Retrains the linear probe on the user labels and predicts every other image. */
export async function runProbe(library: Library, settings: ProbeSettings = {}): Promise<ProbeOutcome> {
  return computeDerived(library, 'probe', async () => probeOf(library).run(settings));
}

export function latestProbe(library: Library): ProbeOutcome | null {
  return probeOf(library).latest();
}

export function suggestImages(library: Library, options: { count: number; seed?: number; signal?: AbortSignal }): Suggested[] {
  return probeOf(library).suggest(options);
}

/** Predictions of the class at or above the confidence (0 before any probe: the slider's count). */
export function countPredictions(library: Library, classId: number, minConfidence: number): number {
  return probeOf(library).countPredictions(classId, minConfidence);
}

/**
 * Accepts the class's predictions at or above the confidence as labels. Needs a probe; the probe
 * stays fresh (it trains on the user's labels only, and accepted predictions leave its output).
 */
export function acceptPredictions(library: Library, classId: number, minConfidence: number): number {
  requireClass(library, classId);
  if (!new LabelsRepository(library.db).latestProbeRun()) throw invalid('There are no predictions yet: run the probe first (`looktwice probe`).');
  return keepingFresh(library, 'probe', () => probeOf(library).acceptPredictions(classId, minConfidence));
}

/** The primary paths of these images (for lists that print paths). */
export function pathsOf(library: Library, imageIds: readonly number[]): Map<number, string> {
  return new LabelsRepository(library.db).pathsOf(imageIds);
}
