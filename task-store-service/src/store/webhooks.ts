/**
 * Completion webhooks (docs/webhooks.md). A terminal version of a task that has a webhook gets a
 * delivery document `<taskId>:<version>` — the Webhook-Id — written after the version's fence is
 * taken and before the task is written (fenced-update.ts), holding the URL and the task as JSON at
 * that version: the body sent on every attempt. Senders (executors) claim due deliveries with a
 * lease and record each attempt's outcome here.
 */
import { randomUUID } from 'node:crypto';
import {
  TERMINAL_STATUSES,
  WEBHOOK_LIMITS,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookSend,
} from '@tasks/contracts';
import { AppError, isDuplicateKey } from '../app-error.js';
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import { FENCE_RETENTION_MS, toWire, type TaskDoc, type WebhookDeliveryDoc } from './documents.js';
import type { WebhookPolicy } from './webhook-policy.js';

/** A delivery ahead of its task (its version not written yet) is looked at again this much later. */
const AHEAD_RECHECK_MS = 5_000;
const LOOKUPS_IN_FLIGHT = 8;

export const deliveryId = (taskId: string, version: number): string => `${taskId}:${version}`;

/** True when version `next` is a terminal status the task's webhook must be told of. */
export function needsDelivery(prev: TaskDoc, next: TaskDoc): boolean {
  return next.webhook !== undefined && next.status !== prev.status && TERMINAL_STATUSES.includes(next.status);
}

/**
 * Writes the delivery of version `next`, if it needs one. Called between the fence and the task
 * write, and again by whoever rolls a dead writer's fence forward: a repeat is harmless.
 */
