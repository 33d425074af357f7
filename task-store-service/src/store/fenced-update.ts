/**
 * The one way a stored task changes. See docs/consistency.md for why it is not a bare
 * findOneAndUpdate: FerretDB 1.x evaluates an update's filter on a read and then writes the
 * row by _id, so two concurrent conditional updates can both "win". Inserting a document
 * with a unique _id is atomic on MongoDB and on FerretDB, so the right to write version v+1
 * of a task is taken by inserting the fence `<taskId>:<v>`; only its holder writes, and the
 * write is still conditional on `version: v`, which on MongoDB alone would be enough.
 */
import { performance } from 'node:perf_hooks';
import { TRANSITIONS } from '@tasks/contracts';
import { AppError, isDuplicateKey } from '../app-error.js';
import type { Collections } from './collections.js';
import type { FenceDoc, TaskDoc } from './documents.js';
import { fenceTimes } from './fence-sweep.js';
import { recordWakeups } from './flow-wakeups.js';
import { bucketOf, hourOf } from './list-buckets.js';
import { writeMovedHistory } from './task-history.js';
import { recordDelivery } from './webhooks.js';

/**
 * A fence that one caller has watched, unchanged and unwritten, for this long by its own monotonic
 * clock was left by a crashed writer. Never `fence.at` against this replica's clock: that is another
 * replica's wall clock (docs/consistency.md, "Fences and clocks").
 */
const STALE_FENCE_MS = 5_000;
/** How long a caller waits for another writer's change of the same task before answering BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

export type Change = Partial<Omit<TaskDoc, '_id' | 'version' | 'updatedAt'>>;

/**
 * Decides what to change given the current document: a Change, `null` when the call is a
 * replay of something already applied (the current document is returned), or throws an
 * AppError (INVALID_TRANSITION, LEASE_LOST, ...).
 */
export type Decide = (doc: TaskDoc, now: Date) => Change | null;

export interface ApplyOptions {
  /** Runs after the fence is taken and before the task is written (e.g. an outbox entry for the new version). */
  beforeWrite?: (next: TaskDoc, prev: TaskDoc) => Promise<void>;
}

export async function applyChange(
  collections: Collections,
  id: string,
  decide: Decide,
  options: ApplyOptions = {},
): Promise<TaskDoc> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  // First try the version this process wrote last, if it has one (see recent-tasks.ts); any
  // doubt about it (a refusal, a replay, a refused fence, no match) reads the task instead.
  let remembered = collections.recent.recall(id);
  // The other writer's fence we are waiting on, and since when (our monotonic clock).
  let watching: { fenceId: string; since: number } | undefined;
  for (;;) {
    const guess = remembered !== undefined;
    const doc = remembered ?? (await collections.tasks.findOne({ _id: id }));
    remembered = undefined;
    if (!doc) throw new AppError('TASK_NOT_FOUND', `no task with id ${id}`, { id });
    const now = new Date();
    const taken = performance.now();
    // The change is timed `now` for the counts (docs/stats.md) until its write is over.
    const counted = collections.countWriter.begin(now);
    let next: TaskDoc | 'again' | 'busy';
    try {
      next = await writeOnce(collections, doc, guess, decide, now, taken, options);
    } finally {
      counted();
    }
    if (next === 'again') continue;
    if (next !== 'busy') return next;
    if (Date.now() > deadline) throw new AppError('BUSY', `task ${id} is being changed; try again`, { id });
    const fenceId = `${id}:${doc.version}`;
    if (watching?.fenceId !== fenceId) watching = { fenceId, since: performance.now() };
    await settle(collections, fenceId, doc, performance.now() - watching.since);
  }
}

