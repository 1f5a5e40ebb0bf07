/**
 * Classes and user labels on a library: create/rename/delete classes, label or clear images
 * given by id or by path (a folder path labels every image under it), with every change kept
 * in the label history.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ClassRow, LabelsRepository } from '../store/labels.repository.ts';

export interface PathLabelResult {
  classId: number | null;
  /** Images labeled (or cleared). */
  changed: number;
  /** Images the paths resolved to. */
  images: number;
  /** Paths that match no present file of the library, with the reason. */
  notFound: Array<{ path: string; reason: string }>;
}

/** The longest class name, in characters (the API's and CLI's schema uses the same number). */
export const MAX_CLASS_NAME_LENGTH = 100;

/** A class name must be usable as a folder name on every OS (ImageFolder export). */
export function validateClassName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new Error('a class name cannot be empty');
  if (trimmed === '.' || trimmed === '..') throw new Error(`"${name}" cannot be a class name`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
  if (/[/\\:*?"<>|\u0000-\u001f]/.test(trimmed)) {
    throw new Error(`class name "${name}" contains a character not allowed in folder names (/ \\ : * ? " < > | or control characters)`);
  }
  if (trimmed.length > MAX_CLASS_NAME_LENGTH) throw new Error(`class name "${name.slice(0, 20)}…" is longer than ${MAX_CLASS_NAME_LENGTH} characters`);
  return trimmed;
}

export class LabelsService {
  constructor(private readonly labels: LabelsRepository) {}

  listClasses(): ClassRow[] {
    return this.labels.listClasses();
  }

  /** Creates the class (or returns the existing one of that name). */
  createClass(name: string): ClassRow {
    const id = this.labels.ensureClass(validateClassName(name));
    return this.labels.listClasses().find((row) => row.id === id)!;
  }

  renameClass(classId: number, name: string): ClassRow {
    if (!this.labels.classById(classId)) throw new Error(`no class with id ${classId}`);
    const valid = validateClassName(name);
    const existing = this.labels.classByName(valid);
    if (existing && existing.id !== classId) throw new Error(`a class named "${valid}" already exists`);
    this.labels.renameClass(classId, valid);
    return this.labels.listClasses().find((row) => row.id === classId)!;
  }

  deleteClass(classId: number): void {
    if (!this.labels.classById(classId)) throw new Error(`no class with id ${classId}`);
    this.labels.deleteClass(classId);
  }

  setLabels(imageIds: readonly number[], classId: number): number {
    if (!this.labels.classById(classId)) throw new Error(`no class with id ${classId}`);
    return this.labels.setLabels([...new Set(imageIds)], classId, { source: 'user' });
  }

  clearLabels(imageIds: readonly number[]): number {
    return this.labels.clearLabels([...new Set(imageIds)]);
  }

  /** Resolves paths (files or folders) to the images of the library; unknown ones are reported. */
  resolvePaths(paths: readonly string[]): { imageIds: number[]; notFound: Array<{ path: string; reason: string }> } {
    const imageIds = new Set<number>();
    const notFound: Array<{ path: string; reason: string }> = [];
    for (const given of paths) {
      const absolute = path.resolve(given);
      const ids = this.labels.imageIdsAtPath(absolute);
      if (ids.length === 0) {
        const reason = fs.existsSync(absolute)
          ? 'not in the library (add its folder with `looktwice ingest`)'
          : 'no such file or folder';
        notFound.push({ path: absolute, reason });
      }
      for (const id of ids) imageIds.add(id);
    }
    return { imageIds: [...imageIds].sort((a, b) => a - b), notFound };
  }

  /** `looktwice label <class> <path…>`: creates the class if needed and labels every image found. */
  labelPaths(className: string, paths: readonly string[]): PathLabelResult {
    const { imageIds, notFound } = this.resolvePaths(paths);
    if (imageIds.length === 0) return { classId: this.labels.classByName(className.trim())?.id ?? null, changed: 0, images: 0, notFound };
    const classId = this.labels.ensureClass(validateClassName(className));
    const changed = this.labels.setLabels(imageIds, classId, { source: 'user' });
    return { classId, changed, images: imageIds.length, notFound };
  }

  /** `looktwice label --clear <path…>`. */
  clearPaths(paths: readonly string[]): PathLabelResult {
    const { imageIds, notFound } = this.resolvePaths(paths);
    return { classId: null, changed: this.labels.clearLabels(imageIds), images: imageIds.length, notFound };
  }
}
