/**
 * The jayson server: validates params against the contracts schemas, runs the handler, and
 * turns every failure into a JSON-RPC error object from the contracts error table.
 */
import jayson from 'jayson';
import {
  ajvFieldErrors,
  createAjv,
  METHODS,
  PARAM_SCHEMAS,
  rpcError,
  type MethodName,
  type RpcErrorObject,
  type ValidateFunction,
} from '@tasks/contracts';
import { contextOfTraceparent, failSpan, rpcAttributes, SpanKind, withSpan } from '@tasks/telemetry';
import type { Logger } from 'pino';
import { AppError, isAppError, isMongoUnavailable } from '../app-error.js';
import type { Metrics } from '../metrics.js';
import type { CallInfo, Handlers } from './handlers.js';
import { mayCall, type Caller } from './method-rights.js';

/** jayson passes a plain {code, message, data} object through as the response's error member. */
type ContextMethod = (
  params: unknown,
  ctx: object,
  callback: (error: RpcErrorObject | null, result?: unknown) => void,
) => void;

export interface CallContext {
  log: Logger;
  caller: Caller;
  /** The traceparent each call of the request came with, found by its params object (http-server.ts). */
  traceparents?: WeakMap<object, string>;
  /** A batch: each call's span hangs under its own caller, not under the request's. */
  batch?: boolean;
}

const ajv = createAjv({ strict: true });
const validators = Object.fromEntries(
  Object.entries(PARAM_SCHEMAS).map(([m, schema]) => [m, ajv.compile(schema)]),
) as Record<MethodName, ValidateFunction>;

export function toRpcError(err: unknown, log: Logger, method: string): RpcErrorObject {
  if (isAppError(err)) {
    // Refusals (conflicts, validation, unknown ids) are the caller's business: info, not error.
    log.info({ method, type: err.type }, 'rpc call refused');
    return err.toRpc();
  }
  if (isMongoUnavailable(err)) {
    log.error({ err, method }, 'mongodb unavailable');
    return rpcError('DEPENDENCY_UNAVAILABLE', 'the task database is unreachable');
  }
  log.error({ err, method }, 'rpc method failed');
  return rpcError('INTERNAL', 'internal error');
}

export function createRpcServer(h: Handlers, metrics: Metrics): jayson.Server {
  const methods: Record<string, jayson.Method> = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    const validate = validators[name];
    const handler = h[name] as (p: unknown, call: CallInfo) => Promise<unknown>;
    const run = async (params: unknown, caller: Caller, call: CallInfo): Promise<unknown> => {
      if (!mayCall(caller, name)) {
        throw new AppError('UNAUTHORIZED', `${name} needs an executor token (EXECUTOR_TOKEN)`);
      }
      const p = params ?? {};
      if (Array.isArray(p)) {
        throw new AppError('VALIDATION_FAILED', 'params must be an object (by name)', {
          fields: [{ path: '/', message: 'must be object' }],
        });
      }
      if (!validate(p)) {
        throw new AppError('VALIDATION_FAILED', `invalid params for ${name}`, {
          fields: ajvFieldErrors(validate.errors),
        });
      }
      return handler(p, call);
    };
    const method: ContextMethod = (params, ctx, callback) => {
      const { log, caller, traceparents, batch } = ctx as CallContext;
      metrics.rpcRequests.inc({ kind: 'call', method: name });
      const stop = metrics.rpcDuration.startTimer({ method: name });
      const traceparent =
        typeof params === 'object' && params !== null ? traceparents?.get(params) : undefined;
      // A call of a batch hangs under its own caller's span; a lone call under the HTTP request's.
      const parent = batch ? contextOfTraceparent(traceparent) : undefined;
      withSpan(name, { kind: SpanKind.SERVER, attributes: rpcAttributes(name), parent }, async (span) => {
        try {
          return await run(params, caller, traceparent === undefined ? {} : { traceparent });
        } catch (err) {
          // A refusal is the caller's business; the span still says which error type it was.
          span?.setAttribute('rpc.jsonrpc.error_type', isAppError(err) ? err.type : 'INTERNAL');
          if (!isAppError(err)) failSpan(span, err);
          throw err;
        }
      }).then(
        (result) => {
          const seconds = stop();
          metrics.rpcCalls.inc({ method: name, outcome: 'ok' });
          log.debug({ method: name, ms: Math.round(seconds * 1000) }, 'rpc call');
          callback(null, result);
        },
        (err: unknown) => {
          stop();
          const rpcErr = toRpcError(err, log, name);
          metrics.rpcCalls.inc({ method: name, outcome: rpcErr.data?.type ?? String(rpcErr.code) });
          callback(rpcErr);
        },
      );
    };
    methods[name] = new jayson.Method(method, { useContext: true });
  }
  return new jayson.Server(methods, { useContext: true, version: 2 });
}
