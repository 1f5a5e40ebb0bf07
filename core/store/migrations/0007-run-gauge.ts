/**
 * Schema 7: the label-free quality gauge of each training run (core/ml/quality-gauge.ts), read
 * every few steps on images held out of training, so the Train screen can plot it beside the loss
 * for past runs too and say when more training stopped helping.
 */
import type { Migration } from './migration.ts';

export const m0007RunGauge: Migration = {
  version: 7,
  name: 'run-gauge',
  sql: `
    CREATE TABLE run_gauge (
      run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step             INTEGER NOT NULL,
      top1             REAL    NOT NULL,  -- held-out contrastive top-1 of h, in [0, 1]
      alignment        REAL    NOT NULL,  -- Wang & Isola alignment, lower is better
      uniformity       REAL    NOT NULL,  -- Wang & Isola uniformity, lower is better
      pixels_top1      REAL    NOT NULL,  -- the same top-1 of the raw pixels (the baseline)
      held_out         INTEGER NOT NULL,  -- images held out of training for it
      stopped_helping  INTEGER NOT NULL,  -- 1 when the plateau rule says more training stopped helping
      PRIMARY KEY (run_id, step)
    );
  `,
};
