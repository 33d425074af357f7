/**
 * What keeps a due task from starting (docs/flow-control.md): its type paused, at its concurrency
 * limit, or over its rate. A task that may not start is held in the store — the claim answers
 * TASK_HELD, the executor drops the message — and released (made due again, with an outbox entry)
 * when it may: on resume, when a slot frees, or by the type keeper. Nothing polls per task.
 *
 * Concurrency and rate are counted with unique keys, which MongoDB and FerretDB both insert
 * atomically: a concurrency slot `<type>#<n>` (n below the limit) per running task, and a start
 * time `<type>@<rate>:<n>` per rate-limited start.
 */
import { rateBurst, type HoldReason } from '@tasks/contracts';
import { AppError, isDuplicateKey } from '../app-error.js';
import type { Collections } from './collections.js';
import type { HoldDoc, TaskDoc } from './documents.js';
import { applyChange } from './fenced-update.js';
import { writeOptions } from './flow-dependencies.js';

/** How many free slots a claim tries to insert before it reads the slots again. */
const SLOT_TRIES = 3;
/** How many start times a claim probes before it gives up (BUSY): only a crowd of replicas gets near. */
const RATE_PROBES = 1_000;
/** Probes after which a claim reads the latest taken start time again. */
const RATE_REREAD_EVERY = 10;
/**
 * A start time is honoured this long after it passed (a delay queue step is 1 s, so the message
 * may come that late); a task that comes later gets a new one, so that tasks held up together
 * (a store restart, say) do not all start at once on old start times.
 */
export const START_GRACE_MS = 1_000;

/** Held tasks by release order: most urgent first, then oldest. */
function byReleaseOrder(a: HoldDoc, b: HoldDoc): number {
  return b.priority - a.priority || a.createdAt.getTime() - b.createdAt.getTime() || (a._id < b._id ? -1 : 1);
}

/**
 * Holds a queued task: `heldBy` on the task (no outbox entry: nothing publishes it), then its
 * hold entry, which whoever releases it finds by type. A crash between the two leaves the claim
 * unanswered; the executor's repeat (or the message's redelivery) holds it again and writes the entry.
 */
export async function hold(collections: Collections, id: string, reason: HoldReason): Promise<TaskDoc> {
  const doc = await applyChange(collections, id, (d) => {
    if (d.status !== 'queued') {
      throw new AppError('INVALID_TRANSITION', `cannot hold a ${d.status} task`, { status: d.status, id });
    }
    return d.heldBy === reason ? null : { heldBy: reason, rateSlotAt: null };
  });
  const entry: HoldDoc = {
    _id: doc._id,
    type: doc.type,
    reason,
    priority: doc.priority,
    createdAt: doc.createdAt,
    at: new Date(),
  };
  await collections.holds.replaceOne({ _id: entry._id }, entry, { upsert: true });
  return doc;
}

/** The error a claim answers for a task it held. */
export function heldError(doc: TaskDoc, reason: HoldReason): AppError {
  const why =
    reason === 'paused'
      ? `task type ${doc.type} is paused`
      : `task type ${doc.type} is at its concurrency limit`;
  return new AppError('TASK_HELD', `${why}: the task waits in the store`, {
    status: doc.status,
    id: doc._id,
    reason,
  });
}

/**
 * Releases up to `max` held tasks of a type, most urgent first (only those held for `reason`,
 * when given). Each becomes due again with an outbox entry; the ones returned are for the caller
 * to publish now. Repeatable: a task that is no longer held just loses its entry.
 */
export async function releaseHolds(
  collections: Collections,
  type: string,
  max: number,
  reason?: HoldReason,
): Promise<TaskDoc[]> {
  if (max <= 0) return [];
  const entries = (await collections.holds.find({ type }).toArray())
    .filter((h) => reason === undefined || h.reason === reason)
    .sort(byReleaseOrder);
  const released: TaskDoc[] = [];
  // An entry whose task is no longer held (cancelled, expired) does not count: the next one goes.
  for (const h of entries) {
    if (released.length >= max) break;
    const doc = await unhold(collections, h._id);
    if (doc) released.push(doc);
    await collections.holds.deleteOne({ _id: h._id });
  }
  return released;
}

