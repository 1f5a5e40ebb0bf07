/**
 * The main window's options and the rules every page of the app lives under: Chromium's
 * sandbox, context isolation, no Node in the page, a strict Content-Security-Policy, and no
 * navigation or new windows. Pure data and functions (types only from `electron`) so the
 * security settings are unit-tested.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { APP_HOST, APP_SCHEME } from './channels.ts';

/**
 * The page may load only its own files from `looktwice://app` ('self'); images additionally
 * from data:/blob: (canvas exports). No remote code, no eval, no plugins, no frames, no forms.
 * Inline styles stay allowed because Svelte sets `style` attributes from its templates.
 * `wasm-unsafe-eval` lets the renderer compile WebAssembly (tfjs wasm) without allowing eval.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "media-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (dist-electron/preload.cjs). */
  preloadPath: string;
  /** Absolute path of the window icon (Linux/Windows; macOS takes it from the bundle). */
  iconPath?: string;
  /** Developer tools are available only when not packaged. */
  devTools: boolean;
}

/** BrowserWindow options of the main window. */
export function mainWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'Looktwice',
    backgroundColor: '#16181d',
    // Shown on 'ready-to-show', so the user never sees a blank white frame.
    show: false,
    ...(input.iconPath ? { icon: input.iconPath } : {}),
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: input.devTools,
    },
  };
}

/** True for addresses of the app itself (`looktwice://app/…`). */
export function isAppUrl(rawUrl: string): boolean {
  try {
    const url = new URL(rawUrl);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * Whether the window may navigate to `rawUrl`: only within the app (e.g. a reload or an
 * in-app route). Everything else is blocked; links to the web open in the user's browser
 * instead (see externalUrl).
 */
export function isNavigationAllowed(rawUrl: string): boolean {
  return isAppUrl(rawUrl);
}

/**
 * The address to hand to the OS browser when the page tries to open `rawUrl` (a link with
 * target=_blank, window.open, or a navigation away): https only, never file:, javascript:
 * or custom schemes. null means: just refuse.
 */
export function externalUrl(rawUrl: string): string | null {
  try {
    const url = new URL(rawUrl);
    if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return null;
    return url.toString();
  } catch {
    return null;
  }
}

/** The only web permissions the page gets: writing to the clipboard (copy buttons). */
const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

/**
 * Whether a permission request or check from the page is granted. Everything else — camera,
 * microphone, geolocation, notifications, MIDI, HID/serial/USB, … — is denied: the app needs none.
 */
export function isPermissionAllowed(permission: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission);
}
