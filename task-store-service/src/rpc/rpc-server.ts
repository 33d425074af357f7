/**
 * The jayson server: validates params against the contracts schemas, runs the handler, and
 * turns every failure into a JSON-RPC error object from the contracts error table.
 */
import jayson from 'jayson/promise/index.js';
import {
  createAjv,
  METHODS,
  PARAM_SCHEMAS,
  rpcError,
  type MethodName,
  type RpcErrorObject,
  type ValidateFunction,
} from '@tasks/contracts';
import type { Logger } from 'pino';
import { isAppError, isMongoUnavailable } from '../app-error.js';
import type { Metrics } from '../metrics.js';
import { ajvFieldErrors } from '../store/task-type-registry.js';
import type { Handlers } from './handlers.js';

export interface CallContext {
  log: Logger;
}

const ajv = createAjv({ strict: true });
const validators = Object.fromEntries(
  Object.entries(PARAM_SCHEMAS).map(([m, schema]) => [m, ajv.compile(schema)]),
) as Record<MethodName, ValidateFunction>;

export function toRpcError(err: unknown, log: Logger, method: string): RpcErrorObject {
  if (isAppError(err)) return err.toRpc();
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
    const handler = h[name] as (p: unknown) => Promise<unknown>;
    methods[name] = new jayson.Method(
      async (params: unknown, ctx: object) => {
        const context = ctx as CallContext;
        const stop = metrics.rpcDuration.startTimer({ method: name });
        let outcome = 'ok';
        try {
          const p = params ?? {};
          if (Array.isArray(p)) {
            throw rpcError('VALIDATION_FAILED', 'params must be an object (by name)', {
              fields: [{ path: '/', message: 'must be object' }],
            });
          }
          if (!validate(p)) {
            throw rpcError('VALIDATION_FAILED', `invalid params for ${name}`, {
              fields: ajvFieldErrors(validate.errors),
            });
          }
          return await handler(p);
        } catch (err) {
          const rpcErr = isRpcErrorObject(err) ? err : toRpcError(err, context.log, name);
          outcome = rpcErr.data?.type ?? String(rpcErr.code);
          throw rpcErr;
        } finally {
          stop();
          metrics.rpcCalls.inc({ method: name, outcome });
        }
      },
      { useContext: true },
    );
  }
  return new jayson.Server(methods, { useContext: true, version: 2 });
}

function isRpcErrorObject(v: unknown): v is RpcErrorObject {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as RpcErrorObject).code === 'number' &&
    !(v instanceof Error)
  );
}
