/**
 * Errors the API answers with: a code from the contract and a message in words a user
 * understands. Transports send `{ code, message }`; anything else thrown inside becomes
 * 'failed' with its message.
 */
import type { ApiErrorPayload } from './contract.ts';
import { AppError } from '../common/errors.ts';

/** The API's error is the use cases' error: one class, so a code set below reaches the client unchanged. */
export { AppError as ApiError, invalid, notFound, busy } from '../common/errors.ts';

/** A feature whose engine part has not landed in this build. */
export function notAvailable(feature: string): AppError {
  return new AppError('not_available', `${feature} is not available yet in this version of Looktwice.`);
}

/** Turns anything thrown into the payload a transport sends. */
export function toErrorPayload(error: unknown): ApiErrorPayload {
  if (error instanceof AppError) return error.toPayload();
  if (error instanceof Error && error.name === 'CancelledError') return { code: 'cancelled', message: 'The operation was cancelled.' };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'failed', message: message || 'Something went wrong.' };
}

/** Command-line instructions in a message become the screens and steps of the app. */
function forTheApp(raw: string): string {
  const message = raw
    .replace(/run `looktwice train` and `looktwice embed` first/g, 'train a model and compute embeddings on the Train screen first')
    .replace(/run `looktwice train` first/g, 'train one on the Train screen first')
    .replace(/with `looktwice label <class> <path…>`/g, 'on the Label screen')
    .replace(/, or pass --force to replace it/g, ', or allow replacing it')
    .replace(/it needs --mode copy \(not (\w+)\)/g, 'it needs copied files (not $1)')
    .replace(/ \(see `looktwice classes`\)/g, '')
    .replace(/`looktwice ([a-z]+)[^`]*`/g, (_match, command: string) => `the ${command} step`);
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/**
 * Anything thrown below the API as an API error: codes and cancellations pass through, plain
 * engine errors become 'failed'; command-line instructions in either become screen names.
 */
export function fromEngine(error: unknown): Error {
  if (error instanceof Error && error.name === 'CancelledError') return error;
  if (error instanceof AppError) return /`looktwice /.test(error.message) ? new AppError(error.code, forTheApp(error.message)) : error;
  return new AppError('failed', forTheApp(error instanceof Error ? error.message : String(error)));
}
