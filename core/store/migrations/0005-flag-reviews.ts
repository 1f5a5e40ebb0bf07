/** Schema 5: the user's reviews of quality flags (core/api) — a flag judged fine stays dismissed. */
import type { Migration } from './migration.ts';

export const m0005FlagReviews: Migration = {
  version: 5,
  name: 'flag-reviews',
  sql: `
    -- Quality flags are recomputed from image features; this remembers which ones the user
    -- dismissed ("not a problem"), per image content and kind, so they stay hidden.
    CREATE TABLE flag_dismissals (
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      kind          TEXT    NOT NULL,
      dismissed_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      PRIMARY KEY (image_id, kind)
    );
  `,
};
