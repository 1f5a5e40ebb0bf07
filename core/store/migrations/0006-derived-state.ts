/**
 * Schema 6: derived state in one mechanism. Every input kind (images, embeddings, labels) has a
 * generation counter that triggers bump on every change to its tables, so no code path can
 * forget to invalidate; each derived artefact (duplicate groups, flags, clusters, map, probe
 * predictions) records the generations it was computed from, and is stale when they differ.
 * Duplicate groups and quality flags are stored (they used to live only in memory), and the rule
 * every read model shares for which label wins is one view (effective_labels).
 */
import type { Migration } from './migration.ts';

/** A trigger body that bumps the generation of one input kind. */
function bump(kind: string): string {
  return `UPDATE input_generations SET generation = generation + 1 WHERE kind = '${kind}';`;
}

export const m0006DerivedState: Migration = {
  version: 6,
  name: 'derived-state',
  sql: `
    CREATE TABLE input_generations (
      kind        TEXT    PRIMARY KEY CHECK (kind IN ('images', 'embeddings', 'labels')),
      generation  INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO input_generations (kind) VALUES ('images'), ('embeddings'), ('labels');

    -- Images: a file appears, disappears, moves or changes content; an image row changes.
    CREATE TRIGGER files_generation_insert AFTER INSERT ON files BEGIN ${bump('images')} END;
    CREATE TRIGGER files_generation_delete AFTER DELETE ON files BEGIN ${bump('images')} END;
    CREATE TRIGGER files_generation_update AFTER UPDATE OF status, path, image_id ON files
      WHEN old.status IS NOT new.status OR old.path IS NOT new.path OR old.image_id IS NOT new.image_id
      BEGIN ${bump('images')} END;
    CREATE TRIGGER images_generation_delete AFTER DELETE ON images BEGIN ${bump('images')} END;
    -- Embeddings.
    CREATE TRIGGER embeddings_generation_insert AFTER INSERT ON embeddings BEGIN ${bump('embeddings')} END;
    CREATE TRIGGER embeddings_generation_update AFTER UPDATE ON embeddings BEGIN ${bump('embeddings')} END;
    CREATE TRIGGER embeddings_generation_delete AFTER DELETE ON embeddings BEGIN ${bump('embeddings')} END;
    -- Labels (the user's and accepted ones; predictions are derived, not an input).
    CREATE TRIGGER labels_generation_insert AFTER INSERT ON labels BEGIN ${bump('labels')} END;
    CREATE TRIGGER labels_generation_update AFTER UPDATE ON labels BEGIN ${bump('labels')} END;
    CREATE TRIGGER labels_generation_delete AFTER DELETE ON labels BEGIN ${bump('labels')} END;

    -- What each derived artefact was computed from: {"images": 12, "embeddings": 3, ...}.
    CREATE TABLE derived_state (
      artefact     TEXT    PRIMARY KEY CHECK (artefact IN ('duplicates', 'flags', 'clusters', 'map', 'probe')),
      inputs_json  TEXT    NOT NULL,
      computed_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );

    -- The latest duplicate search; a group leaves when the user resolves it.
    CREATE TABLE duplicate_groups (
      id             INTEGER PRIMARY KEY,        -- smallest image id of the group
      kind           TEXT    NOT NULL CHECK (kind IN ('exact', 'near')),
      similarity     REAL    NOT NULL,
      keep_path      TEXT    NOT NULL,
      keep_image_id  INTEGER NOT NULL,
      why            TEXT    NOT NULL,
      dismissed      INTEGER NOT NULL DEFAULT 0, -- a "keep all" group (export still keeps it in one split)
      resolved       INTEGER NOT NULL DEFAULT 0  -- removed or kept by the user since the search
    );
    CREATE TABLE duplicate_group_members (
      group_id   INTEGER NOT NULL REFERENCES duplicate_groups(id) ON DELETE CASCADE,
      position   INTEGER NOT NULL,               -- keeper first, as the search ordered them
      path       TEXT    NOT NULL,
      image_id   INTEGER NOT NULL,
      PRIMARY KEY (group_id, position)
    );

    -- The latest quality check: raised flags (dismissed ones left out) and the scores behind them.
    CREATE TABLE image_flags (
      image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      kind      TEXT    NOT NULL,
      PRIMARY KEY (image_id, kind)
    );
    CREATE TABLE image_flag_scores (
      image_id     INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      scores_json  TEXT    NOT NULL
    );

    -- Which label wins: the user's or an accepted label; else the latest probe's prediction
    -- (predicted = 1; unsure = 1 when under the probe's threshold).
    CREATE VIEW effective_labels AS
      SELECT l.image_id, l.class_id, c.name AS class_name, l.source, l.confidence, 0 AS predicted, 0 AS unsure
        FROM labels l JOIN classes c ON c.id = l.class_id
      UNION ALL
      SELECT p.image_id, p.class_id, c.name AS class_name, 'probe' AS source, p.confidence, 1 AS predicted, p.unsure
        FROM predictions p JOIN classes c ON c.id = p.class_id
       WHERE NOT EXISTS (SELECT 1 FROM labels l2 WHERE l2.image_id = p.image_id);
  `,
};
