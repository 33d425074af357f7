/** tasks.create and tasks.createMany. */
import { randomUUID } from 'node:crypto';
import {
  ajvFieldErrors,
  MAX_SCHEDULE_AHEAD_MS,
  PUBLISH_HORIZON_MS,
  TASK_DEFAULTS,
  type CreateTaskParams,
} from '@tasks/contracts';
import { AppError, isDuplicateKey } from '../app-error.js';
import { canonicalJson, sha256 } from './canonical-json.js';
import type { Collections } from './collections.js';
import type { OutboxDoc, TaskDoc } from './documents.js';
import { claimKey } from './idempotency-keys.js';
import { bucketOf, hourOf } from './list-buckets.js';
import { LOOSE_SLOT, type Keys, type TaskKey } from './list-slots.js';
import { hourLabel, labelsOf } from './task-labels.js';
import type { TaskTypeRegistry } from './task-type-registry.js';

/** What the store itself may add to a creation: the schedule a tick's task belongs to (never from a client). */
export type TaskCreation = CreateTaskParams & { scheduleId?: string };

export interface StoreContext {
  collections: Collections;
  registry: TaskTypeRegistry;
}

/** Checks the type, kind and payload, and applies the type's defaults. Writes nothing. */
export async function buildTask(
  ctx: StoreContext,
  p: TaskCreation,
  now: Date,
  at = '',
  key?: TaskKey,
): Promise<TaskDoc> {
  if (p.runAt !== undefined && Date.parse(p.runAt) - now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
    throw new AppError('VALIDATION_FAILED', 'runAt is too far ahead', {
      fields: [{ path: `${at}/runAt`, message: 'must be at most 366 days from now' }],
    });
  }
  checkExpiry(p, now, at);
  const { doc: type, validatePayload } = await ctx.registry.get(p.type);
  if (p.kind !== undefined && p.kind !== type.kind) {
    throw new AppError(
      'TYPE_KIND_MISMATCH',
      `task type "${p.type}" is registered as ${type.kind}, not ${p.kind}`,
      {
        fields: [{ path: `${at}/kind`, message: `must be ${type.kind}` }],
      },
    );
  }
  const payload = p.payload ?? {};
  if (!validatePayload(payload)) {
    throw new AppError('PAYLOAD_INVALID', `payload does not match the schema of "${p.type}"`, {
      fields: ajvFieldErrors(validatePayload.errors, `${at}/payload`),
    });
  }
  const runAt = p.runAt ? new Date(p.runAt) : new Date(now.getTime() + (p.delayMs ?? 0));
  return {
    ...queuedTaskDoc(
      {
        _id: key?.id ?? randomUUID(),
        listSlot: key?.listSlot, // loose without a key (queuedTaskDoc)
        type: p.type,
        kind: type.kind,
        payloadJson: JSON.stringify(payload),
        priority: p.priority ?? TASK_DEFAULTS.priority,
        maxAttempts: p.maxAttempts ?? type.maxAttempts,
        timeoutMs: p.timeoutMs ?? type.timeoutMs,
        runAt,
        idempotencyKey: p.idempotencyKey ?? null,
      },
      now,
    ),
    ...(p.expiresAt !== undefined && { expiresAt: new Date(p.expiresAt), hasExpiry: true as const }),
    ...(p.scheduleId !== undefined && { scheduleId: p.scheduleId }),
    ...labelFields(p, hourOf(now.getTime())),
    ...(p.webhook !== undefined && { webhook: { url: checkedWebhookUrl(p.webhook.url, at) } }),
  };
}

/** What differs between two new tasks; every other field of a queued task starts the same. */
export type NewTaskFields = Pick<
  TaskDoc,
  | '_id'
  | 'listSlot'
  | 'type'
  | 'kind'
  | 'payloadJson'
  | 'priority'
  | 'maxAttempts'
  | 'timeoutMs'
  | 'runAt'
  | 'idempotencyKey'
>;

/**
 * A queued task's document, created at `now`, as tasks.create writes it (before the optional
 * expiry, schedule, labels and webhook). Benchmarks that write a history straight into the
 * database build theirs with it, so that they measure the store's own documents.
 */