/** One attempt: the next document, 'again' to read and decide again, or 'busy' (another writer's fence). */
async function writeOnce(
  collections: Collections,
  doc: TaskDoc,
  guess: boolean,
  decide: Decide,
  now: Date,
  taken: number,
  options: ApplyOptions,
): Promise<TaskDoc | 'again' | 'busy'> {
  const id = doc._id;
  let change: Change | null;
  try {
    change = decide(doc, now);
  } catch (err) {
    if (guess) return 'again';
    throw err;
  }
  if (change === null) {
    if (guess) return 'again';
    return doc;
  }

  const to = change.status ?? doc.status;
  if (to !== doc.status && !TRANSITIONS[doc.status].includes(to)) {
    if (guess) return 'again';
    throw new AppError('INVALID_TRANSITION', `a ${doc.status} task cannot become ${to}`, {
      status: doc.status,
    });
  }
  const set: Partial<TaskDoc> = {
    ...change,
    version: doc.version + 1,
    updatedAt: now,
    changedBucket: bucketOf(now.getTime()),
  };
  // The retention sweeper reads finished tasks by the hour they ended (docs/retention.md).
  if (change.finishedAt !== undefined)
    set.finishedHour = change.finishedAt === null ? null : hourOf(change.finishedAt.getTime());
  const fence: FenceDoc = {
    _id: `${id}:${doc.version}`,
    taskId: id,
    version: doc.version,
    set,
    ...fenceTimes(now),
  };
  try {
    // Shared with the fences of concurrent calls (a batch of claims): one insertMany for all.
    await collections.inserts.fences.insert(fence);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return guess ? 'again' : 'busy'; // a guess: the remembered version is not the current one
  }
  const next: TaskDoc = { ...doc, ...set };
  // History the change moves out of the task goes first: the task's new offset vouches for it.
  if (set.historyOffset !== undefined) await writeMovedHistory(collections, doc, set, now);
  await options.beforeWrite?.(next, doc);
  // A terminal version's webhook delivery (docs/webhooks.md), whatever call made it terminal.
  await recordDelivery(collections, doc, next);
  const r = await collections.tasks.updateOne({ _id: id, version: doc.version }, { $set: set });
  // No match: after STALE_FENCE_MS another caller may have rolled our fence forward (the change
  // is in, and counted by that caller); sooner than that, our read was older than a swept fence.
  if (r.matchedCount === 0 && performance.now() - taken < STALE_FENCE_MS) {
    collections.recent.forget(id);
    return 'again';
  }
  if (r.matchedCount > 0) collections.countWriter.changed(doc.type, doc.status, to, now);
  collections.recent.remember(next);
  return next;
}

/** Another writer holds the fence: wait for it, or finish its write once we have watched it long enough. */
async function settle(
  collections: Collections,
  fenceId: string,
  doc: TaskDoc,
  watchedMs: number,
): Promise<void> {
  const fence = await collections.fences.findOne({ _id: fenceId });
  if (fence && watchedMs > STALE_FENCE_MS) {
    // Its writer may have died before writing the outbox entry a queued version needs.
    if (fence.set.status === 'queued') {
      const version = fence.version + 1;
      await collections.outbox
        .insertOne({ _id: `${fence.taskId}:${version}`, taskId: fence.taskId, version, at: new Date() })
        .catch((err: unknown) => {
          if (!isDuplicateKey(err)) throw err;
        });
    }
    // And before the history blocks the change moved out of the task (docs/history.md).
    if (fence.set.historyOffset !== undefined)
      await writeMovedHistory(collections, doc, fence.set, new Date());
    // And before the wakeup entries of a flow node (its dependents told it ended, ...).
    if (fence.set.version !== undefined) await recordWakeups(collections, doc, { ...doc, ...fence.set });
    // And before its webhook delivery, when that version is terminal.
    if (fence.set.version !== undefined) await recordDelivery(collections, doc, { ...doc, ...fence.set });
    // The fence records absolute values, so applying it twice is harmless.
    collections.recent.forget(fence.taskId);
    const r = await collections.tasks.updateOne(
      { _id: fence.taskId, version: fence.version },
      { $set: fence.set },
    );
    if (r.matchedCount > 0 && fence.set.status !== undefined && fence.set.updatedAt !== undefined) {
      // Timed by its dead writer, written now: a recount under way may have missed it (docs/stats.md).
      collections.countWriter.changed(doc.type, doc.status, fence.set.status, fence.set.updatedAt);
      collections.countWriter.requestRecount('a stale task fence was rolled forward');
    }
    // A fence that does not raise the version (the bucket backfill's) would stand in the way of
    // that version's next change until swept: once applied, it is removed.
    if (fence.set.version === undefined)
      await collections.fences.deleteOne({ _id: fenceId, 'set.version': { $exists: false } });
    return;
  }
  await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
}
