/** Every status change after creation: claim, heartbeat, complete, fail, cancel, retry, lease expiry. */
import { randomUUID } from 'node:crypto';
import { DEPENDENCY_FAILED, EXPIRED, type TaskError, type TaskStatus } from '@tasks/contracts';
import { AppError } from '../app-error.js';
import { retryDelayMs } from './backoff.js';
import type { Collections } from './collections.js';
import { toSummary, type HistoryDoc, type LeaseEnd, type TaskDoc } from './documents.js';
import { applyChange, type Change } from './fenced-update.js';
import { retell, settleDependents, writeOptions } from './flow-dependencies.js';
import { appendHistory } from './task-history.js';
import { freeSlot, heldError, hold, reserveStart, START_GRACE_MS, takeSlot } from './flow-control.js';

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
  collections: Collections,
  id: string,
  decide: (doc: TaskDoc, now: Date) => Change | null,
  dependents: TaskDoc[],
): Promise<TaskDoc> {
  const doc = await applyChange(collections, id, decide, writeOptions(collections));
  dependents.push(...(await settleDependents(collections, doc)));
  // A run that ended frees its concurrency slot, and the most urgent task held for it is released.
  dependents.push(...(await freeSlot(collections, doc)));
  return doc;
}

/** The change that ends a task not started by its expiresAt. */
export function expiry(doc: TaskDoc, now: Date, by: string): Change {
  const error: TaskError = {
    code: EXPIRED,
    message: `not started by its expiresAt (${doc.expiresAt?.toISOString()})`,
    retryable: false,
  };
  return {
    status: 'failed',
    error,
    heldBy: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    finishedAt: now,
    ...appendHistory(doc, { status: 'failed', at: now, by, attempt: doc.attempts, error }),
  };
}

export const isOverdue = (doc: TaskDoc, now: Date): boolean => Boolean(doc.expiresAt && doc.expiresAt <= now);

export interface ClaimParams {
  id: string;
  workerId: string;
  leaseMs: number;
  leaseId?: string;
  type?: string;
}

/**
 * queued → running. The type's settings apply first (docs/flow-control.md): paused or at its
 * concurrency limit, the task is held (TASK_HELD); over its rate, it gets a later start
 * (TASK_NOT_DUE); past its expiresAt, it ends failed (TASK_EXPIRED, with the task and the flow
 * nodes that changed with it in the error's data).
 */
export async function claim(
  collections: Collections,
  p: ClaimParams,
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  const leaseId = p.leaseId ?? randomUUID();
  const type = p.type ?? (await getOrThrow(collections, p.id)).type;
  const rules = await collections.settings.rules(type);
  let slot: string | null = null;
  if (rules.paused || rules.concurrency !== null || rules.ratePerSecond !== null) {
    const doc = await getOrThrow(collections, p.id);
    const now = new Date();
    // Only a task that would start now meets the rules: a conflict or an expiry is answered by
    // the claim itself.
    const startable = doc.status === 'queued' && !isOverdue(doc, now);
    if (startable && rules.paused) throw heldError(await hold(collections, p.id, 'paused'), 'paused');
    if (startable && rules.ratePerSecond !== null) await rateGate(collections, doc, rules.ratePerSecond);
    // A running task takes (or finds) a slot only when this claim may take it over: a repeat of
    // its own claim, or a lease that expired. Any other claim of it is a conflict, slot or not.
    const reclaim =
      doc.status === 'running' &&
      (doc.leaseId === leaseId || (doc.leaseExpiresAt !== null && doc.leaseExpiresAt <= now));
    if (rules.concurrency !== null && (startable || reclaim)) {
      slot = await takeSlot(collections, type, rules.concurrency, p.id, leaseId);
      if (slot === null) throw heldError(await hold(collections, p.id, 'concurrency'), 'concurrency');
    }
  }
  let expired = false;
  let doc: TaskDoc;
  try {
    doc = await applyChange(collections, p.id, (d, now) => {
      expired = false;
      if (p.type !== undefined && d.type !== p.type) {
        throw new AppError('VALIDATION_FAILED', `task ${d._id} is of type ${d.type}, not ${p.type}`, {
          fields: [{ path: '/type', message: `must be ${d.type}` }],
        });
      }
      // A repeat of a claim whose answer was lost: the same lease, not a second attempt.
      if (p.leaseId !== undefined && d.status === 'running' && d.leaseId === p.leaseId) return null;
      const leaseOver = d.status === 'running' && d.leaseExpiresAt !== null && d.leaseExpiresAt <= now;
      if (d.status !== 'queued' && !leaseOver) throw conflict(d, 'claim');
      if (d.attempts >= d.maxAttempts) throw conflict(d, 'claim (no attempts left)');
      if (isOverdue(d, now)) {
        expired = true;
        return expiry(d, now, p.workerId);
      }
      if (d.runAt > now) {
        throw new AppError('TASK_NOT_DUE', `task is due at ${d.runAt.toISOString()}`, {
          status: d.status,
          runAt: d.runAt.toISOString(),
        });
      }
      const attempt = d.attempts + 1;
      return {
        status: 'running',
        attempts: attempt,
        leaseOwner: p.workerId,
        leaseId,
        leaseEndedBy: null,
        leaseExpiresAt: new Date(now.getTime() + p.leaseMs),
        startedAt: now,
        error: null,
        progress: null,
        progressMessage: null,
        heldBy: null,
        rateSlotAt: null,
        ...(slot !== null && { slot }),
        ...appendHistory(d, { status: 'running', at: now, by: p.workerId, attempt }),
      };
    });
  } catch (err) {
    if (slot !== null) await collections.slots.deleteOne({ _id: slot, taskId: p.id, leaseId });
    throw err;
  }
  if (!expired) return doc;
  if (slot !== null) await collections.slots.deleteOne({ _id: slot, taskId: p.id, leaseId });
  dependents.push(...(await settleDependents(collections, doc)));
  throw new AppError('TASK_EXPIRED', `task ${doc._id} was not started by its expiresAt`, {
    status: doc.status,
    id: doc._id,
    task: toSummary(doc),
    dependents: dependents.map((d) => toSummary(d)),
  });
}

