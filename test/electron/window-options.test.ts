// The main window's security settings, its Content-Security-Policy and the navigation rules.
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, externalUrl, isNavigationAllowed, isPermissionAllowed, mainWindowOptions } from '../../electron/window-options.ts';

/** The CSP as directive → sources. */
function parseCsp(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));
}

describe('mainWindowOptions', () => {
  const options = mainWindowOptions({ preloadPath: '/app/dist-electron/preload.cjs', devTools: false });

  it('isolates the page: sandbox, context isolation, no Node anywhere, web security on', () => {
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist-electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      devTools: false,
    });
  });

  it('starts hidden (shown when ready) and allows developer tools only when asked', () => {
    expect(options.show).toBe(false);
    expect(mainWindowOptions({ preloadPath: '/p', devTools: true }).webPreferences?.devTools).toBe(true);
  });
});

describe('CONTENT_SECURITY_POLICY', () => {
  const csp = parseCsp(CONTENT_SECURITY_POLICY);

  it('denies by default and allows scripts only from the app itself, without eval or inline code', () => {
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    for (const sources of csp.values()) {
      expect(sources).not.toContain("'unsafe-eval'");
      expect(sources).not.toContain('*');
      expect(sources.some((source) => /^https?:/.test(source))).toBe(false);
    }
  });

  it('forbids plugins, frames, base rewriting and form posts', () => {
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('frame-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'none'"]);
  });

  it('lets the page reach only itself (thumbnails live under looktwice://app/thumbnails/)', () => {
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
  });
});

describe('navigation rules', () => {
  it.each([
    ['looktwice://app/index.html', true],
    ['looktwice://app/index.html#/map', true],
    ['looktwice://evil/index.html', false],
    ['https://example.com/', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['', false],
  ])('%s may be navigated to: %s', (url, allowed) => {
    expect(isNavigationAllowed(url)).toBe(allowed);
  });

  it.each([
    ['https://github.com/looktwice', 'https://github.com/looktwice'],
    ['http://example.com/', null],
    ['https://user:pw@example.com/', null],
    ['file:///etc/passwd', null],
    ['javascript:alert(1)', null],
    ['looktwice://app/index.html', null],
    ['not a url', null],
  ])('%s opens in the browser as %s', (url, expected) => {
    expect(externalUrl(url)).toBe(expected);
  });
});

describe('isPermissionAllowed', () => {
  it('grants clipboard writes only', () => {
    expect(isPermissionAllowed('clipboard-sanitized-write')).toBe(true);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'midiSysex', 'hid', 'serial', 'usb', 'openExternal', 'fullscreen', 'unknown']) {
      expect(isPermissionAllowed(permission), permission).toBe(false);
    }
  });
});
