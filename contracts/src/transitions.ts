import type { TaskStatus } from './task.js';

/**
 * Every status change the store accepts, as data. Anything not listed is a conflict
 * (INVALID_TRANSITION), never a silent overwrite.
 *
 * - queued → running: claim
 * - running → running: heartbeat, or re-claim of an expired lease
 * - running → succeeded | failed: outcome recorded by the lease holder
 * - running → queued: retry with backoff, or lease expiry
 * - queued | running → cancelled: cancel
 * - failed | cancelled → queued: manual retry
 * - queued → failed: the task's message was dead-lettered (DEAD_LETTERED)
 */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['running', 'succeeded', 'failed', 'queued', 'cancelled'],
  succeeded: [],
  failed: ['queued'],
  cancelled: ['queued'],
};
