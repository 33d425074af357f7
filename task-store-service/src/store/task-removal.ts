/**
 * Removing finished tasks (docs/retention.md). A task is deleted only at the version the sweeper
 * read, under that version's fence, so a retry (or any change) racing with the removal either
 * comes first — the sweeper's fence or delete then finds nothing — or finds the task gone
 * (TASK_NOT_FOUND). The counts follow through the base's fence: no recount counts while tasks are
 * removed, so a removed task is either in a recount's count and not yet subtracted, or neither.
 */
import { performance } from 'node:perf_hooks';
import { TERMINAL_STATUSES } from '@tasks/contracts';
import { isDuplicateKey } from '../app-error.js';
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import { withBaseFence } from './count-recount.js';
import { removeExpiredKey } from './idempotency-keys.js';
import { SKEW_MARGIN_MS } from './count-recount.js';
import type { FenceDoc, TaskDoc } from './documents.js';
import { deleteHistoryOf } from './task-history.js';
import { deleteDeliveriesOf } from './webhooks.js';
import { fenceTimes } from './fence-sweep.js';

/**
 * Data other parts of the store keep per task, removed with it: called with the id of a task whose
 * fence the sweeper holds, just before the task is deleted (so nothing is left behind a task that
 * is gone, and a task the budget leaves in place keeps all of its data). Each must be repeatable:
 * a removal that stops part way is tried again on a later pass.
 */
export type DependentDataRemover = (collections: Collections, taskIds: string[]) => Promise<unknown>;

/**
 * What goes with a removed task besides its document, idempotency key and counts: each per-task
 * collection — its history moved out of the document (docs/history.md) and its webhook
 * deliveries (docs/webhooks.md).
 */
export const DEPENDENT_DATA_REMOVERS: readonly DependentDataRemover[] = [deleteHistoryOf, deleteDeliveriesOf];

/** The fields the sweeper reads of a candidate. */
export type RemovalCandidate = Pick<
  TaskDoc,
  '_id' | 'type' | 'status' | 'version' | 'finishedAt' | 'finishedHour' | 'idempotencyKey' | 'createdAt'
> &
  Pick<Partial<TaskDoc>, 'flowId'>;

export const CANDIDATE_PROJECTION = {
  type: 1,
  status: 1,
  version: 1,
  finishedAt: 1,
  finishedHour: 1,
  idempotencyKey: 1,
  createdAt: 1,
  flowId: 1,
} as const;

/** Tasks removed under one set of fences: short enough that the delete follows its fence quickly. */
const CHUNK = 50;
const IN_FLIGHT = 8;
/**
 * The delete must follow the fence well within the 5 s after which a waiting caller would roll the
 * fence forward and go on (fenced-update.ts): past this, the task is left for a later pass.
 */
const DELETE_BUDGET_MS = 2_500;

export type Removability = 'removable' | 'kept' | 'not yet';

/**
 * Whether a task read by the sweeper may go: finished before `cutoffMs`, and, when it was created
 * with an idempotency key, only once that key has expired (so a live key never names a removed
 * task). Flow nodes are kept with their flow.
 */
export function removability(doc: RemovalCandidate, cutoffMs: number, keyCutoffMs: number): Removability {
  if (doc.flowId !== undefined) return 'kept';
  if (!TERMINAL_STATUSES.includes(doc.status) || doc.finishedAt === null) return 'not yet';
  if (doc.finishedAt.getTime() > cutoffMs) return 'not yet';
  if (doc.idempotencyKey !== null && doc.createdAt.getTime() > keyCutoffMs) return 'not yet';
  return 'removable';
}

/**
 * Removes the given finished tasks, each at the version read; answers those removed. Nothing when
 * a recount holds the base's fence (the next pass tries again). `flushCounts` writes this
 * process's count deltas before the base's fence is let go.
 */
export async function removeTasks(
  collections: Collections,
  docs: readonly RemovalCandidate[],
  flushCounts: () => Promise<void>,
  removers: readonly DependentDataRemover[] = DEPENDENT_DATA_REMOVERS,
): Promise<RemovalCandidate[]> {
  if (docs.length === 0) return [];
  const r = await withBaseFence(
    collections,
    async () => {
      const removed: RemovalCandidate[] = [];
      try {
        for (let i = 0; i < docs.length; i += CHUNK)
          removed.push(...(await removeChunk(collections, docs.slice(i, i + CHUNK), removers)));
      } finally {
        if (removed.length > 0) await flushCounts();
      }
      return removed;
    },
    // A recount that is asked for goes first: removals wait for its base.
    { purpose: 'removal', decline: (d) => d.base === null || d.requests.length > 0 },
  );
  return r.done ? r.value : [];
}

async function removeChunk(
  collections: Collections,
  docs: readonly RemovalCandidate[],
  removers: readonly DependentDataRemover[],
): Promise<RemovalCandidate[]> {
  const now = new Date();
  const taken = performance.now();
  // The fence of the version read: whoever else wants to change that version now waits, then
  // finds the task gone. It raises no version: a caller that finds it stale applies its (absolute,
  // harmless) values and deletes it, as for the bucket backfill's fences.
  const fenced = await Promise.all(
    docs.map(async (d) => {
      const fence: FenceDoc = {
        _id: `${d._id}:${d.version}`,
        taskId: d._id,
        version: d.version,
        set: { finishedHour: d.finishedHour ?? null },
        ...fenceTimes(now),
        removal: true,
      };
      try {
        await collections.inserts.fences.insert(fence);
        return d;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      // A removal fence left by a pass that stopped (a killed store, the budget spent) would hold
      // the task until fences are swept: no other removal runs (we hold the base's fence), so it
      // is taken afresh. Any other fence: the task is being changed, a later pass sees the outcome.
      const left = await collections.fences.deleteOne({ _id: fence._id, removal: true });
      if (left.deletedCount === 0) return null;
      return collections.fences.insertOne(fence).then(
        () => d,
        (err: unknown) => {
          if (isDuplicateKey(err)) return null;
          throw err;
        },
      );
    }),
  );
  const mine = fenced.filter((d): d is RemovalCandidate => d !== null);
  if (mine.length === 0) return [];
  // Its key has expired (removability); removed only while this task still holds it, under the
  // key's fence, so a newer holder of the key stays.
  await mapBounded(
    mine.filter((d) => d.idempotencyKey !== null),
    IN_FLIGHT,
    async (d) => {
      const key = await collections.idempotency.findOne({ _id: d.idempotencyKey!, taskId: d._id });
      if (key) await removeExpiredKey(collections.idempotency, collections.fences, key);
    },
  );
  // Timed before any cut a later recount takes (clock skew included): the count it makes will not
  // hold these tasks, so their -1 belongs to the part it folds (docs/retention.md).
  const at = new Date(Date.now() - SKEW_MARGIN_MS);
  const gone = await mapBounded(mine, IN_FLIGHT, async (d) => {
    if (performance.now() - taken > DELETE_BUDGET_MS) return false;
    // Its other data first, task by task: a task the budget leaves in place (a retry may get it
    // next) keeps everything, and a pass that stops between the two finds the task again.
    for (const remove of removers) await remove(collections, [d._id]);
    const r = await collections.tasks.deleteOne({ _id: d._id, version: d.version, status: d.status });
    collections.recent.forget(d._id);
    if (r.deletedCount === 0) return false;
    collections.countWriter.removed(d.type, d.status, at);
    return true;
  });
  return mine.filter((_, i) => gone[i]);
}
