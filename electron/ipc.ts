/**
 * The one place that registers IPC handlers. Every contract method becomes
 * `ipcMain.handle('looktwice:<method>')` through `registerContract`, and every call is checked
 * by `senderRejection` first: only the main frame of one of our own windows, showing a page of
 * our own app scheme, may call the engine. Raw `ipcMain.handle` is used nowhere else.
 *
 * Generic over the contract (any interface of async methods plus the runtime list of their
 * names) so it is tested in plain Node without the Electron binary; only types come from
 * `electron`.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { APP_HOST, APP_SCHEME, INVOKE_PREFIX, toWireError, type InvokeResult } from './channels.ts';

/** The method names of T whose values are functions returning a Promise. */
export type AsyncMethodNames<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T] & string;

/** The part of an invoke event that sender validation reads (IpcMainInvokeEvent fits it). */
export interface SenderInfo {
  sender: { id: number };
  senderFrame: FrameInfo | null;
}

/** The part of a WebFrameMain that sender validation reads. */
export interface FrameInfo {
  url: string;
  parent: FrameInfo | null;
}

/** Who may call: the webContents ids of our windows, read at call time (windows come and go). */
export interface SenderPolicy {
  trustedWebContentsIds(): Iterable<number>;
}

/** How a set of methods is registered. */
export interface RegisterOptions {
  policy: SenderPolicy;
  /** Channel prefix; the contract uses `looktwice:`, desktop-only helpers `looktwice-shell:`. */
  prefix?: string;
  /** Told about every refused call (for the log); the caller gets a SecurityError result. */
  onRejected?: (channel: string, reason: string) => void;
}

/**
 * Why a call must be refused, or null when the sender is trusted: it must come from a
 * webContents we created, from its main frame (not an iframe), whose URL is our app scheme and
 * host (`looktwice://app/…`). A page that navigated elsewhere, an injected iframe or a stray
 * webContents (devtools extension, a webview) is refused.
 */
export function senderRejection(event: SenderInfo, policy: SenderPolicy): string | null {
  if (![...policy.trustedWebContentsIds()].includes(event.sender.id)) return `webContents ${event.sender.id} is not a Looktwice window`;
  const frame = event.senderFrame;
  if (frame === null) return 'the sending frame is gone';
  if (frame.parent !== null) return `a subframe (${frame.url}) may not call the API`;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return `the sending frame has no valid URL (${frame.url})`;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return `the page ${frame.url} is not part of the app`;
  return null;
}

/** An invoke handler as ipcMain.handle receives it. */
export type InvokeHandler = (event: SenderInfo, ...args: unknown[]) => Promise<InvokeResult>;

/**
 * Builds one handler per listed method: validate the sender, call the implementation with the
 * renderer's arguments, and wrap the outcome as an InvokeResult. Throws at once if a listed
 * method is missing from the implementation, so a contract/service mismatch fails at start-up
 * and not on the user's first click.
 */
export function createInvokeHandlers<T extends object>(
  methods: readonly AsyncMethodNames<T>[],
  implementation: T,
  options: RegisterOptions,
): Map<string, InvokeHandler> {
  const { policy, prefix = INVOKE_PREFIX, onRejected = () => {} } = options;
  const handlers = new Map<string, InvokeHandler>();
  for (const method of methods) {
    const fn: unknown = implementation[method];
    if (typeof fn !== 'function') throw new Error(`IPC: the implementation has no method "${method}"`);
    const channel = prefix + method;
    if (handlers.has(channel)) throw new Error(`IPC: method "${method}" is listed twice`);
    handlers.set(channel, async (event, ...args) => {
      const reason = senderRejection(event, policy);
      if (reason !== null) {
        onRejected(channel, reason);
        return { ok: false, error: { name: 'SecurityError', message: `refused ${channel}: ${reason}` } };
      }
      try {
        const value: unknown = await (fn as (...a: unknown[]) => unknown).apply(implementation, args);
        return { ok: true, value };
      } catch (error) {
        return { ok: false, error: toWireError(error) };
      }
    });
  }
  return handlers;
}

/** The part of ipcMain registration uses (so a second registry, e.g. for shell helpers, fits too). */
export type InvokeRegistry = Pick<IpcMain, 'handle' | 'removeHandler'>;

/**
 * Registers every listed method of `implementation` on `ipcMain` behind sender validation.
 * Returns a function that removes the handlers again.
 */
export function registerContract<T extends object>(
  ipc: InvokeRegistry,
  methods: readonly AsyncMethodNames<T>[],
  implementation: T,
  options: RegisterOptions,
): () => void {
  const handlers = createInvokeHandlers(methods, implementation, options);
  for (const [channel, handler] of handlers) {
    ipc.handle(channel, (event: IpcMainInvokeEvent, ...args: unknown[]) => handler(event, ...args));
  }
  return () => {
    for (const channel of handlers.keys()) ipc.removeHandler(channel);
  };
}
