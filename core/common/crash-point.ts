/**
 * Crash safety primitives shared by removal (core/curate) and export (core/export):
 *   - `crashPoint(name)`: a TEST HOOK. When the environment variable LOOKTWICE_TEST_CRASH_AT
 *     names this point ("removal-after-move", or "removal-after-move:2" for its second time), the
 *     process kills itself with SIGKILL right there, so a test can prove that the next run finishes
 *     or rolls back what was interrupted. Only tests set the variable; unset, a point is one
 *     string comparison.
 *   - `JOURNAL_OWNER` and `ownerIsGone(owner)`: who wrote a journal entry, so that recovery never
 *     "repairs" the move another live process is making right now.
 */
import crypto from 'node:crypto';

const CRASH_ENV = 'LOOKTWICE_TEST_CRASH_AT';
const reached = new Map<string, number>();

/** Test hook: dies with SIGKILL when LOOKTWICE_TEST_CRASH_AT names this point (see the header). */
export function crashPoint(name: string): void {
  const wanted = process.env[CRASH_ENV];
  if (!wanted) return;
  const [point, nth] = wanted.split(':');
  if (point !== name) return;
  const count = (reached.get(name) ?? 0) + 1;
  reached.set(name, count);
  if (count === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}

/** This process, as recorded with each journal entry: "<pid>:<random>". */
export const JOURNAL_OWNER = `${process.pid}:${crypto.randomUUID()}`;

/**
 * True when the process that wrote a journal entry is no longer running, so its unfinished
 * entries may be recovered. An entry of this very process is in progress (false); an entry of
 * another process with this pid is from one that died (pids are reused); another live pid is
 * left alone (at worst the recovery waits until that process ends).
 */
export function ownerIsGone(owner: string): boolean {
  if (owner === JOURNAL_OWNER) return false;
  const pid = Number(owner.split(':')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
