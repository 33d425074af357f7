import { ERRORS, rpcError, type ErrorData, type ErrorType, type RpcErrorObject } from '@tasks/contracts';

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

/** Driver errors that mean "MongoDB is unreachable", as opposed to a bad query. */
export function isMongoUnavailable(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return (
    typeof name === 'string' &&
    [
      'MongoServerSelectionError',
      'MongoNetworkError',
      'MongoNetworkTimeoutError',
      'MongoNotConnectedError',
      'MongoTopologyClosedError',
      'PoolClearedError',
    ].includes(name)
  );
}

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 11000;
}
