// The application menu template per platform: standard roles, the app's commands and shortcuts.
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate } from '../../electron/menu.ts';

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? flatten(item.submenu) : [])]);
}

function template(platform: NodeJS.Platform, isDevelopment = false) {
  const calls: string[] = [];
  const items = buildMenuTemplate(
    { platform, appName: 'Looktwice', isDevelopment },
    { addFolder: () => calls.push('addFolder'), rescanFolders: () => calls.push('rescanFolders'), showDataFolder: () => calls.push('showDataFolder') },
  );
  return { items, all: flatten(items), calls };
}

describe('buildMenuTemplate', () => {
  it('has the app menu first on macOS only', () => {
    expect(template('darwin').items[0]!.label).toBe('Looktwice');
    expect(template('linux').items[0]!.label).toBe('&File');
    expect(template('win32').items.some((item) => item.label === 'Looktwice')).toBe(false);
  });

  it.each(['darwin', 'linux', 'win32'] as const)('on %s: the usual roles and a way to quit', (platform) => {
    const roles = template(platform).all.map((item) => item.role).filter(Boolean);
    expect(roles).toEqual(expect.arrayContaining(['editMenu', 'windowMenu', 'zoomIn', 'zoomOut', 'resetZoom', 'togglefullscreen', 'quit']));
  });

  it('binds Add Folder to CmdOrCtrl+O and calls the actions', () => {
    const { all, calls } = template('linux');
    const addFolder = all.find((item) => item.id === 'add-folder')!;
    expect(addFolder.accelerator).toBe('CmdOrCtrl+O');
    for (const id of ['add-folder', 'rescan-folders', 'show-data-folder']) {
      const click = all.find((item) => item.id === id)!.click as () => void;
      click();
    }
    expect(calls).toEqual(['addFolder', 'rescanFolders', 'showDataFolder']);
  });

  it('gives every accelerator to one item only', () => {
    const accelerators = template('linux').all.map((item) => item.accelerator).filter(Boolean);
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it('offers reload and developer tools only in development', () => {
    expect(template('linux', false).all.some((item) => item.role === 'toggleDevTools' || item.role === 'reload')).toBe(false);
    expect(template('linux', true).all.map((item) => item.role)).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
  });
});
