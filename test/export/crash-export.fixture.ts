/**
 * Run as a child process by export.service.test.ts: starts an export and kills its own process
 * with SIGKILL after a few files — a real crash mid-export, no cleanup code gets to run.
 * argv: DB_PATH OUT KILL_AFTER_FILES
 */
import { openLibrary } from '../../core/store/db.ts';
import { runExport } from '../../core/export/export.service.ts';

const [dbPath, out, killAfter] = process.argv.slice(2);
const library = openLibrary(dbPath!);
await runExport(library.db, {
  out: out!,
  format: 'imagefolder',
  duplicateGroups: [],
  onProgress: (progress) => {
    if (progress.phase === 'export:write' && progress.done >= Number(killAfter)) process.kill(process.pid, 'SIGKILL');
  },
});
