import { expect } from 'chai';
import {
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';
import { pino } from 'pino';
import { AppError } from '../../src/app-error.js';
import { isTransientDatabaseError } from '../../src/database-errors.js';
import { toRpcError } from '../../src/rpc/rpc-server.js';

const log = pino({ level: 'silent' });

/** The driver's PoolClearedError is not exported; this one is built the way the driver builds it. */
class PoolClearedError extends MongoNetworkError {
  override get name(): string {
    return 'MongoPoolClearedError';
  }
}

const serverError = (fields: Record<string, unknown>) =>
  new MongoServerError({ ok: 0, errmsg: 'from the server', ...fields });

/** What FerretDB 1.24 answered while its PostgreSQL restarted or had its backends killed (measured). */
const ferretDb = (message: string) => serverError({ code: 1, codeName: 'InternalError', errmsg: message });

/** The topology description a failed server selection carries: no server known. */
const noServer = { type: 'Unknown', servers: new Map(), error: null };

const passing: Record<string, unknown> = {
  'a network error': new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'),
  'a network timeout': new MongoNetworkTimeoutError('connection timed out'),
  'a cleared pool': new PoolClearedError('Connection pool for 127.0.0.1:27017 was cleared'),
  'a failed server selection': new MongoServerSelectionError(
    'Server selection timed out after 30000 ms',
    noServer as unknown as ConstructorParameters<typeof MongoServerSelectionError>[1],
  ),
  'a client-side operation timeout': new MongoOperationTimeoutError('Timed out during server selection'),
  'a client not connected': new MongoNotConnectedError('Client must be connected before running operations'),
  'a closed topology': new MongoTopologyClosedError(),
  'RetryableWriteError label': serverError({ code: 12345, errorLabels: ['RetryableWriteError'] }),
  'TransientTransactionError label': serverError({ code: 251, errorLabels: ['TransientTransactionError'] }),
  'ResetPool label': serverError({ code: 4, errorLabels: ['ResetPool'] }),
  NotWritablePrimary: serverError({ code: 10107, codeName: 'NotWritablePrimary' }),
  InterruptedAtShutdown: serverError({ code: 11600, codeName: 'InterruptedAtShutdown' }),
  PrimarySteppedDown: serverError({ code: 189, codeName: 'PrimarySteppedDown' }),
  ShutdownInProgress: serverError({ code: 91, codeName: 'ShutdownInProgress' }),
  HostUnreachable: serverError({ code: 6, codeName: 'HostUnreachable' }),
  InterruptedDueToReplStateChange: serverError({ code: 11602 }),
  'a write concern timeout': new MongoWriteConcernError({
    ok: 1,
    writeConcernError: {
      code: 64,
      codeName: 'WriteConcernTimeout',
      errmsg: 'waiting for replication timed out',
    },
  }),
  'a plain socket error': Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), {
    code: 'ECONNREFUSED',
  }),
  'FerretDB, its PostgreSQL backend killed': ferretDb(
    '[msg_insert.go:168 handler.(*Handler).MsgInsert] FATAL: terminating connection due to administrator command (SQLSTATE 57P01)',
  ),
  'FerretDB, its PostgreSQL down': ferretDb(
    '[msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:109 postgresql.(*collection).Query] failed to connect to `user=postgres database=postgres`:\n\t127.0.0.1:42483 (127.0.0.1): dial error: dial tcp 127.0.0.1:42483: connect: connection refused',
  ),
  'FerretDB, its PostgreSQL starting up': ferretDb(
    'FATAL: the database system is starting up (SQLSTATE 57P03)',
  ),
  'FerretDB, its PostgreSQL connection dropped mid-query': ferretDb(
    '[query_iterator.go:92 postgresql.(*queryIterator).Next] unexpected EOF',
  ),
  'a passing error as the cause of another': Object.assign(new Error('wrapped'), {
    cause: new MongoNetworkError('socket hang up'),
  }),
};

const lasting: Record<string, unknown> = {
  'a duplicate key': serverError({ code: 11000, codeName: 'DuplicateKey', keyValue: { _id: 'x' } }),
  'a bad query': serverError({ code: 2, codeName: 'BadValue', errmsg: 'unknown operator: $foo' }),
  'a failed document validation': serverError({ code: 121, codeName: 'DocumentValidationFailure' }),
  'an unauthorised user': serverError({ code: 13, codeName: 'Unauthorized' }),
  'FerretDB, a statement PostgreSQL refuses': ferretDb(
    'ERROR: value too long for type character varying(10) (SQLSTATE 22001)',
  ),
  'an unsatisfiable write concern': new MongoWriteConcernError({
    ok: 1,
    writeConcernError: { code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'not enough nodes' },
  }),
  'a programming error': new TypeError("Cannot read properties of undefined (reading 'status')"),
  'a string': 'boom',
  null: null,
};

describe('database error classification', () => {
  for (const [what, err] of Object.entries(passing)) {
    it(`when the database answers ${what}, then it is transient and the call answers DEPENDENCY_UNAVAILABLE`, () => {
      expect(isTransientDatabaseError(err)).to.equal(true);
      const rpc = toRpcError(err, log, 'tasks.claim');
      expect(rpc.data?.type).to.equal('DEPENDENCY_UNAVAILABLE');
    });
  }

  for (const [what, err] of Object.entries(lasting)) {
    it(`when the database answers ${what}, then it is not transient and the call answers INTERNAL`, () => {
      expect(isTransientDatabaseError(err)).to.equal(false);
      expect(toRpcError(err, log, 'tasks.claim').data?.type).to.equal('INTERNAL');
    });
  }

  it('when a refusal of ours fails a call, then its own type is kept', () => {
    const rpc = toRpcError(new AppError('LEASE_LOST', 'not yours'), log, 'tasks.complete');
    expect(rpc.data?.type).to.equal('LEASE_LOST');
  });
});
