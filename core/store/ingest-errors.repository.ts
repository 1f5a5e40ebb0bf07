/**
 * Files that could not be ingested, with a reason a person can act on. A row is cleared when
 * its file later ingests fine, or when the file is gone from a folder that was scanned again.
 */
import { underFolderRange } from './files.repository.ts';
import { CachedStatementsRepository } from './repository.ts';

export interface IngestErrorRow {
  path: string;
  reason: string;
  size: number | null;
  mtimeMs: number | null;
  at: string;
}

export class IngestErrorsRepository extends CachedStatementsRepository {

  record(error: { path: string; reason: string; size: number | null; mtimeMs: number | null }): void {
    this
      .sql(
        `INSERT INTO ingest_errors (path, reason, size, mtime_ms) VALUES (@path, @reason, @size, @mtimeMs)
         ON CONFLICT (path) DO UPDATE SET reason = excluded.reason, size = excluded.size, mtime_ms = excluded.mtime_ms,
                                          at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
      )
      .run(error);
  }

  clear(filePath: string): void {
    this.sql('DELETE FROM ingest_errors WHERE path = ?').run(filePath);
  }

  /** Paths with an error under `folderPath`. */
  pathsUnder(folderPath: string): string[] {
    return this.sql('SELECT path FROM ingest_errors WHERE path > ? AND path < ? ORDER BY path').pluck().all(...underFolderRange(folderPath)) as string[];
  }

  /** Removes every error whose path is in `paths`. */
  clearMany(paths: Iterable<string>): void {
    const statement = this.sql('DELETE FROM ingest_errors WHERE path = ?');
    for (const p of paths) statement.run(p);
  }

  list(): IngestErrorRow[] {
    const rows = this.sql('SELECT path, reason, size, mtime_ms, at FROM ingest_errors ORDER BY path').all() as Array<{ path: string; reason: string; size: number | null; mtime_ms: number | null; at: string }>;
    return rows.map((r) => ({ path: r.path, reason: r.reason, size: r.size, mtimeMs: r.mtime_ms, at: r.at }));
  }
}
