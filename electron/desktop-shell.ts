/**
 * Desktop-only helpers that are not part of the API contract (they have no meaning in browser
 * mode): the native folder picker. The preload exposes them as `window.looktwiceDesktop`; the
 * renderer feature-detects it (`window.looktwiceDesktop?.pickFolders`) and otherwise offers a
 * text field for the folder path. Main registers them with the same sender-validating helper
 * as the contract, under the `looktwice-shell:` prefix.
 */

/** What `window.looktwiceDesktop` offers. */
export interface DesktopShell {
  /** Opens the native "choose folders" dialog (library folders, an export destination); resolves with the chosen folders ([] if cancelled). */
  pickFolders(): Promise<string[]>;
}

/** Runtime list of the DesktopShell methods (for registration and the preload). */
export const DESKTOP_SHELL_METHODS = ['pickFolders'] as const satisfies readonly (keyof DesktopShell)[];

/** The global the preload sets for these helpers. */
export const DESKTOP_GLOBAL = 'looktwiceDesktop';
