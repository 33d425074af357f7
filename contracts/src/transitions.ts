import type { TaskStatus } from './task.js';

/**
 * Every status change the store accepts, as data. Anything not listed is a conflict
 * (INVALID_TRANSITION), never a silent overwrite. A change that keeps the status (a flow node
 * recording that a dependency ended) is not a transition; each method guards those itself.
 *
 * - queued → running: claim
 * - running → running: heartbeat, or re-claim of an expired lease
 * - running → succeeded | failed: outcome recorded by the lease holder
 * - running → queued: retry with backoff, or lease expiry
 * - queued | running → cancelled: cancel
 * - failed | cancelled → queued: manual retry
 * - queued → failed: the task's message was dead-lettered (DEAD_LETTERED)
 * - waiting → queued: a flow node whose dependencies have ended (docs/flows.md)
 * - queued | waiting → failed: not started by its expiresAt (EXPIRED)
 * - waiting → cancelled: cancel, its flow cancelled, or a dependency failed (DEPENDENCY_FAILED)
 * - cancelled → waiting: a dependency that failed is retried, so the node waits for it again
 */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  waiting: ['queued', 'cancelled', 'failed'],
  queued: ['running', 'cancelled', 'failed'],
  running: ['running', 'succeeded', 'failed', 'queued', 'cancelled'],
  succeeded: [],
  failed: ['queued'],
  cancelled: ['queued', 'waiting'],
};
