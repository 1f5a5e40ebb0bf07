/**
 * The content-addressed thumbnail cache next to the database:
 * `<dataDir>/thumbnails/<first two hex digits>/<content hash>.webp`. The same bytes always map
 * to the same file, so a crash can at worst leave a file the next run would write identically.
 * Writes go to a temp file that is renamed into place, so a reader never sees half a thumbnail.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const FOLDER = 'thumbnails';
const TEMP_MARK = '.partial-';

/** The thumbnail's path relative to the data folder (what the thumbnails table stores). */
export function thumbnailRelpath(contentHash: string): string {
  return path.posix.join(FOLDER, contentHash.slice(0, 2), `${contentHash}.webp`);
}

export class ThumbnailCache {
  constructor(private readonly dataDir: string) {}

  absolutePath(relpath: string): string {
    return path.join(this.dataDir, ...relpath.split('/'));
  }

  has(contentHash: string): boolean {
    return fs.existsSync(this.absolutePath(thumbnailRelpath(contentHash)));
  }

  /** Writes the thumbnail atomically (temp file + rename); returns its relative path. */
  async write(contentHash: string, bytes: Buffer): Promise<string> {
    const relpath = thumbnailRelpath(contentHash);
    const target = this.absolutePath(relpath);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}${TEMP_MARK}${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      await fs.promises.writeFile(temp, bytes);
      await fs.promises.rename(temp, target);
    } catch (error) {
      await fs.promises.rm(temp, { force: true });
      throw new Error(`cannot write thumbnail ${target}: ${(error as Error).message}`);
    }
    return relpath;
  }

  /** Removes temp files a killed run left behind (older than `olderThanMs`); returns how many. */
  removeStaleTemps(olderThanMs = 60_000): number {
    const root = path.join(this.dataDir, FOLDER);
    let removed = 0;
    let shards: string[];
    try {
      shards = fs.readdirSync(root);
    } catch {
      return 0;
    }
    const cutoff = Date.now() - olderThanMs;
    for (const shard of shards) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(root, shard));
      } catch {
        continue;
      }
      for (const name of names) {
        if (!name.includes(TEMP_MARK)) continue;
        const file = path.join(root, shard, name);
        try {
          if (fs.statSync(file).mtimeMs < cutoff) {
            fs.rmSync(file, { force: true });
            removed += 1;
          }
        } catch {
          // gone already
        }
      }
    }
    return removed;
  }
}
