/** Every status change after creation: claim, heartbeat, complete, fail, cancel, retry, lease expiry. */
import { randomUUID } from 'node:crypto';
import { DEPENDENCY_FAILED, HISTORY_LIMIT, type TaskError, type TaskStatus } from '@tasks/contracts';
import { AppError } from '../app-error.js';
import { retryDelayMs } from './backoff.js';
import type { Collections } from './collections.js';
import type { HistoryDoc, LeaseEnd, TaskDoc } from './documents.js';
import { applyChange, type Change } from './fenced-update.js';
import { retell, settleDependents, writeOptions } from './flow-dependencies.js';

export function withHistory(doc: TaskDoc, entry: HistoryDoc): HistoryDoc[] {
  return [...doc.history, entry].slice(-HISTORY_LIMIT);
}

function conflict(doc: TaskDoc, action: string): AppError {
  return new AppError('INVALID_TRANSITION', `cannot ${action} a ${doc.status} task`, {
    status: doc.status,
    id: doc._id,
  });
}

function requireLease(doc: TaskDoc, leaseId: string): void {
  if (doc.leaseId !== leaseId) {
    throw new AppError('LEASE_LOST', 'this lease is no longer the task’s current lease', {
      status: doc.status,
      id: doc._id,
    });
  }
}

/**
 * `leaseId` is the task's lease and it has ended: answer a replay of the very call that ended it
 * (null: nothing to change), refuse anything else with INVALID_TRANSITION: the task no longer runs
 * under that lease (expiry, cancel or the other outcome ended it), and nothing is recorded.
 */
function endedLease(doc: TaskDoc, end: LeaseEnd, action: string): null {
  if (doc.leaseEndedBy === end) return null;
  // Ended by another call (expiry, cancel, the other outcome): the task is no longer running.
  throw conflict(doc, `${action} (its lease already ended by ${doc.leaseEndedBy ?? 'another call'})`);
}

/**
 * A change that may end (or reopen) a flow node, then the telling of its dependents
 * (flow-dependencies.ts). The flow nodes whose status that changed are added to `dependents`, for
 * the caller to publish (the queued ones) and announce.
 */
export async function changeAndSettle(
  c: Collections,
  id: string,
  decide: (doc: TaskDoc, now: Date) => Change | null,
  dependents: TaskDoc[],
): Promise<TaskDoc> {
  const doc = await applyChange(c, id, decide, writeOptions(c));
  dependents.push(...(await settleDependents(c, doc)));
  return doc;
}

export function claim(
  c: Collections,
  p: { id: string; workerId: string; leaseMs: number; leaseId?: string },
): Promise<TaskDoc> {
  const { id, workerId, leaseMs } = p;
  return applyChange(c, id, (doc, now) => {
    // A repeat of a claim whose answer was lost: the same lease, not a second attempt.
    if (p.leaseId !== undefined && doc.status === 'running' && doc.leaseId === p.leaseId) return null;
    const expired = doc.status === 'running' && doc.leaseExpiresAt !== null && doc.leaseExpiresAt <= now;
    if (doc.status !== 'queued' && !expired) throw conflict(doc, 'claim');
    if (doc.attempts >= doc.maxAttempts) throw conflict(doc, 'claim (no attempts left)');
    if (doc.runAt > now) {
      throw new AppError('TASK_NOT_DUE', `task is due at ${doc.runAt.toISOString()}`, {
        status: doc.status,
        runAt: doc.runAt.toISOString(),
      });
    }
    const attempt = doc.attempts + 1;
    return {
      status: 'running',
      attempts: attempt,
      leaseOwner: workerId,
      leaseId: p.leaseId ?? randomUUID(),
      leaseEndedBy: null,
      leaseExpiresAt: new Date(now.getTime() + leaseMs),
      startedAt: now,
      error: null,
      progress: null,
      progressMessage: null,
      history: withHistory(doc, { status: 'running', at: now, by: workerId, attempt }),
    };
  });
}

export function heartbeat(
  c: Collections,
  p: { id: string; leaseId: string; leaseMs: number; progress?: number; progressMessage?: string },
): Promise<TaskDoc> {
  return applyChange(c, p.id, (doc, now) => {
    requireLease(doc, p.leaseId);
    if (doc.status !== 'running') throw conflict(doc, 'heartbeat');
    const change: Change = { leaseExpiresAt: new Date(now.getTime() + p.leaseMs) };
    if (p.progress !== undefined) change.progress = p.progress;
    if (p.progressMessage !== undefined) change.progressMessage = p.progressMessage;
    return change;
  });
}

export function complete(
  c: Collections,
  p: { id: string; leaseId: string; result?: unknown },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  return changeAndSettle(
    c,
    p.id,
    (doc, now) => {
      requireLease(doc, p.leaseId);
      if (doc.status === 'succeeded') return null; // a repeat of the call that succeeded
      if (doc.status !== 'running') return endedLease(doc, 'complete', 'complete');
      return {
        status: 'succeeded',
        leaseEndedBy: 'complete',
        resultJson: JSON.stringify(p.result ?? null),
        progress: 100,
        leaseOwner: null,
        leaseExpiresAt: null,
        finishedAt: now,
        history: withHistory(doc, {
          status: 'succeeded',
          at: now,
          by: doc.leaseOwner ?? 'unknown',
          attempt: doc.attempts,
        }),
      };
    },
    dependents,
  );
}

