/**
 * Store calls whose outcome must not be lost: repeated with capped backoff for as long as the
 * error can pass (outage, restart, overload, token rotation, a proxy's 5xx, an internal error:
 * isPassingStoreError) and `keepTrying()` says so. The message stays unacked meanwhile. Only the
 * store's decisions (not found, refused transition, not due, invalid) go back to the caller.
 */
import {
  isPassingStoreError,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  type StoreError,
} from '@tasks/contracts';
import type { Logger } from 'pino';
import type { ExecutorMetrics } from './metrics.js';
import type { StoreCaller } from './store-batcher.js';

export class StoreUnreachable extends Error {}

/** The longest pause between two tries of a call whose outcome must not be lost. */
const MAX_BACKOFF_MS = 5_000;

export async function untilRecorded<M extends MethodName>(
  store: StoreCaller,
  method: M,
  params: ParamsOf<M>,
  opts: { log: Logger; metrics: ExecutorMetrics; requestId?: string; keepTrying: () => boolean },
): Promise<ResultOf<M>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.call(method, params, { requestId: opts.requestId, idempotent: false });
    } catch (err) {
      // TASK_NOT_DUE (retryable, but a decision) goes back to the caller: a not-due task is
      // delayed again through the broker, not waited for here.
      if (!isPassingStoreError(err) || (err as StoreError).type === 'TASK_NOT_DUE') throw err;
      const { type, message } = err as StoreError;
      if (!opts.keepTrying()) throw new StoreUnreachable(`gave up on ${method}: ${message}`);
      const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
      opts.metrics.storeRetries.inc({ method });
      if (attempt === 0 || attempt % 10 === 0) {
        const level = type === 'INTERNAL' || type === 'UNAUTHORIZED' ? 'error' : 'warn';
        opts.log[level]({ method, type, err: message, attempt }, 'store call failed; retrying');
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
