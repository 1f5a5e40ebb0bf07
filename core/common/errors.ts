/**
 * Errors with a code a user-facing front door can act on, thrown by the use cases (core/app)
 * and the service: the API sends `{ code, message }` (HTTP maps the code to a status), the CLI
 * prints the message. Messages are always in words a user understands.
 */
export const ERROR_CODES = ['invalid', 'not_found', 'not_available', 'busy', 'cancelled', 'failed'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
  }

  toPayload(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A parameter value the schemas refused (core/app/schemas.ts): the CLI shows it as a usage error. */
export class InvalidParamsError extends AppError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/** A request that cannot be done as asked (e.g. embedding with a failed run). */
export function invalid(message: string): AppError {
  return new AppError('invalid', message);
}

export function notFound(message: string): AppError {
  return new AppError('not_found', message);
}

export function busy(message: string): AppError {
  return new AppError('busy', message);
}