export function fail(
  c: Collections,
  p: { id: string; leaseId: string; error: TaskError },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  return changeAndSettle(
    c,
    p.id,
    (doc, now) => {
      requireLease(doc, p.leaseId);
      if (doc.status !== 'running') return endedLease(doc, 'fail', 'fail');
      const retry = p.error.retryable !== false && doc.attempts < doc.maxAttempts;
      const status: TaskStatus = retry ? 'queued' : 'failed';
      const entry: HistoryDoc = {
        status,
        at: now,
        by: doc.leaseOwner ?? 'unknown',
        attempt: doc.attempts,
        error: p.error,
      };
      return {
        status,
        error: p.error,
        leaseEndedBy: 'fail',
        leaseOwner: null,
        leaseExpiresAt: null,
        ...(retry ? { runAt: new Date(now.getTime() + retryDelayMs(doc.attempts)) } : { finishedAt: now }),
        history: withHistory(doc, entry),
      };
    },
    dependents,
  );
}

/** The holder gives the task back unfinished (shutdown): queued again, the interrupted attempt not counted. */
export function release(
  c: Collections,
  p: { id: string; leaseId: string; reason?: string },
): Promise<TaskDoc> {
  return applyChange(
    c,
    p.id,
    (doc, now) => {
      requireLease(doc, p.leaseId);
      if (doc.status !== 'running') return endedLease(doc, 'release', 'release');
      const error: TaskError = {
        code: 'RELEASED',
        message: p.reason ?? 'released by its worker',
        retryable: true,
      };
      return {
        status: 'queued',
        attempts: Math.max(0, doc.attempts - 1),
        runAt: now,
        leaseEndedBy: 'release',
        leaseOwner: null,
        leaseExpiresAt: null,
        history: withHistory(doc, {
          status: 'queued',
          at: now,
          by: doc.leaseOwner ?? 'unknown',
          attempt: doc.attempts,
          error,
        }),
      };
    },
    writeOptions(c),
  );
}

export function cancel(
  c: Collections,
  p: { id: string; by?: string; reason?: string },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  return changeAndSettle(
    c,
    p.id,
    (doc, now) => {
      if (doc.status !== 'queued' && doc.status !== 'running' && doc.status !== 'waiting')
        throw conflict(doc, 'cancel');
      const error: TaskError = { code: 'CANCELLED', message: p.reason ?? 'cancelled', retryable: false };
      return {
        status: 'cancelled',
        error,
        ...(doc.status === 'running' && { leaseEndedBy: 'cancel' as const }),
        leaseOwner: null,
        leaseExpiresAt: null,
        finishedAt: now,
        history: withHistory(doc, { status: 'cancelled', at: now, by: p.by ?? 'api', attempt: doc.attempts }),
      };
    },
    dependents,
  );
}

/**
 * Manual retry: attempts start again from 0, so the task gets its full maxAttempts budget. A flow
 * node whose dependencies have not all succeeded waits for them again (`waiting`); one cancelled
 * because a dependency failed is retried by retrying that dependency (docs/flows.md).
 */
export async function retry(
  c: Collections,
  p: { id: string; by?: string },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  const doc = await changeAndSettle(
    c,
    p.id,
    (doc, now) => {
      if (doc.status !== 'failed' && doc.status !== 'cancelled') throw conflict(doc, 'retry');
      let status: TaskStatus = 'queued';
      let flow: Change = {};
      if (doc.flow) {
        if (doc.error?.code === DEPENDENCY_FAILED) {
          throw new AppError(
            'INVALID_TRANSITION',
            'this flow node was cancelled because a dependency failed: retry that dependency instead',
            { status: doc.status, id: doc._id },
          );
        }
        // What it was told may be stale (a dependency retried since): it waits, and is told anew.
        const roots = doc.flow.dependsOn.length === 0;
        status = roots ? 'queued' : 'waiting';
        flow = { flow: { ...doc.flow, told: [], queuedWith: roots ? [] : null } };
      }
      return {
        ...flow,
        status,
        attempts: 0,
        runAt: now,
        error: null,
        resultJson: null,
        progress: null,
        progressMessage: null,
        startedAt: null,
        finishedAt: null,
        history: withHistory(doc, { status, at: now, by: p.by ?? 'api', attempt: 0 }),
      };
    },
    dependents,
  );
  if (doc.status !== 'waiting') return doc;
  const told = await retell(c, doc);
  dependents.push(...told);
  // Told how its dependencies stand, it may have moved on (queued, or cancelled): answer that.
  return [...told].reverse().find((t) => t._id === doc._id) ?? doc;
}

/** Running tasks whose lease expired go back to queued, or to failed when no attempt is left. */
export async function requeueExpired(
  c: Collections,
  limit: number,
  by: string,
  dependents: TaskDoc[] = [],
): Promise<TaskDoc[]> {
  const expired = await c.tasks
    .find({ status: 'running', leaseExpiresAt: { $lt: new Date() } }, { projection: { _id: 1 } })
    .limit(limit)
    .toArray();
  const changed: TaskDoc[] = [];
  for (const { _id } of expired) {
    let touched = false;
    const doc = await changeAndSettle(
      c,
      _id,
      (d, now) => {
        touched = d.status === 'running' && d.leaseExpiresAt !== null && d.leaseExpiresAt <= now;
        if (!touched) return null;
        const error: TaskError = {
          code: 'LEASE_EXPIRED',
          message: `lease of ${d.leaseOwner} expired`,
          retryable: true,
        };
        const requeue = d.attempts < d.maxAttempts;
        return {
          status: requeue ? 'queued' : 'failed',
          error,
          leaseEndedBy: 'expiry',
          leaseOwner: null,
          leaseExpiresAt: null,
          ...(requeue ? { runAt: now } : { finishedAt: now }),
          history: withHistory(d, {
            status: requeue ? 'queued' : 'failed',
            at: now,
            by,
            attempt: d.attempts,
            error,
          }),
        };
      },
      dependents,
    );
    if (touched) changed.push(doc);
  }
  return changed;
}
