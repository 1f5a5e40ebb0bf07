/**
 * Run as a child process by the export tests: starts an export and dies with SIGKILL — a real
 * crash, no cleanup code gets to run. Either after a few files (KILL_AFTER_FILES > 0, from the
 * progress callback), or at a named point inside the export set by the test hook
 * LOOKTWICE_TEST_CRASH_AT (core/common/crash-point.ts), e.g. at the second rename of --force.
 * argv: DB_PATH OUT KILL_AFTER_FILES [force] [FORMAT]
 */
import { openLibrary } from '../../core/store/db.ts';
import { runExport, type ExportFormat } from '../../core/export/export.service.ts';

const [dbPath, out, killAfter, force, format] = process.argv.slice(2);
const library = openLibrary(dbPath!);
await runExport(library.db, {
  out: out!,
  format: (format ?? 'imagefolder') as ExportFormat,
  force: force === 'force',
  duplicateGroups: [],
  dataDir: library.dataDir,
  onProgress: (progress) => {
    if (Number(killAfter) > 0 && progress.phase === 'export:write' && progress.done >= Number(killAfter)) process.kill(process.pid, 'SIGKILL');
  },
});
library.close();
