/**
 * Library folders and the file paths images live at. A path is unique; a path whose file
 * disappeared keeps its row with status 'missing' (it may come back, or turn up elsewhere as a
 * move). Paths under a folder are found with a range on the unique index:
 * underFolderRange().
 */
import path from 'node:path';
import { CachedStatementsRepository } from './repository.ts';

/**
 * The range [low, high) of paths strictly under `folder`, for `path > low AND path < high`:
 * every such path starts with folder + separator, and high replaces the separator by the next
 * character, so the unique index on path answers it.
 */
export function underFolderRange(folder: string): [string, string] {
  const prefix = folder.endsWith(path.sep) ? folder : `${folder}${path.sep}`;
  const next = String.fromCharCode(path.sep.charCodeAt(0) + 1);
  return [prefix, `${prefix.slice(0, -1)}${next}`];
}

export type FileStatus = 'present' | 'missing' | 'removed';

export interface FileRow {
  id: number;
  path: string;
  folderId: number | null;
  imageId: number;
  size: number;
  mtimeMs: number;
  status: FileStatus;
}

export interface FolderRow {
  id: number;
  path: string;
  addedAt: string;
  lastScanAt: string | null;
}

interface RawFileRow {
  id: number;
  path: string;
  folder_id: number | null;
  image_id: number;
  size: number;
  mtime_ms: number;
  status: FileStatus;
}

const FILE_COLUMNS = 'id, path, folder_id, image_id, size, mtime_ms, status';

function toFileRow(row: RawFileRow): FileRow {
  return { id: row.id, path: row.path, folderId: row.folder_id, imageId: row.image_id, size: row.size, mtimeMs: row.mtime_ms, status: row.status };
}

export class FilesRepository extends CachedStatementsRepository {

  // ── folders ──

  /** The folder row for `folderPath`, created if new; returns its id. */
  ensureFolder(folderPath: string): number {
    this.sql('INSERT INTO folders (path) VALUES (?) ON CONFLICT (path) DO NOTHING').run(folderPath);
    return this.sql('SELECT id FROM folders WHERE path = ?').pluck().get(folderPath) as number;
  }

  markFolderScanned(folderId: number): void {
    this.sql("UPDATE folders SET last_scan_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?").run(folderId);
  }

  folders(): FolderRow[] {
    const rows = this.sql('SELECT id, path, added_at, last_scan_at FROM folders ORDER BY path').all() as Array<{ id: number; path: string; added_at: string; last_scan_at: string | null }>;
    return rows.map((r) => ({ id: r.id, path: r.path, addedAt: r.added_at, lastScanAt: r.last_scan_at }));
  }

  // ── files ──

  byPath(filePath: string): FileRow | undefined {
    const row = this.sql(`SELECT ${FILE_COLUMNS} FROM files WHERE path = ?`).get(filePath) as RawFileRow | undefined;
    return row && toFileRow(row);
  }

  /** Every file row under `folderPath` (any status). */
  underFolder(folderPath: string): FileRow[] {
    const rows = this
      .sql(`SELECT ${FILE_COLUMNS} FROM files WHERE path > ? AND path < ? ORDER BY path`)
      .all(...underFolderRange(folderPath)) as RawFileRow[];
    return rows.map(toFileRow);
  }

  /** Rows of other paths holding the same image (candidates for "this file was moved here"). */
  byImage(imageId: number): FileRow[] {
    const rows = this.sql(`SELECT ${FILE_COLUMNS} FROM files WHERE image_id = ? ORDER BY id`).all(imageId) as RawFileRow[];
    return rows.map(toFileRow);
  }

  insert(file: { path: string; folderId: number | null; imageId: number; size: number; mtimeMs: number }): number {
    const result = this
      .sql('INSERT INTO files (path, folder_id, image_id, size, mtime_ms) VALUES (@path, @folderId, @imageId, @size, @mtimeMs)')
      .run(file);
    return Number(result.lastInsertRowid);
  }

  /** Points an existing row at (possibly new) content and marks it present and seen now. */
  update(id: number, file: { imageId: number; size: number; mtimeMs: number }): void {
    this
      .sql(
        `UPDATE files SET image_id = @imageId, size = @size, mtime_ms = @mtimeMs, status = 'present',
                          last_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = @id`,
      )
      .run({ id, ...file });
  }

  /** A move: the row keeps its id (and so everything keyed on it) and takes the new path. */
  move(id: number, file: { path: string; folderId: number | null; size: number; mtimeMs: number }): void {
    this
      .sql(
        `UPDATE files SET path = @path, folder_id = @folderId, size = @size, mtime_ms = @mtimeMs, status = 'present',
                          last_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = @id`,
      )
      .run({ id, ...file });
  }

  /** Present rows under `folderPath` whose path is not in `seen`: their files are gone. */
  presentUnseenUnder(folderPath: string, seen: ReadonlySet<string>): FileRow[] {
    return this.underFolder(folderPath).filter((row) => row.status === 'present' && !seen.has(row.path));
  }

  setStatus(ids: readonly number[], status: FileStatus): void {
    const statement = this.sql('UPDATE files SET status = ? WHERE id = ?');
    for (const id of ids) statement.run(status, id);
  }
}
