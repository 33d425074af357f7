import { ERRORS, rpcError, type ErrorData, type ErrorType, type RpcErrorObject } from '@tasks/contracts';
import { isTransientDatabaseError } from './database-errors.js';

/** An application error with a stable type from the contracts error table. */
export class AppError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string = ERRORS[type].title,
    readonly data: Omit<ErrorData, 'type'> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  toRpc(): RpcErrorObject {
    return rpcError(this.type, this.message, this.data);
  }
}

export function isAppError(err: unknown): err is AppError {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AppError';
}

/**
 * Errors that mean "the database cannot serve this call now" (DEPENDENCY_UNAVAILABLE, retryable),
 * as opposed to a bad query or a refused document (database-errors.ts says how they are told apart).
 */
export function isMongoUnavailable(err: unknown): boolean {
  return isTransientDatabaseError(err);
}

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 11000;
}