/** The task as this process last wrote it, or read now (and remembered: the claim's change needs no second read). */
async function getOrThrow(collections: Collections, id: string): Promise<TaskDoc> {
  const known = collections.recent.recall(id);
  if (known) return known;
  const doc = await collections.tasks.findOne({ _id: id });
  if (!doc) throw new AppError('TASK_NOT_FOUND', `no task with id ${id}`, { id });
  collections.recent.remember(doc);
  return doc;
}

/**
 * A rate-limited task starts at the start time it was given (rateSlotAt), up to START_GRACE_MS
 * after it; without one (or later), it gets one, and one in the future becomes its runAt (TASK_NOT_DUE: the executor sends the message
 * through a delay queue, and the claim at that time starts it).
 */
async function rateGate(collections: Collections, doc: TaskDoc, ratePerSecond: number): Promise<void> {
  if (doc.rateSlotAt && Date.now() - doc.rateSlotAt.getTime() <= START_GRACE_MS) return;
  const at = await reserveStart(collections, doc.type, ratePerSecond, doc._id);
  if (at.getTime() <= Date.now()) return;
  await applyChange(collections, doc._id, (d) => {
    if (d.status !== 'queued') throw conflict(d, 'claim');
    return { runAt: at, rateSlotAt: at };
  });
  throw new AppError('TASK_NOT_DUE', `task ${doc._id} may start at ${at.toISOString()} (rate limit)`, {
    status: doc.status,
    runAt: at.toISOString(),
  });
}

export function heartbeat(
  collections: Collections,
  p: { id: string; leaseId: string; leaseMs: number; progress?: number; progressMessage?: string },
): Promise<TaskDoc> {
  return applyChange(collections, p.id, (doc, now) => {
    requireLease(doc, p.leaseId);
    if (doc.status !== 'running') throw conflict(doc, 'heartbeat');
    const change: Change = { leaseExpiresAt: new Date(now.getTime() + p.leaseMs) };
    if (p.progress !== undefined) change.progress = p.progress;
    if (p.progressMessage !== undefined) change.progressMessage = p.progressMessage;
    return change;
  });
}

export function complete(
  collections: Collections,
  p: { id: string; leaseId: string; result?: unknown },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  return changeAndSettle(
    collections,
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
        ...appendHistory(doc, {
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
  collections: Collections,
  p: { id: string; leaseId: string; error: TaskError },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  return changeAndSettle(
    collections,
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
        ...appendHistory(doc, entry),
      };
    },
    dependents,
  );
}

/** The holder gives the task back unfinished (shutdown): queued again, the interrupted attempt not counted. */
export async function release(
  collections: Collections,
  p: { id: string; leaseId: string; reason?: string },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  const doc = await applyChange(
    collections,
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
        ...appendHistory(doc, {
          status: 'queued',
          at: now,
          by: doc.leaseOwner ?? 'unknown',
          attempt: doc.attempts,
          error,
        }),
      };
    },
    writeOptions(collections),
  );
  dependents.push(...(await freeSlot(collections, doc)));
  return doc;
}

export function cancel(
  collections: Collections,
  p: { id: string; by?: string; reason?: string },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  return changeAndSettle(
    collections,
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
        ...appendHistory(doc, { status: 'cancelled', at: now, by: p.by ?? 'api', attempt: doc.attempts }),
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
  collections: Collections,
  p: { id: string; by?: string },
  dependents: TaskDoc[] = [],
): Promise<TaskDoc> {
  const doc = await changeAndSettle(
    collections,
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
        ...appendHistory(doc, { status, at: now, by: p.by ?? 'api', attempt: 0 }),
      };
    },
    dependents,
  );
  if (doc.status !== 'waiting') return doc;
  const told = await retell(collections, doc);
  dependents.push(...told);
  // Told how its dependencies stand, it may have moved on (queued, or cancelled): answer that.
  return [...told].reverse().find((t) => t._id === doc._id) ?? doc;
}

/** Running tasks whose lease expired go back to queued, or to failed when no attempt is left. */
export async function requeueExpired(
  collections: Collections,
  limit: number,
  by: string,
  dependents: TaskDoc[] = [],
): Promise<TaskDoc[]> {
  const expired = await collections.tasks
    .find({ status: 'running', leaseExpiresAt: { $lt: new Date() } }, { projection: { _id: 1 } })
    .limit(limit)
    .toArray();
  const changed: TaskDoc[] = [];
  for (const { _id } of expired) {
    let touched = false;
    const doc = await changeAndSettle(
      collections,
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
          ...appendHistory(d, {
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
