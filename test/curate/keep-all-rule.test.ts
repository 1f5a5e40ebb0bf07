/**
 * "Keep all" has one definition (DuplicateGroupsRepository.keptAllCheck): a group the user kept
 * never comes back while its paths stay among the kept ones — a copy deleted since changes
 * nothing, a new copy brings it back — and the search (core/curate/duplicates.ts, what
 * `looktwice dedup` shows) and the stored groups (what the Duplicates screen and export read)
 * agree at every step. Real files, the real ingest, search and use cases.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { findDuplicateGroups } from '../../core/curate/duplicates.ts';
import { allDuplicateGroups, findDuplicates, keepAllDuplicates, openDuplicateGroups } from '../../core/app/curation.ts';
import { encodeImage, ingestFolder, tempLibrary, type TempLibrary } from '../helpers/index.ts';

let temp: TempLibrary;
beforeEach(() => {
  temp = tempLibrary('looktwice-keep-all-');
});
afterEach(() => temp.cleanup());

/** The groups left to review, by the search and by the stored result, as sorted file names. */
async function shown(): Promise<{ searched: string[][]; stored: string[][]; dismissed: string[][] }> {
  const names = (groups: ReadonlyArray<{ members: readonly string[] }>): string[][] => groups.map((g) => g.members.map((m) => path.basename(m)).sort()).sort();
  await findDuplicates(temp.library);
  return {
    searched: names(await findDuplicateGroups(temp.library.db, { dataDir: temp.library.dataDir })),
    stored: names(openDuplicateGroups(temp.library)),
    dismissed: names(allDuplicateGroups(temp.library).filter((g) => g.dismissed)),
  };
}

describe('keep all', () => {
  it('hides a kept group while its paths stay among the kept ones, in the search and the stored groups alike', async () => {
    const jpeg = await encodeImage({ width: 80, height: 60, pattern: 'shapes', seed: 21, format: 'jpeg' });
    const other = await encodeImage({ width: 80, height: 60, pattern: 'shapes', seed: 22, format: 'jpeg' });
    for (const name of ['a.jpg', 'a2.jpg', 'a3.jpg']) fs.writeFileSync(path.join(temp.photosDir, name), jpeg);
    for (const name of ['b.jpg', 'b2.jpg']) fs.writeFileSync(path.join(temp.photosDir, name), other);
    await ingestFolder(temp);
    const all = [['a.jpg', 'a2.jpg', 'a3.jpg'], ['b.jpg', 'b2.jpg']];
    expect(await shown()).toEqual({ searched: all, stored: all, dismissed: [] });

    const kept = openDuplicateGroups(temp.library).find((g) => g.members.some((m) => m.endsWith('a.jpg')))!;
    keepAllDuplicates(temp.library, kept.id);
    expect(await shown()).toEqual({ searched: [['b.jpg', 'b2.jpg']], stored: [['b.jpg', 'b2.jpg']], dismissed: [['a.jpg', 'a2.jpg', 'a3.jpg']] });

    // A copy deleted since: the rest is still what the user kept.
    fs.rmSync(path.join(temp.photosDir, 'a3.jpg'));
    await ingestFolder(temp);
    expect(await shown()).toEqual({ searched: [['b.jpg', 'b2.jpg']], stored: [['b.jpg', 'b2.jpg']], dismissed: [['a.jpg', 'a2.jpg']] });

    // A new copy: the group is not the one the user kept any more, so it comes back.
    fs.writeFileSync(path.join(temp.photosDir, 'a4.jpg'), jpeg);
    await ingestFolder(temp);
    const back = [['a.jpg', 'a2.jpg', 'a4.jpg'], ['b.jpg', 'b2.jpg']];
    expect(await shown()).toEqual({ searched: back, stored: back, dismissed: [] });
  });
});
