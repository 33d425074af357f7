/**
 * Which database errors can pass (the caller should try again later) and which cannot (a bad
 * query, a refused document): classified by what the driver and the server say they mean — the
 * driver's error family, the server's error labels and codes, and for FerretDB the PostgreSQL
 * condition it passes on — never by `instanceof`, since errors cross package copies.
 * docs/reliability.md lists the cases.
 */

/** Driver error families (a class and everything derived from it) that mean "no usable connection now". */
const PASSING_FAMILIES = new Set([
  'MongoNetworkError', // includes timeouts and pool-cleared errors
  'MongoServerSelectionError',
  'MongoOperationTimeoutError',
  'MongoStalePrimaryError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
  // The client is closing or not connected yet (a store shutting down): another replica can answer.
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'MongoServerClosedError',
]);

/** Labels a server or the driver puts on an error that a retry may cure. */
const PASSING_LABELS = new Set([
  'RetryableWriteError',
  'TransientTransactionError',
  'ResetPool',
  'PoolRequestedRetry',
  'InterruptInUseConnections',
  'RetryableError',
  'SystemOverloadedError',
]);

/**
 * Server codes of the "not primary / node is recovering / shutting down / network" family (the
 * retryable-reads and retryable-writes specifications) and write-concern timeouts.
 */
const PASSING_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  64, // WriteConcernTimeout (WriteConcernFailed before 8.1)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Node's socket errors, should one reach us unwrapped. */
const PASSING_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * FerretDB 1.x answers InternalError (code 1) with PostgreSQL's own error at the end of the
 * message. These mean the connection between FerretDB and PostgreSQL failed, not the statement:
 * SQLSTATE class 08 (connection exception), 57P01–57P05 (admin/crash shutdown, cannot connect
 * now, idle timeouts), 53300 (too many connections), and pgx's words for a dropped connection.
 */
const FERRETDB_BACKEND_DOWN =
  /\(SQLSTATE (08[0-9A-Z]{3}|57P0[1-5]|53300)\)|failed to connect to|conn closed|unexpected EOF|connection reset by peer|broken pipe|dial tcp|i\/o timeout/;
const INTERNAL_ERROR = 1;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  errorLabels?: unknown;
  writeConcernError?: { code?: unknown };
  result?: { writeConcernError?: { code?: unknown } };
  cause?: unknown;
}

/** The error's name and its classes' names, most derived first (a PoolClearedError is a MongoNetworkError). */
function familyOf(err: object): string[] {
  const names: string[] = [];
  const own = (err as ErrorLike).name;
  if (typeof own === 'string') names.push(own);
  for (let proto: unknown = Object.getPrototypeOf(err); proto; proto = Object.getPrototypeOf(proto)) {
    const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
    if (typeof ctor?.name === 'string') names.push(ctor.name);
  }
  return names;
}

function labelsOf(err: ErrorLike): string[] {
  return Array.isArray(err.errorLabels) ? err.errorLabels.filter((l) => typeof l === 'string') : [];
}

/** True when the error means the database could not serve the call now, and a later try may succeed. */
export function isTransientDatabaseError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as ErrorLike;
  if (familyOf(err).some((n) => PASSING_FAMILIES.has(n))) return true;
  if (labelsOf(e).some((l) => PASSING_LABELS.has(l))) return true;
  if (typeof e.code === 'number' && PASSING_CODES.has(e.code)) return true;
  if (typeof e.code === 'string' && PASSING_SYSCALL_CODES.has(e.code)) return true;
  const wce = e.writeConcernError?.code ?? e.result?.writeConcernError?.code;
  if (typeof wce === 'number' && PASSING_CODES.has(wce)) return true;
  if (e.code === INTERNAL_ERROR && typeof e.message === 'string' && FERRETDB_BACKEND_DOWN.test(e.message))
    return true;
  return isTransientDatabaseError(e.cause, depth + 1);
}
