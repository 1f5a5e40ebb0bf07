/**
 * The application menu as a template: the usual Edit/View/Window menus with their standard
 * shortcuts (through Electron roles, so they behave natively on each OS), plus the app's own
 * commands. Pure data built from the platform and a set of callbacks, so it is unit-tested;
 * main.ts passes it to Menu.buildFromTemplate.
 */
import type { MenuItemConstructorOptions } from 'electron';

/** What the app's own menu items do; main.ts implements them. */
export interface MenuActions {
  /** Native folder dialog, then add the folder(s) to the library. */
  addFolder(): void;
  /** Rescan every library folder for new, changed and removed files. */
  rescanFolders(): void;
  /** Show the folder holding the library database in the file manager. */
  showDataFolder(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  appName: string;
  /** Reload and developer tools only in development builds. */
  isDevelopment: boolean;
}

/** The menu template for this platform. */
export function buildMenuTemplate(options: MenuOptions, actions: MenuActions): MenuItemConstructorOptions[] {
  const isMac = options.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [];

  if (isMac) {
    template.push({
      label: options.appName,
      submenu: [
        { role: 'about' },
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }

  template.push({
    label: '&File',
    submenu: [
      { id: 'add-folder', label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.addFolder() },
      { id: 'rescan-folders', label: 'Rescan Folders', accelerator: 'CmdOrCtrl+Shift+R', click: () => actions.rescanFolders() },
      { type: 'separator' },
      { id: 'show-data-folder', label: 'Show Library Data Folder', click: () => actions.showDataFolder() },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  });

  template.push({ role: 'editMenu' });

  const view: MenuItemConstructorOptions[] = [];
  if (options.isDevelopment) {
    view.push({ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' });
  }
  view.push(
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  );
  template.push({ label: '&View', submenu: view });

  template.push({ role: 'windowMenu' });

  template.push({
    role: 'help',
    submenu: isMac ? [] : [{ role: 'about' }],
  });

  return template;
}
