/**
 * The engine side of the message protocol: runs the calls main sends against the service,
 * forwards the service's events, and on `stop` cancels every running job and waits for it to
 * settle (so training writes its checkpoint) before answering `stopped`. Transport-free: it
 * receives raw messages and posts replies through a function, so it is tested directly and
 * served over a utilityProcess parentPort or a Node IPC channel by serve.ts.
 */
import { toWireError, type WireError } from '../channels.ts';
import { parseHostMessage, type EngineMessage } from './messages.ts';

/** Internal (main-only) methods live under this prefix so they can never shadow a contract method. */
export const INTERNAL_PREFIX = 'internal:';

/** What the engine process runs. */
export interface EngineService {
  /** The contract implementation; only `methods` of it are callable. */
  api: object;
  methods: readonly string[];
  /** Methods only main may call (e.g. media lookups for the protocol handler), without the prefix. */
  internal: Record<string, (...args: never[]) => unknown>;
  /** Subscribes to every event of the service. */
  onAnyEvent(listener: (name: string, payload: unknown) => void): () => void;
  /** Cancels every running job and resolves with their ids once all have settled. */
  stopAll(): Promise<string[]>;
  /** Releases the library (closes the database). */
  close(): void;
}

export interface RuntimeOptions {
  /** Maps a thrown error to what crosses the wire (default keeps name, message and `code`). */
  toWire?: (error: unknown) => WireError;
  /** Reports protocol problems (malformed messages); default console.error. */
  warn?: (message: string) => void;
}

export class EngineRuntime {
  private stopping: Promise<string[]> | null = null;
  private readonly unsubscribe: () => void;
  private readonly methods: Set<string>;
  private readonly toWire: (error: unknown) => WireError;
  private readonly warn: (message: string) => void;

  constructor(private readonly service: EngineService, private readonly post: (message: EngineMessage) => void, options: RuntimeOptions = {}) {
    this.methods = new Set(service.methods);
    this.toWire = options.toWire ?? toWireError;
    this.warn = options.warn ?? ((message) => console.error(message));
    this.unsubscribe = service.onAnyEvent((name, payload) => this.post({ type: 'event', name, payload }));
  }

  /** Tells main the engine is ready for calls. */
  announceReady(): void {
    this.post({ type: 'ready' });
  }

  /** Handles one raw message from main. Resolves when it has been answered. */
  async receive(raw: unknown): Promise<void> {
    const message = parseHostMessage(raw);
    if (message === null) {
      this.warn(`engine: ignored a malformed message: ${safeDescribe(raw)}`);
      return;
    }
    if (message.type === 'stop') {
      const cancelledJobs = await this.stop();
      this.post({ type: 'stopped', cancelledJobs });
      return;
    }
    const { id, method, args } = message;
    if (this.stopping !== null) {
      this.post({ type: 'result', id, result: { ok: false, error: { name: 'Error', code: 'busy', message: 'Looktwice is closing.' } } });
      return;
    }
    const fn = this.lookup(method);
    if (fn === null) {
      this.post({ type: 'result', id, result: { ok: false, error: { name: 'Error', code: 'invalid', message: `unknown method "${method}"` } } });
      return;
    }
    try {
      const value: unknown = await fn(...args);
      this.post({ type: 'result', id, result: { ok: true, value } });
    } catch (error) {
      this.post({ type: 'result', id, result: { ok: false, error: this.toWire(error) } });
    }
  }

  /** Cancels running jobs once (later calls share the same wait), then stops forwarding events. */
  stop(): Promise<string[]> {
    this.stopping ??= this.service.stopAll().finally(() => this.unsubscribe());
    return this.stopping;
  }

  private lookup(method: string): ((...args: unknown[]) => unknown) | null {
    if (method.startsWith(INTERNAL_PREFIX)) {
      const name = method.slice(INTERNAL_PREFIX.length);
      if (!Object.hasOwn(this.service.internal, name)) return null;
      const fn = this.service.internal[name];
      return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown) : null;
    }
    if (!this.methods.has(method)) return null;
    const fn: unknown = (this.service.api as Record<string, unknown>)[method];
    return typeof fn === 'function' ? (...args: unknown[]) => (fn as (...a: unknown[]) => unknown).apply(this.service.api, args) : null;
  }
}

function safeDescribe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
