/**
 * The one mechanism behind stale derived state. Inputs (images, embeddings, labels) carry
 * generation counters that SQLite triggers bump on every change (migration 0006), so nothing
 * has to remember to invalidate; a derived artefact records the generations it was computed
 * from, and is stale when any of its inputs has moved on since.
 */
import type { Db } from './db.ts';
import { CachedStatementsRepository } from './repository.ts';

export const INPUT_KINDS = ['images', 'embeddings', 'labels'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

export const DERIVED_ARTEFACTS = ['duplicates', 'flags', 'clusters', 'map', 'probe'] as const;
export type DerivedArtefact = (typeof DERIVED_ARTEFACTS)[number];

/** What each artefact is computed from: a change to any of these makes it stale. */
export const ARTEFACT_INPUTS: Readonly<Record<DerivedArtefact, readonly InputKind[]>> = {
  duplicates: ['images', 'embeddings'],
  flags: ['images', 'embeddings'],
  clusters: ['images', 'embeddings'],
  map: ['images', 'embeddings'],
  probe: ['embeddings', 'labels'],
};

/** The generations of the inputs at one moment. */
export type InputGenerations = Record<InputKind, number>;

/** Where one artefact stands. */
export interface ArtefactState {
  /** When it was last computed (ISO 8601), or null when never. */
  computedAt: string | null;
  /** Computed, and its inputs changed since; false when never computed (then there is nothing to be stale). */
  stale: boolean;
  /** Which inputs changed since it was computed. */
  changed: InputKind[];
}

export class DerivedStateRepository extends CachedStatementsRepository {
  constructor(db: Db) {
    super(db);
  }

  /** The current generations; take them before computing an artefact (see record). */
  generations(): InputGenerations {
    const rows = this.sql('SELECT kind, generation FROM input_generations').all() as Array<{ kind: InputKind; generation: number }>;
    const out: InputGenerations = { images: 0, embeddings: 0, labels: 0 };
    for (const row of rows) out[row.kind] = row.generation;
    return out;
  }

  /**
   * Records that `artefact` was computed from the inputs as they were at `from` (taken when the
   * computation started, so a change made while it ran leaves the result stale).
   */
  record(artefact: DerivedArtefact, from: InputGenerations): void {
    const inputs = Object.fromEntries(ARTEFACT_INPUTS[artefact].map((kind) => [kind, from[kind]]));
    this.sql(
      `INSERT INTO derived_state (artefact, inputs_json, computed_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))
       ON CONFLICT(artefact) DO UPDATE SET inputs_json = excluded.inputs_json, computed_at = excluded.computed_at`,
    ).run(artefact, JSON.stringify(inputs));
  }

  /** Where one artefact stands now. */
  state(artefact: DerivedArtefact): ArtefactState {
    return this.states()[artefact];
  }

  /** Where every artefact stands now. */
  states(): Record<DerivedArtefact, ArtefactState> {
    const now = this.generations();
    const rows = this.sql('SELECT artefact, inputs_json, computed_at FROM derived_state').all() as Array<{ artefact: DerivedArtefact; inputs_json: string; computed_at: string }>;
    const recorded = new Map(rows.map((row) => [row.artefact, row]));
    const out = {} as Record<DerivedArtefact, ArtefactState>;
    for (const artefact of DERIVED_ARTEFACTS) {
      const row = recorded.get(artefact);
      if (!row) {
        out[artefact] = { computedAt: null, stale: false, changed: [] };
        continue;
      }
      const inputs = JSON.parse(row.inputs_json) as Partial<InputGenerations>;
      const changed = ARTEFACT_INPUTS[artefact].filter((kind) => inputs[kind] !== now[kind]);
      out[artefact] = { computedAt: row.computed_at, stale: changed.length > 0, changed };
    }
    return out;
  }
}
