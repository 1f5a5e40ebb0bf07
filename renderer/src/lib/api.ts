/**
 * The renderer's one API client. Inside Electron the preload exposes `window.looktwice` (IPC);
 * in browser mode (`looktwice serve`) the same interface is built on HTTP POST + Server-Sent
 * Events. Its type is the contract's — written once in core/api/contract.ts, never here.
 */
import type {
  ApiErrorCode,
  ApiEventListener,
  ApiEventName,
  LooktwiceApi,
  LooktwiceBridge,
  LooktwiceEventMap,
  WIRE_FLOAT32_KEY,
} from '../../../core/api/contract.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    looktwice?: LooktwiceBridge;
    /** Desktop-only helpers outside the contract (electron/desktop-shell.ts), feature-detected. */
    looktwiceDesktop?: { pickFolders(): Promise<string[]> };
  }
}

/** The native folder picker in the desktop app; null in browser mode (type a path instead). */
export const pickFolders: (() => Promise<string[]>) | null =
  typeof window !== 'undefined' && window.looktwiceDesktop?.pickFolders ? () => window.looktwiceDesktop!.pickFolders() : null;

/** An API call that failed, with the contract's error code and a message for the user. */
export class ApiCallError extends Error {
  constructor(
    readonly code: ApiErrorCode | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** The wire tag of Float32Array (checked against the contract's constant by type). */
const FLOAT32_KEY: typeof WIRE_FLOAT32_KEY = '$float32';

const EVENT_NAMES: { [E in ApiEventName]: true } = { progress: true, job: true, trainMetrics: true, log: true, libraryChanged: true };

function revive(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const encoded = (value as Record<string, unknown>)[FLOAT32_KEY];
    if (typeof encoded === 'string' && Object.keys(value).length === 1) {
      const binary = atob(encoded);
      const bytes = new Uint8Array(binary.length - (binary.length % 4));
      for (let i = 0; i < bytes.length; i++) bytes[i] = binary.charCodeAt(i);
      return new Float32Array(bytes.buffer);
    }
  }
  return value;
}

type Listeners = { [E in ApiEventName]: Set<ApiEventListener<E>> };

/** What screens use: the methods, event subscription, and URLs for images by content hash. */
export interface Client {
  api: LooktwiceApi;
  mode: 'electron' | 'browser';
  on<E extends ApiEventName>(event: E, listener: ApiEventListener<E>): () => void;
  thumbnailUrl(hash: string): string;
  imageUrl(hash: string): string;
  /** Whether the event stream is connected (browser mode). */
  connected(): boolean;
}

function toCallError(error: unknown): ApiCallError {
  if (error instanceof ApiCallError) return error;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiCallError(typeof code === 'string' ? (code as ApiErrorCode) : 'failed', message);
}

function electronClient(bridge: LooktwiceBridge): Client {
  const api = new Proxy({} as LooktwiceApi, {
    get(_target, name: string) {
      const fn = (bridge as unknown as Record<string, (params?: unknown) => Promise<unknown>>)[name];
      if (typeof fn !== 'function') return undefined;
      return async (params?: unknown) => {
        try {
          return await fn(params);
        } catch (error) {
          throw toCallError(error);
        }
      };
    },
  });
  return {
    api,
    mode: 'electron',
    on(event, listener) {
      const name = `on${event[0]!.toUpperCase()}${event.slice(1)}` as keyof LooktwiceBridge;
      const subscribe = bridge[name] as unknown as (listener: (payload: unknown) => void) => () => void;
      return subscribe(listener as (payload: unknown) => void);
    },
    thumbnailUrl: (hash) => bridge.thumbnailUrl(hash),
    imageUrl: (hash) => bridge.imageUrl(hash),
    connected: () => true,
  };
}

function browserClient(): Client {
  const listeners = { progress: new Set(), job: new Set(), trainMetrics: new Set(), log: new Set(), libraryChanged: new Set() } as Listeners;
  let isConnected = false;

  // The token arrives in the page URL once; the server set an HttpOnly cookie with it, so the
  // address bar (and history) need not keep it.
  const url = new URL(window.location.href);
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }

  const source = new EventSource('api/events');
  source.onopen = () => {
    isConnected = true;
  };
  source.onerror = () => {
    isConnected = false;
  };
  for (const name of Object.keys(EVENT_NAMES) as ApiEventName[]) {
    source.addEventListener(name, (message) => {
      const payload = JSON.parse((message as MessageEvent<string>).data, revive) as LooktwiceEventMap[typeof name];
      for (const listener of listeners[name] as Set<(payload: unknown) => void>) listener(payload);
    });
  }

  async function call(method: string, params: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: params === undefined ? '' : JSON.stringify(params),
        credentials: 'same-origin',
      });
    } catch {
      throw new ApiCallError('network', 'Looktwice is not reachable. Is `looktwice serve` still running?');
    }
    const text = await response.text();
    let body: { result?: unknown; error?: { code: ApiErrorCode; message: string } };
    try {
      body = JSON.parse(text, revive) as typeof body;
    } catch {
      if (response.status === 401) throw new ApiCallError('invalid', 'This page lost its access token. Open the address printed by `looktwice serve` again.');
      throw new ApiCallError('failed', `Unexpected answer from the server (${response.status}).`);
    }
    if (body.error) throw new ApiCallError(body.error.code, body.error.message);
    return body.result;
  }

  const api = new Proxy({} as LooktwiceApi, {
    get(_target, name: string) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (params?: unknown) => call(name, params);
    },
  });

  return {
    api,
    mode: 'browser',
    on(event, listener) {
      const set = listeners[event] as Set<typeof listener>;
      set.add(listener);
      return () => set.delete(listener);
    },
    thumbnailUrl: (hash) => `thumbnails/${hash}`,
    imageUrl: (hash) => `images/${hash}`,
    connected: () => isConnected,
  };
}

/** The client for this window (created once). */
export const client: Client = typeof window !== 'undefined' && window.looktwice ? electronClient(window.looktwice) : browserClient();
export const api: LooktwiceApi = client.api;

/** A message for the user from anything thrown by a call. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiCallError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