export function queuedTaskDoc(f: NewTaskFields, now: Date): TaskDoc {
  return {
    ...f,
    listSlot: f.listSlot ?? LOOSE_SLOT,
    status: 'queued',
    attempts: 0,
    resultJson: null,
    error: null,
    progress: null,
    progressMessage: null,
    leaseOwner: null,
    leaseId: null,
    leaseExpiresAt: null,
    createdAt: now,
    bucket: bucketOf(now.getTime()),
    hour: hourOf(now.getTime()),
    updatedAt: now,
    changedBucket: bucketOf(now.getTime()),
    startedAt: null,
    finishedAt: null,
    history: [{ status: 'queued', at: now, by: 'create', attempt: 0 }],
    version: 1,
  };
}

/** Tags and metadata, and their labels; nothing at all for a task without them (most). */
function labelFields(
  p: TaskCreation,
  hour: number,
): Pick<TaskDoc, 'tags' | 'metadata' | 'labels' | 'hourLabels'> {
  const tags = p.tags ?? [];
  const metadata = p.metadata ?? {};
  if (tags.length === 0 && Object.keys(metadata).length === 0) return {};
  return {
    ...(tags.length > 0 && { tags: [...tags] }),
    ...(Object.keys(metadata).length > 0 && { metadata: { ...metadata } }),
    labels: labelsOf(tags, metadata),
    hourLabels: labelsOf(tags, metadata).map((l) => hourLabel(hour, l)),
  };
}

/**
 * The schema admits http(s), no credentials, at most 2048 characters; the URL must also parse
 * (a host WHATWG URL accepts). Kept as given: it is what the sender POSTs to.
 */
function checkedWebhookUrl(url: string, at: string): string {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (
    !parsed ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.hostname === '' ||
    parsed.username !== '' ||
    parsed.password !== ''
  ) {
    throw new AppError('VALIDATION_FAILED', 'webhook.url is not a usable http(s) URL', {
      fields: [
        { path: `${at}/webhook/url`, message: 'must be an http or https URL with a host and no credentials' },
      ],
    });
  }
  return url;
}

/** expiresAt lies ahead of now and of the task's start (a deadline already past is a mistake, not a task). */
function checkExpiry(p: CreateTaskParams, now: Date, at: string): void {
  if (p.expiresAt === undefined) return;
  const expires = Date.parse(p.expiresAt);
  const start = p.runAt !== undefined ? Date.parse(p.runAt) : now.getTime() + (p.delayMs ?? 0);
  const problem =
    expires <= now.getTime()
      ? 'must lie in the future'
      : expires <= start
        ? 'must be later than the time the task is due (runAt or delayMs)'
        : expires - now.getTime() > MAX_SCHEDULE_AHEAD_MS
          ? 'must be at most 366 days from now'
          : null;
  if (problem) {
    throw new AppError('VALIDATION_FAILED', `expiresAt ${problem}`, {
      fields: [{ path: `${at}/expiresAt`, message: problem }],
    });
  }
}

/**
 * The entry is due for the outbox relay at once, or PUBLISH_HORIZON_MS before the task is: a
 * task due much later is not put on the broker now (gateways skip it too), so it does not cycle
 * through delay queues until it is due. A task no caller is about to publish (one a schedule
 * keeper created) gets an entry already UNPUBLISHED_HEAD_START_MS old, so that the gateways'
 * next dispatcher pass publishes it instead of waiting REPUBLISH_AFTER_MS for a publisher that
 * does not exist.
 */
function outboxEntry(doc: TaskDoc, now: Date, noPublisher = false): OutboxDoc {
  const due = Math.max(now.getTime(), doc.runAt.getTime() - PUBLISH_HORIZON_MS);
  const at = new Date(noPublisher ? due - UNPUBLISHED_HEAD_START_MS : due);
  return { _id: `${doc._id}:${doc.version}`, taskId: doc._id, version: doc.version, at };
}

/**
 * Above the gateways' REPUBLISH_AFTER_MS (5 s by default), well below the 15 minutes after which
 * the outbox takes an entry without its task for an orphan (outbox.ts).
 */
const UNPUBLISHED_HEAD_START_MS = 60_000;

/**
 * `traceparent`: the trace context the creating call came with (docs/observability.md). Not part
 * of the params, so an idempotent repeat from another trace is still the same body.
 */
