/**
 * What the export tests share: a label fixture (test/label/library-fixture.ts) whose every image
 * the user labeled with its true class, and the checks on what an export left on disk (its
 * files, their SHA-256).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LabelsService } from '../../core/label/labels.service.ts';
import { LabelsRepository } from '../../core/store/labels.repository.ts';
import { labelFixture, type LabelFixture } from '../label/library-fixture.ts';

/** A real library with `perClass` images per class, every image labeled by the user with its true class. */
export async function labeledLibrary(perClass: Record<string, number>): Promise<LabelFixture> {
  const f = await labelFixture(perClass);
  const labels = new LabelsService(new LabelsRepository(f.temp.library.db));
  for (const name of Object.keys(perClass)) labels.labelPaths(name, [path.join(f.temp.photosDir, `${name}-src`)]);
  return f;
}

/** Every file and link below `root` (folders left out), as sorted '/'-separated relative paths. */
export function listFiles(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((p) => !fs.lstatSync(path.join(root, p)).isDirectory())
    .map((p) => p.split(path.sep).join('/'))
    .sort();
}

/** The SHA-256 (hex) of a file's bytes. */
export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
