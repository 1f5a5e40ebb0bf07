/**
 * Errors the API answers with: a code from the contract and a message in words a user
 * understands. Transports send `{ code, message }`; anything else thrown inside becomes
 * 'failed' with its message.
 */
import type { ApiErrorCode, ApiErrorPayload } from './contract.ts';

export class ApiError extends Error {
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
  }

  toPayload(): ApiErrorPayload {
    return { code: this.code, message: this.message };
  }
}

/** A feature whose engine part has not landed in this build. */
export function notAvailable(feature: string): ApiError {
  return new ApiError('not_available', `${feature} is not available yet in this version of Looktwice.`);
}

export function invalid(message: string): ApiError {
  return new ApiError('invalid', message);
}

export function notFound(message: string): ApiError {
  return new ApiError('not_found', message);
}

/** Turns anything thrown into the payload a transport sends. */
export function toErrorPayload(error: unknown): ApiErrorPayload {
  if (error instanceof ApiError) return error.toPayload();
  if (error instanceof Error && error.name === 'CancelledError') return { code: 'cancelled', message: 'The operation was cancelled.' };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'failed', message: message || 'Something went wrong.' };
}

/**
 * An engine error (plain Error with a CLI-flavoured message) as an API error: already-API
 * errors and cancellations pass through; command-line instructions become screen names.
 */
export function fromEngine(error: unknown): Error {
  if (error instanceof ApiError) return error;
  if (error instanceof Error && error.name === 'CancelledError') return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw
    .replace(/run `looktwice train` and `looktwice embed` first/g, 'train a model and compute embeddings on the Train screen first')
    .replace(/with `looktwice label <class> <path…>`/g, 'on the Label screen')
    .replace(/, or pass --force to replace it/g, ', or allow replacing it')
    .replace(/it needs --mode copy \(not (\w+)\)/g, 'it needs copied files (not $1)')
    .replace(/`looktwice ([a-z]+)[^`]*`/g, (_match, command: string) => `the ${command} step`);
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return new ApiError('failed', /[.!?]$/.test(sentence) ? sentence : `${sentence}.`);
}
