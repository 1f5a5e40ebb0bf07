/**
 * The stored result of the latest duplicate search (migration 0006): the review screen, the
 * `dedup` command and export read these rows instead of searching again. A search replaces
 * every group; the user's "keep all" and "remove" mark a group resolved.
 */
import type { Db } from './db.ts';
import { CachedStatementsRepository } from './repository.ts';

/** One stored group, as core/curate/duplicates.ts found it. */
export interface StoredDuplicateGroup {
  /** The smallest image id of the group: stable while the group is unchanged. */
  id: number;
  kind: 'exact' | 'near';
  similarity: number;
  /** Absolute path of the suggested copy to keep (also the first member). */
  keep: string;
  keepImageId: number;
  why: string;
  /** Every path, keeper first. */
  members: string[];
  /** Image ids of the group, ascending. */
  imageIds: number[];
  /** The user said "keep all" for this set of paths (in an earlier session or this one). */
  dismissed: boolean;
  /** Removed or kept since the search. */
  resolved: boolean;
}

/** What a search produced for one group. */
export type FoundDuplicateGroup = Pick<StoredDuplicateGroup, 'kind' | 'similarity' | 'keep' | 'keepImageId' | 'why' | 'members' | 'imageIds'>;

export class DuplicateGroupsRepository extends CachedStatementsRepository {
  constructor(db: Db) {
    super(db);
  }

  /**
   * Replaces the stored groups with a search's result (found with dismissed groups included);
   * a group whose every path the user marked "keep all" is stored as dismissed.
   */
  replace(groups: readonly FoundDuplicateGroup[]): void {
    const keptAll = this.keptAllCheck();
    const insertGroup = this.sql(
      'INSERT INTO duplicate_groups (id, kind, similarity, keep_path, keep_image_id, why, dismissed) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const insertMember = this.sql('INSERT INTO duplicate_group_members (group_id, position, path, image_id) VALUES (?, ?, ?, ?)');
    const imageOf = this.sql('SELECT image_id FROM files WHERE path = ?').pluck();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM duplicate_groups').run();
      for (const group of groups) {
        const id = Math.min(...group.imageIds);
        const dismissed = keptAll(group.members);
        insertGroup.run(id, group.kind, group.similarity, group.keep, group.keepImageId, group.why, dismissed ? 1 : 0);
        group.members.forEach((memberPath, position) => {
          insertMember.run(id, position, memberPath, (imageOf.get(memberPath) as number | undefined) ?? group.keepImageId);
        });
      }
    })();
  }

  /** Stored groups: by default those left to review (not dismissed, not resolved); `all` for export. */
  list(options: { all?: boolean } = {}): StoredDuplicateGroup[] {
    const rows = this.sql(
      `SELECT id, kind, similarity, keep_path, keep_image_id, why, dismissed, resolved FROM duplicate_groups
        WHERE ? OR (dismissed = 0 AND resolved = 0) ORDER BY keep_path`,
    ).all(options.all ? 1 : 0) as Array<{ id: number; kind: 'exact' | 'near'; similarity: number; keep_path: string; keep_image_id: number; why: string; dismissed: number; resolved: number }>;
    const members = this.sql('SELECT group_id, path, image_id FROM duplicate_group_members ORDER BY group_id, position').all() as Array<{ group_id: number; path: string; image_id: number }>;
    const byGroup = new Map<number, Array<{ path: string; imageId: number }>>();
    for (const member of members) {
      const list = byGroup.get(member.group_id) ?? [];
      list.push({ path: member.path, imageId: member.image_id });
      byGroup.set(member.group_id, list);
    }
    return rows.map((row) => {
      const list = byGroup.get(row.id) ?? [];
      return {
        id: row.id,
        kind: row.kind,
        similarity: row.similarity,
        keep: row.keep_path,
        keepImageId: row.keep_image_id,
        why: row.why,
        members: list.map((m) => m.path),
        imageIds: [...new Set(list.map((m) => m.imageId))].sort((a, b) => a - b),
        dismissed: row.dismissed === 1,
        resolved: row.resolved === 1,
      };
    });
  }

  /** One group left to review, or undefined. */
  open(id: number): StoredDuplicateGroup | undefined {
    return this.list().find((group) => group.id === id);
  }

  /** Whether a search has stored groups at all (even zero groups count once recorded in derived_state). */
  count(): number {
    return this.sql('SELECT count(*) FROM duplicate_groups WHERE dismissed = 0 AND resolved = 0').pluck().get() as number;
  }

  /** The user acted on the group: it leaves the review list (export still keeps its members together). */
  markResolved(id: number, how: 'kept' | 'removed'): void {
    this.sql(`UPDATE duplicate_groups SET resolved = 1, dismissed = CASE WHEN ? = 'kept' THEN 1 ELSE dismissed END WHERE id = ?`).run(how, id);
  }

  /**
   * The one "keep all" rule: a group is one the user kept when every path of it is in one of
   * their "keep all" decisions (core/curate/dedup.service.ts keepAll). So a kept group that
   * lost a copy stays kept, and one that gained a copy is suggested again. The decisions are
   * read once, here; the returned check is for one search's groups (the search in
   * core/curate/duplicates.ts and `replace`).
   */
  keptAllCheck(): (paths: readonly string[]) => boolean {
    const sets = this.keepAllSets();
    return (paths) => sets.some((set) => paths.every((p) => set.has(p)));
  }

  /** The path sets the user marked "keep all" (duplicate_decisions of core/curate/dedup.service.ts). */
  private keepAllSets(): Array<Set<string>> {
    const rows = this.sql(
      `SELECT m.decision_id AS id, m.path FROM duplicate_decision_members m
         JOIN duplicate_decisions d ON d.id = m.decision_id WHERE d.decision = 'keep_all'`,
    ).all() as Array<{ id: number; path: string }>;
    const byId = new Map<number, Set<string>>();
    for (const row of rows) {
      const set = byId.get(row.id) ?? new Set<string>();
      set.add(row.path);
      byId.set(row.id, set);
    }
    return [...byId.values()];
  }
}
