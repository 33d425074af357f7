/**
 * Store calls whose outcome must not be lost: repeated with capped backoff while the store is
 * unreachable or busy, for as long as `keepTrying()` says. The message stays unacked meanwhile.
 */
import {
  isStoreError,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  type TaskStoreClient,
} from '@tasks/contracts';
import type { Logger } from 'pino';
import type { ExecutorMetrics } from './metrics.js';

export class StoreUnreachable extends Error {}

export async function untilRecorded<M extends MethodName>(
  store: TaskStoreClient,
  method: M,
  params: ParamsOf<M>,
  opts: { log: Logger; metrics: ExecutorMetrics; requestId?: string; keepTrying: () => boolean },
): Promise<ResultOf<M>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.call(method, params, { requestId: opts.requestId, idempotent: false });
    } catch (err) {
      // Only "the store could not answer" is retried here; TASK_NOT_DUE and other answers go back
      // to the caller, which handles them (a not-due task is delayed again, not waited for).
      if (!isStoreError(err) || (err.type !== 'DEPENDENCY_UNAVAILABLE' && err.type !== 'BUSY')) throw err;
      if (!opts.keepTrying()) throw new StoreUnreachable(`gave up on ${method}: ${err.message}`);
      const delay = Math.min(5_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      opts.metrics.storeRetries.inc({ method });
      if (attempt === 0 || attempt % 10 === 0) {
        opts.log.warn({ method, err: err.message, attempt }, 'store call failed; retrying');
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
