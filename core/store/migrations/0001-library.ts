/** Schema 1: the catalogue built by ingest (core/library). */
import type { Migration } from './migration.ts';

export const m0001Library: Migration = {
  version: 1,
  name: 'library',
  sql: `
    -- One row per distinct content (bytes); the same photo at several paths is one image.
    CREATE TABLE images (
      id            INTEGER PRIMARY KEY,
      content_hash  TEXT    NOT NULL UNIQUE,   -- hex digest of the file bytes
      byte_size     INTEGER NOT NULL,
      width         INTEGER NOT NULL,          -- after EXIF orientation is applied
      height        INTEGER NOT NULL,
      format        TEXT    NOT NULL,          -- jpeg, png, webp, tiff, gif, avif, heif
      taken_at      TEXT,                      -- ISO 8601 from EXIF DateTimeOriginal, if any
      camera_make   TEXT,
      camera_model  TEXT,
      orientation   INTEGER,                   -- EXIF orientation 1..8 as stored in the file
      gps_lat       REAL,
      gps_lon       REAL,
      exif_json     TEXT,                      -- a small, JSON-safe subset of the EXIF tags
      created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );

    -- Library folders the user added.
    CREATE TABLE folders (
      id            INTEGER PRIMARY KEY,
      path          TEXT NOT NULL UNIQUE,
      added_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      last_scan_at  TEXT
    );

    -- Every path an image lives at. A path whose file disappeared stays, marked missing.
    CREATE TABLE files (
      id            INTEGER PRIMARY KEY,
      path          TEXT    NOT NULL UNIQUE,
      folder_id     INTEGER REFERENCES folders(id) ON DELETE SET NULL,
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      size          INTEGER NOT NULL,
      mtime_ms      INTEGER NOT NULL,
      status        TEXT    NOT NULL DEFAULT 'present' CHECK (status IN ('present', 'missing', 'removed')),
      first_seen_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      last_seen_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE INDEX files_image ON files(image_id);
    CREATE INDEX files_status ON files(status);

    -- Thumbnails in the content-addressed cache next to the database.
    CREATE TABLE thumbnails (
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      size_px       INTEGER NOT NULL,          -- longest side
      relpath       TEXT    NOT NULL,          -- relative to the library's data folder
      width         INTEGER NOT NULL,
      height        INTEGER NOT NULL,
      PRIMARY KEY (image_id, size_px)
    );

    -- 64-bit perceptual hashes as 16 hex digits.
    CREATE TABLE perceptual_hashes (
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      kind          TEXT    NOT NULL CHECK (kind IN ('dhash', 'phash')),
      hash          TEXT    NOT NULL,
      PRIMARY KEY (image_id, kind)
    );

    -- Files that could not be ingested, with the reason; cleared when the file ingests fine.
    CREATE TABLE ingest_errors (
      path          TEXT    PRIMARY KEY,
      reason        TEXT    NOT NULL,
      size          INTEGER,
      mtime_ms      INTEGER,
      at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
  `,
};
