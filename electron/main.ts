/**
 * The Electron main process (bundled to dist-electron/main.cjs): a thin, locked-down shell.
 * - one instance; one window, sandboxed and context-isolated, with a strict CSP, no navigation
 *   away from the app and no new windows (window-options.ts);
 * - the renderer and media are served from `looktwice://app/…` (protocol.ts);
 * - every contract method is registered once through ipc.ts (sender-validated) and forwarded to
 *   the engine process (engine/), which owns the library and runs all heavy work — ingest,
 *   training, embedding, curation — so this process and the window never block;
 * - closing the window stops the engine cleanly: running jobs are cancelled, training saves a
 *   checkpoint, then the app quits (with a deadline, after which the engine is killed).
 * The library lives in the same per-user folder the CLI uses (core/cli/args.ts userDataDir()).
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell, utilityProcess } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { API_METHODS, type LooktwiceApi } from '../core/api/contract.ts';
import { resolveDbPath, userDataDir } from '../core/cli/args.ts';
import { APP_HOST, APP_SCHEME, APP_START_URL, EVENT_CHANNEL, SHELL_PREFIX } from './channels.ts';
import { DESKTOP_SHELL_METHODS, type DesktopShell } from './desktop-shell.ts';
import { EngineHost, remoteApi, utilityProcessPort } from './engine/host.ts';
import { registerContract, type SenderPolicy } from './ipc.ts';
import { buildMenuTemplate } from './menu.ts';
import { electronSqliteBindingPath } from './native-binding.ts';
import { handleRequest, type MediaFile, type MediaRefusal } from './protocol.ts';
import { externalUrl, isNavigationAllowed, isPermissionAllowed, mainWindowOptions } from './window-options.ts';

/** How long a closing app waits for running jobs (training writes its checkpoint) before killing the engine. */
const STOP_DEADLINE_MS = 30_000;
/** Wait before restarting an engine that crashed, so a crash loop cannot spin. */
const RESTART_DELAY_MS = 2_000;

const APP_ID = 'app.looktwice.desktop';

// Everything below that must happen before 'ready'.
app.setName('Looktwice');
app.setPath('userData', userDataDir());
app.enableSandbox();
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true, codeCache: true } },
]);

const dbPath = resolveDbPath(undefined);
const isDevelopment = !app.isPackaged;
let mainWindow: BrowserWindow | null = null;
let engine: EngineHost | null = null;
let shuttingDown: Promise<void> | null = null;

function log(message: string): void {
  console.log(`[looktwice] ${message}`);
}

/** Sends a contract event to the window (dropped while there is none). */
function forwardEvent(name: string, payload: unknown): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(EVENT_CHANNEL, name, payload);
}

/**
 * The engine's environment: ours, plus — in development only — the Electron build of
 * better-sqlite3 that `npm start` prepared (packaged apps have it rebuilt in place).
 */
function engineEnvironment(): NodeJS.ProcessEnv {
  if (app.isPackaged || process.env.LOOKTWICE_SQLITE_BINDING) return { ...process.env };
  const binding = electronSqliteBindingPath(app.getAppPath(), process.versions.electron, process.platform, process.arch);
  if (!fs.existsSync(binding)) {
    log(`no ${binding}: run \`npm start\` (or node bin/run-ts.mjs build/electron-native.ts) to prepare better-sqlite3 for Electron`);
    return { ...process.env };
  }
  return { ...process.env, LOOKTWICE_SQLITE_BINDING: binding };
}

function startEngine(): EngineHost {
  let startFailure: string | null = null;
  const child = utilityProcess.fork(path.join(__dirname, 'engine.cjs'), ['--db', dbPath], {
    serviceName: 'Looktwice engine',
    stdio: 'inherit',
    env: engineEnvironment(),
  });
  const host = new EngineHost(utilityProcessPort(child), {
    onEvent: forwardEvent,
    warn: (message) => log(message),
    onFatal: (message) => {
      startFailure = message;
    },
    onUnexpectedExit: (code, wasReady) => {
      if (!wasReady) {
        // It never started (e.g. the library cannot be opened): restarting would fail again.
        const hint = !app.isPackaged && /NODE_MODULE_VERSION|better_sqlite3/.test(startFailure ?? '')
          ? '\n\nDevelopment: `npm start` prepares better-sqlite3 for Electron (it needs internet the first time).'
          : '';
        dialog.showErrorBox('Looktwice could not open its library', `${startFailure ?? `The engine exited with code ${code}.`}\n\nLibrary: ${dbPath}${hint}`);
        app.exit(1);
        return;
      }
      log(`the engine stopped unexpectedly (exit code ${code}); restarting`);
      forwardEvent('log', { level: 'error', message: 'The Looktwice engine stopped unexpectedly and is restarting. Running jobs were interrupted; training can resume from its last checkpoint.', at: new Date().toISOString() });
      setTimeout(() => {
        if (shuttingDown === null) engine = startEngine();
      }, RESTART_DELAY_MS);
    },
  });
  return host;
}

