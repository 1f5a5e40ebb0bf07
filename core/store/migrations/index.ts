/**
 * Every schema migration, in version order. Each concept owns its migration file; a new table
 * or column is a new migration (never an edit of a released one).
 */
import type { Migration } from './migration.ts';
import { m0001Library } from './0001-library.ts';
import { m0002Ml } from './0002-ml.ts';
import { m0003Curate } from './0003-curate.ts';
import { m0004Labels } from './0004-labels.ts';
import { m0005FlagReviews } from './0005-flag-reviews.ts';
import { m0006DerivedState } from './0006-derived-state.ts';
import { m0007RunGauge } from './0007-run-gauge.ts';
import { m0008Journals } from './0008-journals.ts';

export const MIGRATIONS: readonly Migration[] = [m0001Library, m0002Ml, m0003Curate, m0004Labels, m0005FlagReviews, m0006DerivedState, m0007RunGauge, m0008Journals];
