/**
 * The main-process side of the engine protocol: starts calls, matches replies by id, forwards
 * events, and stops the engine cleanly (cancel jobs → checkpoint → `stopped` → exit) with a
 * deadline after which it is killed. Talks to the process through an EnginePort, with adapters
 * for Electron's utilityProcess and for Node's child_process (used by the tests).
 */
import type { ChildProcess } from 'node:child_process';
import type { UtilityProcess } from 'electron';
import type { InvokeResult } from '../channels.ts';
import { unwrapResult } from '../bridge.ts';
import { INTERNAL_PREFIX } from './runtime.ts';
import { parseEngineMessage, type HostMessage } from './messages.ts';

/** A process that speaks the engine protocol. */
export interface EnginePort {
  send(message: HostMessage): void;
  onMessage(listener: (raw: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

/** EnginePort over an Electron utilityProcess. */
export function utilityProcessPort(child: UtilityProcess): EnginePort {
  return {
    send: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', listener),
    kill: () => void child.kill(),
  };
}

/** EnginePort over a Node child process forked with an IPC channel. */
export function childProcessPort(child: ChildProcess): EnginePort {
  return {
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', (code) => listener(code)),
    kill: () => void child.kill(),
  };
}

export interface EngineHostOptions {
  onEvent(name: string, payload: unknown): void;
  /**
   * The engine exited without being asked to. `wasReady` is false when it never started (e.g. the
   * library could not be opened — `fatal` came first): restarting would only fail again.
   */
  onUnexpectedExit?(code: number | null, wasReady: boolean): void;
  /** The engine reported an error it cannot recover from (sent just before it exits). */
  onFatal?(message: string): void;
  warn?(message: string): void;
}

export interface StopOutcome {
  /** True when the engine confirmed that every job settled before it exited. */
  clean: boolean;
  cancelledJobs: string[];
}

export class EngineHost {
  /** Resolves when the engine said `ready`; rejects if it exits first. */
  readonly ready: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, (result: InvokeResult) => void>();
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<number | null>;
  private stopping = false;
  private wasReady = false;
  private onStopped: ((jobs: string[]) => void) | null = null;

  constructor(private readonly port: EnginePort, private readonly options: EngineHostOptions) {
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // Nobody may be awaiting `ready` when the engine dies early; the rejection is still reported via onUnexpectedExit.
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) => {
      port.onExit((code) => {
        this.exitCode = code;
        failReady(new Error(`the engine process exited (code ${code}) before it was ready`));
        for (const [, settle] of this.pending) {
          settle({ ok: false, error: { name: 'Error', code: 'failed', message: 'The Looktwice engine stopped unexpectedly; please try again.' } });
        }
        this.pending.clear();
        if (!this.stopping) this.options.onUnexpectedExit?.(code, this.wasReady);
        resolve(code);
      });
    });
    port.onMessage((raw) => {
      const message = parseEngineMessage(raw);
      if (message === null) {
        (options.warn ?? console.error)('engine host: ignored a malformed message from the engine');
        return;
      }
      switch (message.type) {
        case 'ready':
          this.wasReady = true;
          markReady();
          break;
        case 'result': {
          const settle = this.pending.get(message.id);
          this.pending.delete(message.id);
          settle?.(message.result);
          break;
        }
        case 'event':
          this.options.onEvent(message.name, message.payload);
          break;
        case 'stopped':
          this.onStopped?.(message.cancelledJobs);
          break;
        case 'fatal':
          (options.warn ?? console.error)(`engine: ${message.error.message}`);
          options.onFatal?.(message.error.message);
          break;
      }
    });
  }

  /** Whether the engine process is still running. */
  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Calls a method in the engine. Never rejects: failures come back as `ok: false`. */
  call(method: string, args: unknown[]): Promise<InvokeResult> {
    if (!this.alive) {
      return Promise.resolve({ ok: false, error: { name: 'Error', code: 'failed', message: 'The Looktwice engine is not running.' } });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.port.send({ type: 'call', id, method, args });
    });
  }

  /** Calls a main-only method of the engine (see EngineService.internal); throws on failure. */
  async callInternal(name: string, args: unknown[]): Promise<unknown> {
    const channel = INTERNAL_PREFIX + name;
    return unwrapResult(channel, await this.call(channel, args));
  }

  /**
   * Stops the engine: asks it to cancel its jobs (training saves a checkpoint), waits for
   * `stopped` up to `timeoutMs`, then ends the process. `clean` is false when the deadline
   * passed first (the process is killed; a checkpoint from the last interval remains).
   */
  async stop(reason: string, timeoutMs: number): Promise<StopOutcome> {
    if (!this.alive) return { clean: true, cancelledJobs: [] };
    this.stopping = true;
    const confirmed = new Promise<string[]>((resolve) => {
      this.onStopped = resolve;
    });
    this.port.send({ type: 'stop', reason });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    let outcome = await Promise.race([confirmed, deadline, this.exited.then(() => null)]);
    clearTimeout(timer);
    // The exit can be seen a moment before the last message is read: give `stopped` a beat.
    if (outcome === null && !this.alive) outcome = await Promise.race([confirmed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 200))]);
    this.port.kill();
    await this.exited;
    return outcome === null ? { clean: false, cancelledJobs: [] } : { clean: true, cancelledJobs: outcome };
  }
}

/**
 * An object with every listed method that forwards to the engine and returns its value or
 * throws its error (name, message and `code` kept) — what main registers on IPC.
 */
export function remoteApi(methods: readonly string[], host: Pick<EngineHost, 'call'>): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of methods) {
    api[method] = async (...args: unknown[]) => unwrapResult(method, await host.call(method, args));
  }
  return api;
}
