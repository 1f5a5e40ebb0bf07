/**
 * Names shared by the main process, the preload and the utility process: the global the
 * renderer reads, the IPC channels, and the app's URL scheme. Plain constants and types only
 * (no `electron` import), so every side and the Node tests can load it.
 */

/** The renderer reads the API at `window.looktwice` (see electron/README.md). */
export const API_GLOBAL = 'looktwice';

/** Every contract method `m` is carried on the invoke channel `looktwice:m`. */
export const INVOKE_PREFIX = 'looktwice:';

/** Contract events travel main → renderer on this one channel as `(name, payload)`. */
export const EVENT_CHANNEL = 'looktwice:event';

/** Desktop-only helpers (native dialogs) that are not part of the contract. */
export const SHELL_PREFIX = 'looktwice-shell:';

/** The privileged scheme that serves the renderer, thumbnails and images. */
export const APP_SCHEME = 'looktwice';

/** The one host our pages load from; the renderer's address is `looktwice://app/index.html`. */
export const APP_HOST = 'app';

/** Where the window starts. */
export const APP_START_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** The invoke channel for a contract method. */
export function invokeChannel(method: string): string {
  return INVOKE_PREFIX + method;
}

/** A serialisable error: what crosses a process boundary in place of an Error instance. */
export interface WireError {
  name: string;
  message: string;
  /** The contract's ApiErrorCode when the service gave one ('invalid', 'not_found', …). */
  code?: string;
}

/**
 * What an invoke handler returns. Errors travel as data rather than as a rejected invoke, because
 * Electron rewrites a rejection's message ("Error invoking remote method …"); the preload turns
 * `ok: false` back into an Error with the service's own message and name (e.g. CancelledError).
 */
export type InvokeResult = { ok: true; value: unknown } | { ok: false; error: WireError };

/** Turns anything thrown into a WireError. */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const code: unknown = (error as { code?: unknown }).code;
    return typeof code === 'string' ? { name: error.name, message: error.message, code } : { name: error.name, message: error.message };
  }
  return { name: 'Error', message: String(error) };
}
