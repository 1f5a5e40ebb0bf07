/**
 * The preload (bundled to dist-electron/preload.cjs; runs sandboxed, context-isolated). It
 * exposes exactly two globals to the page and nothing else:
 *
 * - `window.looktwice`: LooktwiceBridge from core/api/contract.ts — every contract method
 *   (`await looktwice.listImages({...})`, one object parameter, rejects with an Error whose
 *   message is already in user words), one `onX(listener) => unsubscribe` per event
 *   (`onProgress`, `onJob`, `onTrainMetrics`, `onLog`, `onLibraryChanged`), and
 *   `thumbnailUrl(hash)` / `imageUrl(hash)` giving `looktwice://app/thumbnails/<hash>` and
 *   `looktwice://app/images/<hash>`.
 * - `window.looktwiceDesktop`: DesktopShell (electron/desktop-shell.ts) — `pickFolders()`.
 *
 * The method and event lists come from the contract at run time and the type is the contract's
 * own LooktwiceBridge, so nothing here is written twice. No ipcRenderer, no Node, no raw channel
 * is ever handed to the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { API_EVENTS, API_METHODS, type LooktwiceBridge } from '../core/api/contract.ts';
import { buildBridge, unwrapResult } from './bridge.ts';
import { API_GLOBAL, EVENT_CHANNEL, SHELL_PREFIX } from './channels.ts';
import { DESKTOP_GLOBAL, DESKTOP_SHELL_METHODS, type DesktopShell } from './desktop-shell.ts';

const bridge = buildBridge(API_METHODS, API_EVENTS, {
  invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
  onEvent: (listener) => {
    ipcRenderer.on(EVENT_CHANNEL, (_event, name: unknown, payload: unknown) => {
      if (typeof name === 'string') listener(name, payload);
    });
  },
}) as unknown as LooktwiceBridge;

const desktop = Object.fromEntries(
  DESKTOP_SHELL_METHODS.map((method) => {
    const channel = SHELL_PREFIX + method;
    return [method, async () => unwrapResult(channel, await ipcRenderer.invoke(channel))];
  }),
) as unknown as DesktopShell;

contextBridge.exposeInMainWorld(API_GLOBAL, bridge);
contextBridge.exposeInMainWorld(DESKTOP_GLOBAL, desktop);