/** The task made due again, or null when it is not held (any more). */
async function unhold(collections: Collections, id: string): Promise<TaskDoc | null> {
  let changed = false;
  try {
    const doc = await applyChange(
      collections,
      id,
      (d) => {
        changed = d.status === 'queued' && Boolean(d.heldBy);
        return changed ? { heldBy: null } : null;
      },
      writeOptions(collections),
    );
    return changed ? doc : null;
  } catch (err) {
    if (err instanceof AppError && err.type === 'TASK_NOT_FOUND') return null;
    throw err;
  }
}

/**
 * Takes one of the type's `limit` concurrency slots for this lease (the one it holds already, on a
 * repeated claim), or null when all are taken.
 */
export async function takeSlot(
  collections: Collections,
  type: string,
  limit: number,
  taskId: string,
  leaseId: string,
): Promise<string | null> {
  for (let round = 0; round < SLOT_TRIES; round++) {
    const taken = await collections.slots.find({ type }).toArray();
    const mine = taken.find((s) => s.taskId === taskId && s.leaseId === leaseId);
    if (mine) return mine._id;
    const used = new Set(taken.map((s) => s._id));
    const free: string[] = [];
    for (let n = 0; n < limit && free.length < SLOT_TRIES; n++) {
      if (!used.has(slotId(type, n))) free.push(slotId(type, n));
    }
    if (free.length === 0) return null;
    for (const _id of free) {
      try {
        await collections.slots.insertOne({ _id, type, taskId, leaseId, at: new Date() });
        return _id;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
  }
  return null;
}

const slotId = (type: string, n: number): string => `${type}#${n}`;

/**
 * Frees the slot a task's lease held, once its run is over, and releases the most urgent task
 * held for it (returned, for the caller to publish). Repeatable: a slot already freed frees nothing.
 */
export async function freeSlot(collections: Collections, doc: TaskDoc): Promise<TaskDoc[]> {
  if (!doc.slot || doc.status === 'running') return [];
  const r = await collections.slots.deleteOne({ _id: doc.slot, taskId: doc._id, leaseId: doc.leaseId ?? '' });
  if (r.deletedCount === 0) return [];
  const rules = await collections.settings.rules(doc.type);
  if (rules.paused) return [];
  return releaseHolds(collections, doc.type, 1, 'concurrency');
}

/**
 * The start time a rate-limited task gets: the first free one of the type's start times, spaced
 * 1/ratePerSecond apart, counting those of the last burst (rateBurst) that went unused. A time
 * that is not in the future means "start now". Each process remembers where it took the last
 * one; a process without that (just started), or one that finds its guess taken, reads the
 * latest taken start time instead of probing its way there.
 */
export async function reserveStart(
  collections: Collections,
  type: string,
  ratePerSecond: number,
  taskId: string,
): Promise<Date> {
  const intervalMs = 1_000 / ratePerSecond;
  const key = `${type}@${ratePerSecond}`;
  const earliest = Math.floor(Date.now() / intervalMs) - rateBurst(ratePerSecond) + 1;
  const hint = collections.settings.nextStart.get(key);
  let n = Math.max(hint ?? (await latestStart(collections, key)) + 1, earliest);
  for (let probe = 1; probe <= RATE_PROBES; probe++, n++) {
    const at = new Date(Math.ceil(n * intervalMs));
    try {
      await collections.rateSlots.insertOne({ _id: `${key}:${n}`, key, n, taskId, at });
      collections.settings.nextStart.set(key, n + 1);
      return at;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    // Another replica is taking them too: jump to the latest rather than probe one by one.
    if (probe % RATE_REREAD_EVERY === 0) n = Math.max(n, await latestStart(collections, key));
  }
  throw new AppError('BUSY', `no start time of ${type} found after ${RATE_PROBES} tries; try again`, {
    id: taskId,
  });
}

/** The highest start time index taken for a rate key (-Infinity when none). */
async function latestStart(collections: Collections, key: string): Promise<number> {
  const [last] = await collections.rateSlots.find({ key }).sort({ n: -1 }).limit(1).toArray();
  return last?.n ?? -Infinity;
}
