/**
 * Builds the object the preload exposes as `window.looktwice`: one function per contract method
 * (invoking `looktwice:<method>` and unwrapping the InvokeResult), one `onX(listener)` per event
 * (returning an unsubscribe function), and the URL builders for thumbnails and images. Generic
 * over the method and event lists so it runs — and is tested — in plain Node; the preload
 * supplies the transport (ipcRenderer) and the real lists from core/api/contract.ts.
 */
import { APP_HOST, APP_SCHEME, invokeChannel, type InvokeResult } from './channels.ts';

/** What the bridge needs from ipcRenderer. */
export interface BridgeTransport {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  /** Subscribes once to the event channel; every event arrives as (name, payload). */
  onEvent(listener: (name: string, payload: unknown) => void): void;
}

/** 'progress' → 'onProgress'. */
export function subscriptionName(event: string): string {
  return `on${event.charAt(0).toUpperCase()}${event.slice(1)}`;
}

/** Content hashes are lowercase hex (same rule as the contract's CONTENT_HASH_PATTERN). */
const HASH = /^[0-9a-f]+$/;

/** `looktwice://app/thumbnails/<hash>` — served by electron/protocol.ts. */
export function thumbnailUrl(hash: string): string {
  if (!HASH.test(hash)) throw new Error(`not a content hash: "${hash}"`);
  return `${APP_SCHEME}://${APP_HOST}/thumbnails/${hash}`;
}

/** `looktwice://app/images/<hash>` — the full image, served by electron/protocol.ts. */
export function imageUrl(hash: string): string {
  if (!HASH.test(hash)) throw new Error(`not a content hash: "${hash}"`);
  return `${APP_SCHEME}://${APP_HOST}/images/${hash}`;
}

/**
 * Turns an InvokeResult back into a value or a thrown Error. contextBridge keeps only the
 * message of an Error crossing into the page, so the message must already say everything.
 */
export function unwrapResult(channel: string, result: unknown): unknown {
  if (typeof result !== 'object' || result === null || !('ok' in result)) {
    throw new Error(`unexpected reply on ${channel}`);
  }
  const reply = result as InvokeResult;
  if (reply.ok) return reply.value;
  const error = new Error(reply.error.message);
  error.name = reply.error.name;
  if (reply.error.code !== undefined) Object.assign(error, { code: reply.error.code });
  throw error;
}

type Listener = (payload: unknown) => void;

/**
 * The bridge object: plain functions only (contextBridge copies it once and proxies the
 * functions). Listeners registered through `onX` are called synchronously in subscription order;
 * one listener throwing does not stop the others.
 */
export function buildBridge(
  methods: readonly string[],
  events: readonly string[],
  transport: BridgeTransport,
): Record<string, (...args: never[]) => unknown> {
  const listeners = new Map<string, Set<Listener>>(events.map((name) => [name, new Set<Listener>()]));
  transport.onEvent((name, payload) => {
    for (const listener of [...(listeners.get(name) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`looktwice: a listener of "${name}" threw`, error);
      }
    }
  });

  const bridge: Record<string, (...args: never[]) => unknown> = {};
  for (const method of methods) {
    const channel = invokeChannel(method);
    bridge[method] = async (...args: unknown[]) => unwrapResult(channel, await transport.invoke(channel, ...args));
  }
  for (const event of events) {
    const set = listeners.get(event)!;
    bridge[subscriptionName(event)] = (listener: Listener) => {
      if (typeof listener !== 'function') throw new TypeError(`${subscriptionName(event)} needs a function`);
      // A fresh wrapper per subscription, so subscribing the same function twice gives two
      // independent subscriptions and each unsubscribe removes only its own.
      const entry: Listener = (payload) => listener(payload);
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    };
  }
  bridge.thumbnailUrl = thumbnailUrl;
  bridge.imageUrl = imageUrl;
  return bridge;
}
