/**
 * Which folders an export may write to: never one of the library's photo folders (the folder
 * itself, one inside it, or one holding it — `--force` would move the user's photos aside) nor
 * the library's own data folder. Paths are compared after resolving symbolic links, so a link to
 * a photo folder is that photo folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.ts';
import { FilesRepository } from '../store/files.repository.ts';

/** The real path of `target`: links resolved in the part that exists, the rest appended. */
function realPath(target: string): string {
  const missing: string[] = [];
  for (let existing = path.resolve(target); ; existing = path.dirname(existing)) {
    try {
      return path.join(fs.realpathSync(existing), ...missing.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
      if (path.dirname(existing) === existing) return path.resolve(target);
      missing.push(path.basename(existing));
    }
  }
}

function isWithin(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Why `out` may not receive an export of this library, or null when it may. */
export function exportTargetProblem(db: Db, out: string, dataDir?: string): string | null {
  const target = realPath(out);
  for (const folder of new FilesRepository(db).folders()) {
    const root = realPath(folder.path);
    const relation = target === root ? 'is' : isWithin(target, root) ? 'is inside' : isWithin(root, target) ? 'holds' : null;
    if (relation) {
      return `refusing to export into ${out}: it ${relation} the photo folder ${folder.path} of this library, and an export there would mix the dataset with your photos (--force would move them aside). Choose a folder outside your photo folders.`;
    }
  }
  if (dataDir) {
    const data = realPath(dataDir);
    if (isWithin(target, data) || isWithin(data, target)) {
      return `refusing to export into ${out}: it ${isWithin(target, data) ? 'is inside' : 'holds'} the library's own data folder ${dataDir}. Choose another folder.`;
    }
  }
  return null;
}