/** Calls the engine, whichever instance is current (it may have been restarted). */
function callEngine(method: string, args: unknown[]) {
  if (engine === null) return Promise.resolve({ ok: false as const, error: { name: 'Error', code: 'failed', message: 'The Looktwice engine is not running.' } });
  return engine.call(method, args);
}

const senderPolicy: SenderPolicy = {
  trustedWebContentsIds: () => (mainWindow && !mainWindow.isDestroyed() ? [mainWindow.webContents.id] : []),
};

async function pickFolders(): Promise<string[]> {
  const options = {
    title: 'Choose folders',
    properties: ['openDirectory', 'multiSelections', 'createDirectory'] as Array<'openDirectory' | 'multiSelections' | 'createDirectory'>,
  };
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return result.canceled ? [] : result.filePaths;
}

async function addFoldersFromDialog(): Promise<void> {
  for (const folder of await pickFolders()) {
    const result = await callEngine('addFolder', [{ path: folder }]);
    if (!result.ok) await dialog.showMessageBox({ type: 'error', message: `Could not add ${folder}`, detail: result.error.message });
  }
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow(
    mainWindowOptions({
      preloadPath: path.join(__dirname, 'preload.cjs'),
      iconPath: process.platform === 'darwin' ? undefined : path.join(__dirname, 'icon.png'),
      devTools: isDevelopment,
    }),
  );
  window.once('ready-to-show', () => window.show());
  window.on('close', (event) => {
    if (shuttingDown !== null) return;
    event.preventDefault();
    void shutdown('window closed');
  });
  void window.loadURL(APP_START_URL);
  return window;
}

/** Stops the engine (jobs cancelled, training checkpointed), then quits. Idempotent. */
function shutdown(reason: string): Promise<void> {
  shuttingDown ??= (async () => {
    mainWindow?.hide();
    const stopping = engine;
    engine = null;
    if (stopping) {
      const outcome = await stopping.stop(reason, STOP_DEADLINE_MS);
      log(outcome.clean
        ? `engine stopped (${outcome.cancelledJobs.length} job(s) cancelled)`
        : `engine did not stop within ${STOP_DEADLINE_MS / 1000} s and was ended; training resumes from its last checkpoint`);
    }
    app.quit();
  })();
  return shuttingDown;
}

/** Rules for every webContents: no navigation away, no new windows, no webviews, no permissions. */
function lockDownContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (isNavigationAllowed(url)) return;
      event.preventDefault();
      const external = externalUrl(url);
      if (external) void shell.openExternal(external);
    });
    contents.on('will-redirect', (event, url) => {
      if (!isNavigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const external = externalUrl(url);
      if (external) void shell.openExternal(external);
      return { action: 'deny' };
    });
  });
}

async function onReady(): Promise<void> {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionAllowed(permission)));
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => isPermissionAllowed(permission));

  engine = startEngine();
  const rendererDir = path.join(app.getAppPath(), 'renderer', 'dist');
  protocol.handle(APP_SCHEME, (request) =>
    handleRequest(request, {
      rendererDir,
      media: {
        thumbnail: async (hash) => ((await engine?.callInternal('thumbnail', [hash])) ?? null) as MediaFile | null,
        image: async (hash) => ((await engine?.callInternal('image', [hash])) ?? null) as MediaFile | MediaRefusal | null,
      },
    }, (url, status, why) => log(`refused ${url} (${status}): ${why}`)),
  );

  const api = remoteApi(API_METHODS, { call: callEngine }) as unknown as LooktwiceApi;
  registerContract<LooktwiceApi>(ipcMain, API_METHODS, api, { policy: senderPolicy, onRejected: (channel, why) => log(`refused ${channel}: ${why}`) });
  const desktop: DesktopShell = { pickFolders };
  registerContract<DesktopShell>(ipcMain, DESKTOP_SHELL_METHODS, desktop, { policy: senderPolicy, prefix: SHELL_PREFIX });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate(
        { platform: process.platform, appName: app.getName(), isDevelopment },
        {
          addFolder: () => void addFoldersFromDialog(),
          rescanFolders: () => void callEngine('scanFolders', [{}]),
          showDataFolder: () => void shell.openPath(path.dirname(dbPath)),
        },
      ),
    ),
  );

  mainWindow = createWindow();
  log(`library ${dbPath}; app ${APP_SCHEME}://${APP_HOST}/`);
}

if (!app.requestSingleInstanceLock()) {
  // Another Looktwice is running: it gets focus (second-instance below) and this one leaves.
  app.quit();
} else {
  if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
  lockDownContents();
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('before-quit', (event) => {
    if (shuttingDown !== null) return;
    event.preventDefault();
    void shutdown('quit');
  });
  app.on('window-all-closed', () => void shutdown('window closed'));
  app.whenReady().then(onReady).catch((error: unknown) => {
    dialog.showErrorBox('Looktwice could not start', error instanceof Error ? error.message : String(error));
    app.exit(1);
  });
}
