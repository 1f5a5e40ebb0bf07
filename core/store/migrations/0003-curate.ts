/** Schema 3: curation (core/curate) — pixel features and quality scores, duplicate decisions,
 *  the undo log of removals, clusters and 2-D map coordinates. */
import type { Migration } from './migration.ts';

export const m0003Curate: Migration = {
  version: 3,
  name: 'curate',
  sql: `
    -- Computed once per image content (images are content-addressed), so reruns are incremental.
    -- Hashes are 16 hex digits; *_mirror are the same hash of the left-right mirrored image, so a
    -- flipped copy is found by comparing one image's hash with the other's mirror hash.
    CREATE TABLE curate_features (
      image_id            INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
      version             INTEGER NOT NULL,        -- of the feature code; older rows are recomputed
      source              TEXT    NOT NULL,        -- 'thumbnail' or 'file': what was decoded
      dhash               TEXT,
      dhash_mirror        TEXT,
      phash               TEXT,
      phash_mirror        TEXT,
      descriptor          BLOB,                    -- float32 LE, L2-normalised tiny grey image (near-dup check)
      grid                BLOB,                    -- 32×32 grey bytes (crop-tolerant near-dup check)
      colour              BLOB,                    -- float32 LE [4, 4, 3] mean RGB 0..1 per cell
      laplacian_variance  REAL,                    -- sharpness: variance of the 3x3 Laplacian at 256 px
      brightness          REAL,                    -- mean luma 0..255
      contrast            REAL,                    -- standard deviation of luma
      entropy_bits        REAL,                    -- Shannon entropy of the 256-bin luma histogram
      dark_fraction       REAL,                    -- share of pixels with luma < 16
      bright_fraction     REAL,                    -- share of pixels with luma > 239
      pixel_hash          TEXT,                    -- sha256 of decoded RGBA pixels (filled lazily)
      error               TEXT,                    -- why the image could not be analysed
      computed_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );

    -- A user's decision about a duplicate group. 'keep_all': never suggest this set again.
    CREATE TABLE duplicate_decisions (
      id            INTEGER PRIMARY KEY,
      decision      TEXT    NOT NULL CHECK (decision IN ('keep_all', 'remove')),
      keep_path     TEXT,
      decided_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE TABLE duplicate_decision_members (
      decision_id   INTEGER NOT NULL REFERENCES duplicate_decisions(id) ON DELETE CASCADE,
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      path          TEXT    NOT NULL,
      PRIMARY KEY (decision_id, path)
    );
    CREATE INDEX duplicate_decision_members_image ON duplicate_decision_members(image_id);

    -- Every apply of removals is one batch; undo restores the newest batch not yet undone.
    CREATE TABLE removal_batches (
      id            INTEGER PRIMARY KEY,
      method        TEXT    NOT NULL CHECK (method IN ('trash', 'quarantine')),
      destination   TEXT    NOT NULL,            -- trash folder or quarantine folder
      applied_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      undone_at     TEXT
    );
    CREATE TABLE removal_items (
      batch_id        INTEGER NOT NULL REFERENCES removal_batches(id) ON DELETE CASCADE,
      file_id         INTEGER REFERENCES files(id) ON DELETE SET NULL,
      original_path   TEXT    NOT NULL,
      moved_to        TEXT    NOT NULL,          -- where the file is now
      trash_info_path TEXT,                      -- freedesktop .trashinfo written next to it, if any
      byte_size       INTEGER NOT NULL,
      restored_to     TEXT,
      error           TEXT,
      PRIMARY KEY (batch_id, original_path)
    );

    -- Clusterings: newest one is what the UI shows. cluster_id -1 = unclustered (density method).
    CREATE TABLE clusterings (
      id            INTEGER PRIMARY KEY,
      method        TEXT    NOT NULL,            -- 'kmeans' | 'density'
      source        TEXT    NOT NULL,            -- 'embeddings:<runId>' | 'descriptors'
      k             INTEGER NOT NULL,
      params_json   TEXT    NOT NULL,
      created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE TABLE cluster_assignments (
      clustering_id     INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,
      image_id          INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      cluster_id        INTEGER NOT NULL,
      distance          REAL    NOT NULL,        -- to the cluster centre (cosine distance)
      representative_rank INTEGER,               -- 0,1,2… for the representatives, else NULL
      PRIMARY KEY (clustering_id, image_id)
    );

    -- 2-D maps (UMAP); newest one is what the UI shows.
    CREATE TABLE maps (
      id            INTEGER PRIMARY KEY,
      source        TEXT    NOT NULL,
      params_json   TEXT    NOT NULL,
      created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE TABLE map_points (
      map_id        INTEGER NOT NULL REFERENCES maps(id) ON DELETE CASCADE,
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      x             REAL    NOT NULL,
      y             REAL    NOT NULL,
      PRIMARY KEY (map_id, image_id)
    );
  `,
};