export async function recordDelivery(collections: Collections, prev: TaskDoc, next: TaskDoc): Promise<void> {
  if (!needsDelivery(prev, next)) return;
  const now = new Date();
  const doc: WebhookDeliveryDoc = {
    _id: deliveryId(next._id, next.version),
    taskId: next._id,
    version: next.version,
    url: next.webhook!.url,
    status: next.status,
    taskUpdatedAt: next.updatedAt,
    bodyJson: webhookBody(next),
    state: 'pending',
    confirmed: false,
    attempts: 0,
    nextAttemptAt: now,
    lastStatusCode: null,
    lastError: null,
    log: [],
    leaseId: null,
    leaseOwner: null,
    lastLeaseId: null,
    deliveredAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await collections.webhookDeliveries.insertOne(doc).catch((err: unknown) => {
    if (!isDuplicateKey(err)) throw err;
  });
}

/** The task as REST shows it (GET /v1/tasks/{id}), without the lease token only its holder needs. */
function webhookBody(task: TaskDoc): string {
  const wire: Partial<ReturnType<typeof toWire>> = toWire(task);
  delete wire.leaseId;
  return JSON.stringify(wire);
}

/**
 * Whether the task version a delivery reports was written (docs/webhooks.md, "A delivery ahead of
 * its task"): `send`, `wait` (its writer may still write it, or a roll-forward will), or `void`
 * (that version was written with other content: its fence was swept and taken again).
 */
async function verify(collections: Collections, d: WebhookDeliveryDoc): Promise<'send' | 'wait' | 'void'> {
  const task = await collections.tasks.findOne({ _id: d.taskId });
  if (!task) return 'send'; // removed after it ended (retention): the body says what happened
  if (task.version < d.version) return 'wait';
  const at = d.taskUpdatedAt.getTime();
  if (task.version === d.version)
    return task.status === d.status && task.updatedAt.getTime() === at ? 'send' : 'void';
  // Moved on since: the version's history entry (same time) must not name another status.
  const entry = task.history.find((h) => h.at.getTime() === at);
  return entry && entry.status !== d.status ? 'void' : 'send';
}

/**
 * Due deliveries, each leased to `owner` for `leaseMs` (its nextAttemptAt moves past the lease, so
 * a sender that dies leaves it due again then). Found by `state: 'pending'` (equality, pushed down
 * by FerretDB); the due time is compared in the server over the pending ones only.
 */
export async function claimDue(
  collections: Collections,
  p: { owner: string; limit: number; leaseMs: number },
): Promise<WebhookSend[]> {
  const now = new Date();
  const due = await collections.webhookDeliveries
    .find({ state: 'pending', nextAttemptAt: { $lte: now } })
    .sort({ nextAttemptAt: 1 })
    .limit(p.limit)
    .toArray();
  const claimed = await mapBounded(due, LOOKUPS_IN_FLIGHT, async (d): Promise<WebhookSend | null> => {
    if (!d.confirmed) {
      const verdict = await verify(collections, d);
      if (verdict === 'void') {
        await collections.webhookDeliveries.deleteOne({ _id: d._id, confirmed: false });
        return null;
      }
      if (verdict === 'wait') {
        await collections.webhookDeliveries.updateOne(
          { _id: d._id, state: 'pending', leaseId: d.leaseId },
          { $set: { nextAttemptAt: new Date(now.getTime() + AHEAD_RECHECK_MS) } },
        );
        return null;
      }
    }
    const leaseId = randomUUID();
    // FerretDB does not make an update atomic with its filter, so two senders could both claim
    // it: the claim is taken by inserting its fence first (atomic there too), as task changes are.
    const claims = d.claims ?? 0;
    try {
      await collections.webhookClaims.insertOne({ _id: `${d._id}#${claims}`, at: now });
    } catch (err) {
      if (isDuplicateKey(err)) return null; // another sender's, or our read was stale
      throw err;
    }
    const r = await collections.webhookDeliveries.updateOne(
      { _id: d._id, state: 'pending', leaseId: d.leaseId },
      {
        $set: {
          claims: claims + 1,
          confirmed: true,
          leaseId,
          leaseOwner: p.owner,
          nextAttemptAt: new Date(now.getTime() + p.leaseMs),
          updatedAt: now,
        },
      },
    );
    if (r.matchedCount === 0) return null;
    return { id: d._id, url: d.url, body: d.bodyJson, leaseId, attempt: d.attempts + 1 };
  });
  return claimed.filter((s): s is WebhookSend => s !== null);
}

/** Delay after attempt `attempt` (1-based) failed: exponential, capped, the top half random. */
export function webhookRetryDelayMs(policy: WebhookPolicy, attempt: number, random = Math.random): number {
  const exp = Math.min(WEBHOOK_LIMITS.retryCapMs, policy.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * One attempt's outcome, under the lease claimDue gave. A 2xx delivers it; anything else waits for
 * the next attempt or, after the last, gives up (failed). A repeat of the call that ended a lease
 * answers the delivery unchanged; a 2xx under a lease that was lost still counts as delivered.
 */
export async function recordAttempt(
  collections: Collections,
  policy: WebhookPolicy,
  p: { id: string; leaseId: string; statusCode?: number; error?: string; ms?: number },
): Promise<WebhookDelivery> {
  const d = await getDoc(collections, p.id);
  const ok = p.statusCode !== undefined && p.statusCode >= 200 && p.statusCode < 300;
  const now = new Date();
  if (d.leaseId !== p.leaseId) {
    if (d.lastLeaseId === p.leaseId || !ok || d.state === 'delivered') return deliveryToWire(d, policy);
  }
  const attempt: WebhookAttempt = {
    at: now.toISOString(),
    statusCode: p.statusCode ?? null,
    error: p.error === undefined ? null : p.error.slice(0, WEBHOOK_LIMITS.maxErrorLength),
    ms: p.ms ?? 0,
  };
  const attempts = d.attempts + 1;
  const giveUp = !ok && attempts >= policy.maxAttempts;
  const set: Partial<WebhookDeliveryDoc> = {
    attempts,
    state: ok ? 'delivered' : giveUp ? 'failed' : 'pending',
    nextAttemptAt: ok || giveUp ? null : new Date(now.getTime() + webhookRetryDelayMs(policy, attempts)),
    lastStatusCode: attempt.statusCode,
    lastError: attempt.error,
    log: [...d.log, { ...attempt, at: now }].slice(-WEBHOOK_LIMITS.attemptLogLimit),
    leaseId: null,
    leaseOwner: null,
    lastLeaseId: p.leaseId,
    updatedAt: now,
    ...(ok && { deliveredAt: now }),
  };
  const r = await collections.webhookDeliveries.updateOne({ _id: d._id, leaseId: d.leaseId }, { $set: set });
  if (r.matchedCount === 0) return deliveryToWire(await getDoc(collections, p.id), policy);
  return deliveryToWire({ ...d, ...set }, policy);
}

/** A task's deliveries, oldest first. */
export async function listDeliveries(
  collections: Collections,
  policy: WebhookPolicy,
  taskId: string,
): Promise<WebhookDelivery[]> {
  const [task, docs] = await Promise.all([
    collections.tasks.findOne({ _id: taskId }, { projection: { _id: 1 } }),
    collections.webhookDeliveries.find({ taskId }, { projection: { bodyJson: 0 } }).toArray(),
  ]);
  if (!task) throw new AppError('TASK_NOT_FOUND', `no task with id ${taskId}`, { id: taskId });
  return docs.sort((a, b) => a.version - b.version).map((d) => deliveryToWire(d, policy));
}

/** Due now again, attempts counted from 0 (the log is kept); the same id and body. */
export async function redeliver(
  collections: Collections,
  policy: WebhookPolicy,
  id: string,
): Promise<WebhookDelivery> {
  const d = await getDoc(collections, id);
  const now = new Date();
  const set: Partial<WebhookDeliveryDoc> = {
    state: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    leaseId: null,
    leaseOwner: null,
    updatedAt: now,
  };
  await collections.webhookDeliveries.updateOne({ _id: id }, { $set: set });
  return deliveryToWire({ ...d, ...set }, policy);
}

/** Claim fences are needed only while their claim is made; old ones are swept (with the task fences). */
export async function sweepWebhookClaims(
  collections: Collections,
  olderThanMs = FENCE_RETENTION_MS,
): Promise<number> {
  const r = await collections.webhookClaims.deleteMany({ at: { $lt: new Date(Date.now() - olderThanMs) } });
  return r.deletedCount;
}

/** The deliveries of removed tasks (retention): one equality delete per task, pushed down by FerretDB. */
export async function deleteDeliveriesOf(collections: Collections, taskIds: string[]): Promise<number> {
  const counts = await mapBounded(taskIds, LOOKUPS_IN_FLIGHT, async (taskId) => {
    const r = await collections.webhookDeliveries.deleteMany({ taskId });
    return r.deletedCount;
  });
  return counts.reduce((a, b) => a + b, 0);
}

async function getDoc(collections: Collections, id: string): Promise<WebhookDeliveryDoc> {
  const d = await collections.webhookDeliveries.findOne({ _id: id });
  if (!d) throw new AppError('WEBHOOK_DELIVERY_NOT_FOUND', `no webhook delivery with id ${id}`, { id });
  return d;
}

export function deliveryToWire(
  d: Omit<WebhookDeliveryDoc, 'bodyJson'>,
  policy: WebhookPolicy,
): WebhookDelivery {
  return {
    id: d._id,
    taskId: d.taskId,
    version: d.version,
    url: d.url,
    status: d.status,
    state: d.state,
    attempts: d.attempts,
    maxAttempts: policy.maxAttempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttemptAt: d.state === 'pending' && d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
    deliveredAt: d.deliveredAt ? d.deliveredAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    attemptLog: d.log.map((a) => ({ ...a, at: a.at.toISOString() })),
  };
}
