/**
 * The primary path of an image — the one path shown, exported, opened and labelled by when an
 * image (one content) lives at several paths: its alphabetically first present file. One rule,
 * used by every query that needs "the path of an image", so the grid, export, `suggest` and
 * `map --json` never disagree.
 */

/** SQL expression for the primary path of the image whose id is `imageIdSql` (NULL when no file is present). */
export function primaryPathSql(imageIdSql: string): string {
  return `(SELECT min(pf.path) FROM files pf WHERE pf.image_id = ${imageIdSql} AND pf.status = 'present')`;
}
