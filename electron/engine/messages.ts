/**
 * The message protocol between the main process and the engine process (an Electron
 * utilityProcess, or a Node child process in tests). The engine process owns the library and
 * runs every contract method — including training and embedding — so no heavy work ever runs
 * in the main process and the window stays responsive.
 *
 *   main → engine: call {id, method, args} · stop {reason}
 *   engine → main: ready · result {id, result} · event {name, payload} · stopped {cancelledJobs}
 *                  · fatal {error}
 *
 * `stop` cancels every running job (training checkpoints at its next step, see core/ml/trainer)
 * and waits until they have settled; the engine then answers `stopped` and main may exit it.
 * Messages are structured-clone data; every incoming message is validated by a parser below,
 * which returns null for anything malformed rather than trusting its shape.
 */
import type { InvokeResult, WireError } from '../channels.ts';

export type HostMessage =
  | { type: 'call'; id: number; method: string; args: unknown[] }
  | { type: 'stop'; reason: string };

export type EngineMessage =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: InvokeResult }
  | { type: 'event'; name: string; payload: unknown }
  | { type: 'stopped'; cancelledJobs: string[] }
  | { type: 'fatal'; error: WireError };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWireError(value: unknown): value is WireError {
  return isRecord(value) && typeof value.name === 'string' && typeof value.message === 'string' &&
    (value.code === undefined || typeof value.code === 'string');
}

function isInvokeResult(value: unknown): value is InvokeResult {
  if (!isRecord(value)) return false;
  if (value.ok === true) return 'value' in value;
  return value.ok === false && isWireError(value.error);
}

/** A message for the engine, or null when `value` is not one. */
export function parseHostMessage(value: unknown): HostMessage | null {
  if (!isRecord(value)) return null;
  if (value.type === 'call') {
    if (!Number.isSafeInteger(value.id) || typeof value.method !== 'string' || !Array.isArray(value.args)) return null;
    return { type: 'call', id: value.id as number, method: value.method, args: value.args as unknown[] };
  }
  if (value.type === 'stop') return typeof value.reason === 'string' ? { type: 'stop', reason: value.reason } : null;
  return null;
}

/** A message from the engine, or null when `value` is not one. */
export function parseEngineMessage(value: unknown): EngineMessage | null {
  if (!isRecord(value)) return null;
  switch (value.type) {
    case 'ready':
      return { type: 'ready' };
    case 'result':
      if (!Number.isSafeInteger(value.id) || !isInvokeResult(value.result)) return null;
      return { type: 'result', id: value.id as number, result: value.result };
    case 'event':
      if (typeof value.name !== 'string' || !('payload' in value)) return null;
      return { type: 'event', name: value.name, payload: value.payload };
    case 'stopped':
      if (!Array.isArray(value.cancelledJobs) || !value.cancelledJobs.every((id) => typeof id === 'string')) return null;
      return { type: 'stopped', cancelledJobs: value.cancelledJobs as string[] };
    case 'fatal':
      return isWireError(value.error) ? { type: 'fatal', error: value.error } : null;
    default:
      return null;
  }
}
