/**
 * Use-case side of the derived-state mechanism (core/store/derived-state.repository.ts): take
 * the input generations before computing, record them after, and keep an artefact fresh across
 * an action that updates it in step with its inputs (e.g. removing a duplicate group's copies
 * changes the images, but the stored groups already reflect that).
 */
import type { Library } from '../store/db.ts';
import { DerivedStateRepository, type ArtefactState, type DerivedArtefact } from '../store/derived-state.repository.ts';

/** Runs `compute`; on success records that `artefact` reflects the inputs as they were when it started. */
export async function computeDerived<T>(library: Library, artefact: DerivedArtefact, compute: () => Promise<T>): Promise<T> {
  const repository = new DerivedStateRepository(library.db);
  const from = repository.generations();
  const result = await compute();
  repository.record(artefact, from);
  return result;
}

/** Runs `action`; an artefact that was fresh before stays fresh (the action kept it up to date itself). */
export function keepingFresh<T>(library: Library, artefact: DerivedArtefact, action: () => T): T {
  const repository = new DerivedStateRepository(library.db);
  const before = repository.state(artefact);
  const result = action();
  if (before.computedAt !== null && !before.stale) repository.record(artefact, repository.generations());
  return result;
}

/** Where every derived artefact stands. */
export function derivedStates(library: Library): Record<DerivedArtefact, ArtefactState> {
  return new DerivedStateRepository(library.db).states();
}

/** Whether an artefact needs computing: never computed, or its inputs changed since. */
export function needsCompute(library: Library, artefact: DerivedArtefact): boolean {
  const state = new DerivedStateRepository(library.db).state(artefact);
  return state.computedAt === null || state.stale;
}
