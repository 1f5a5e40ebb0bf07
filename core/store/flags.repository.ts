/**
 * Stored quality flags (migration 0006) and the user's dismissals of them (migration 0005).
 * The "Check quality" job replaces them; the grid, the map and `getLibrary` only read, so
 * opening the app never starts an analysis.
 */
import type { Db } from './db.ts';
import { CachedStatementsRepository } from './repository.ts';

export class FlagsRepository extends CachedStatementsRepository {
  constructor(db: Db) {
    super(db);
  }

  /** Replaces every flag and score with a check's result, leaving out dismissed flags; returns how many images are flagged. */
  replace(flags: ReadonlyArray<{ imageId: number; kinds: readonly string[]; scores: Record<string, number> }>): number {
    const dismissed = this.dismissed();
    const insertFlag = this.sql('INSERT OR IGNORE INTO image_flags (image_id, kind) VALUES (?, ?)');
    const insertScores = this.sql('INSERT OR REPLACE INTO image_flag_scores (image_id, scores_json) VALUES (?, ?)');
    const exists = this.sql('SELECT 1 FROM images WHERE id = ?').pluck();
    let flagged = 0;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM image_flags').run();
      this.db.prepare('DELETE FROM image_flag_scores').run();
      for (const image of flags) {
        if (exists.get(image.imageId) === undefined) continue;
        const kinds = image.kinds.filter((kind) => !dismissed.has(`${image.imageId}:${kind}`));
        for (const kind of kinds) insertFlag.run(image.imageId, kind);
        if (kinds.length > 0) flagged++;
        insertScores.run(image.imageId, JSON.stringify(image.scores));
      }
    })();
    return flagged;
  }

  /** Flags the user dismissed, as "imageId:kind". */
  dismissed(): Set<string> {
    const rows = this.sql('SELECT image_id, kind FROM flag_dismissals').all() as Array<{ image_id: number; kind: string }>;
    return new Set(rows.map((row) => `${row.image_id}:${row.kind}`));
  }

  /** Hides these raised flags for good (stored, so a new check keeps them hidden); returns how many were raised. */
  dismiss(imageIds: readonly number[], kinds: readonly string[]): number {
    const raised = this.sql(
      'SELECT image_id, kind FROM image_flags WHERE image_id IN (SELECT value FROM json_each(?)) AND kind IN (SELECT value FROM json_each(?))',
    ).all(JSON.stringify(imageIds), JSON.stringify(kinds)) as Array<{ image_id: number; kind: string }>;
    const insert = this.sql('INSERT OR IGNORE INTO flag_dismissals (image_id, kind) VALUES (?, ?)');
    const remove = this.sql('DELETE FROM image_flags WHERE image_id = ? AND kind = ?');
    this.db.transaction(() => {
      for (const row of raised) {
        insert.run(row.image_id, row.kind);
        remove.run(row.image_id, row.kind);
      }
    })();
    return raised.length;
  }

  counts(): Array<{ kind: string; count: number }> {
    return this.sql('SELECT kind, count(*) AS count FROM image_flags GROUP BY kind ORDER BY count DESC, kind').all() as Array<{ kind: string; count: number }>;
  }

  flaggedImages(): number {
    return this.sql('SELECT count(DISTINCT image_id) FROM image_flags').pluck().get() as number;
  }

  /** Flag kinds per image (all images when imageIds is omitted). */
  of(imageIds?: readonly number[]): Map<number, string[]> {
    const rows = (imageIds === undefined
      ? this.sql('SELECT image_id, kind FROM image_flags ORDER BY kind').all()
      : this.sql('SELECT image_id, kind FROM image_flags WHERE image_id IN (SELECT value FROM json_each(?)) ORDER BY kind').all(JSON.stringify(imageIds))) as Array<{ image_id: number; kind: string }>;
    const out = new Map<number, string[]>();
    for (const row of rows) {
      const list = out.get(row.image_id) ?? [];
      list.push(row.kind);
      out.set(row.image_id, list);
    }
    return out;
  }

  /** The scores behind the flags of one image (sharpness, brightness, …), or {}. */
  scores(imageId: number): Record<string, number> {
    const json = this.sql('SELECT scores_json FROM image_flag_scores WHERE image_id = ?').pluck().get(imageId) as string | undefined;
    return json ? (JSON.parse(json) as Record<string, number>) : {};
  }
}
