/**
 * The kinds of quality flag, in the order of the map's flag bitmask. Shared vocabulary of the
 * curation engine, the store's read model, the parameter schemas and the API contract.
 */
export const FLAG_KINDS = ['blurry', 'too_dark', 'too_bright', 'low_information', 'uniform', 'odd_aspect', 'tiny', 'outlier', 'unreadable'] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];

/** Whether a string is a known flag kind. */
export function isFlagKind(value: string): value is FlagKind {
  return (FLAG_KINDS as readonly string[]).includes(value);
}