export async function createTask(
  ctx: StoreContext,
  p: TaskCreation,
  traceparent?: string,
): Promise<{ doc: TaskDoc; created: boolean }> {
  // The task's list key (createdAt, id) and slot, handed out in list order (list-slots.ts).
  const keys = ctx.collections.buckets.clock.next(1);
  const now = keys.now;
  // Timed `now` for the counts (docs/stats.md) until the insert is over.
  const counted = ctx.collections.countWriter.begin(now);
  try {
    return await insertTask(ctx, p, keys, traceparent);
  } finally {
    counted();
  }
}

async function insertTask(
  ctx: StoreContext,
  p: TaskCreation,
  { now, keys: [key], nodes }: Keys,
  traceparent: string | undefined,
): Promise<{ doc: TaskDoc; created: boolean }> {
  const doc = await buildTask(ctx, p, now, '', key);
  if (traceparent !== undefined) doc.traceparent = traceparent;

  if (p.idempotencyKey !== undefined) {
    const { idempotencyKey, ...body } = p;
    const bodyHash = sha256(canonicalJson(body));
    const ttl = ctx.collections.retention.idempotencyKeyTtlSeconds;
    const prior = await claimKey(
      ctx.collections.idempotency,
      ctx.collections.fences,
      idempotencyKey,
      doc._id,
      bodyHash,
      now,
      ttl,
    );
    if (prior) {
      if (prior.bodyHash !== bodyHash) {
        throw new AppError('IDEMPOTENCY_CONFLICT', 'this idempotency key was used with a different body', {
          taskId: prior.taskId,
        });
      }
      const existing = await ctx.collections.tasks.findOne({ _id: prior.taskId });
      if (existing) return { doc: existing, created: false };
      // The first call stopped between claiming the key and writing the task: finish its work.
      // (Not a removed task: a task is removed only once its key has expired, docs/retention.md.)
      doc._id = prior.taskId;
      // Its id was handed out earlier: out of this chain's order, so outside its slots.
      doc.listSlot = LOOSE_SLOT;
    }
  }

  // The bucket tree first: a listed task's bucket and slot are always reachable from the root.
  await ctx.collections.buckets.record([now.getTime()], doc.listSlot === LOOSE_SLOT ? [] : nodes);
  // The outbox entry goes first: a task must never exist without one until it is published.
  // Both inserts are shared with concurrent creates (one insertMany each for all of them).
  await ctx.collections.inserts.outbox
    .insert(outboxEntry(doc, now, p.scheduleId !== undefined))
    .catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
  try {
    await ctx.collections.inserts.tasks.insert(doc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const existing = await ctx.collections.tasks.findOne({ _id: doc._id });
    if (!existing) throw err;
    return { doc: existing, created: false };
  }
  ctx.collections.countWriter.created(doc.type, doc.status, now);
  ctx.collections.recent.remember(doc);
  return { doc, created: true };
}

/** All tasks are validated before any is written; then one bulk write for the outbox and one for the tasks. */
export async function createTasks(
  ctx: StoreContext,
  items: Omit<CreateTaskParams, 'idempotencyKey'>[],
  traceparent?: string,
): Promise<TaskDoc[]> {
  const { now, keys, nodes } = ctx.collections.buckets.clock.next(items.length);
  const counted = ctx.collections.countWriter.begin(now);
  try {
    const docs: TaskDoc[] = [];
    for (const [i, p] of items.entries()) {
      const doc = await buildTask(ctx, p, now, `/tasks/${i}`, keys[i]);
      if (traceparent !== undefined) doc.traceparent = traceparent;
      docs.push(doc);
    }
    await ctx.collections.buckets.record([now.getTime()], nodes);
    await ctx.collections.outbox.insertMany(
      docs.map((d) => outboxEntry(d, now)),
      { ordered: false },
    );
    try {
      await ctx.collections.tasks.insertMany(docs, { ordered: false });
    } catch (err) {
      // Some may be in: which ones, only a count of the tasks can tell.
      ctx.collections.countWriter.requestRecount('a createMany failed part way');
      throw err;
    }
    for (const doc of docs) {
      ctx.collections.countWriter.created(doc.type, doc.status, now);
      ctx.collections.recent.remember(doc);
    }
    return docs;
  } finally {
    counted();
  }
}

export { outboxEntry };
