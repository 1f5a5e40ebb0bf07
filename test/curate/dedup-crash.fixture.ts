/**
 * Run as a child process by dedup-crash.test.ts and originals-intact.test.ts: applies the
 * removal of every duplicate (to a quarantine folder) or undoes the newest removal, and dies with
 * SIGKILL at the point the test hook LOOKTWICE_TEST_CRASH_AT names (core/common/crash-point.ts)
 * — a real crash between two steps of a move, no cleanup code gets to run.
 * argv: DB_PATH apply|undo [QUARANTINE_DIR]
 */
import { openLibrary } from '../../core/store/db.ts';
import { findDuplicateGroups } from '../../core/curate/duplicates.ts';
import { applyRemovals, undoLastApply } from '../../core/curate/dedup.service.ts';

const [dbPath, op, quarantine] = process.argv.slice(2);
const library = openLibrary(dbPath!);
if (op === 'apply') {
  const groups = await findDuplicateGroups(library.db, { dataDir: library.dataDir });
  applyRemovals(library.db, groups, { method: 'quarantine', quarantineDir: quarantine! });
} else {
  undoLastApply(library.db);
}
library.close();
