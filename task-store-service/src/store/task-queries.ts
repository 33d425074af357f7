/** Reads: one task, the list pages' filter (list-pages.ts walks it), stats, and what the dispatcher sweeps for. */
import { HOLD_REASONS, TASK_STATUSES, type ListParams, type Stats, type TaskStatus } from '@tasks/contracts';
import type { Filter } from 'mongodb';
import { AppError } from '../app-error.js';
import type { Collections } from './collections.js';
import { decodeCursor } from './cursor.js';
import type { SummaryDoc, TaskDoc } from './documents.js';
import { servedTypes } from './executors.js';
import { labelFilter, labelsOf } from './task-labels.js';

export async function getTask(collections: Collections, id: string): Promise<TaskDoc> {
  const doc = await collections.tasks.findOne({ _id: id });
  if (!doc) throw new AppError('TASK_NOT_FOUND', `no task with id ${id}`, { id });
  return doc;
}

/**
 * One flat document (docs/mongodb-provisioning.md, "Query shapes"): `status`, `type` and one
 * label as plain equalities, which FerretDB pushes down to its indexes (from inside an `$and` it
 * pushes nothing, and read every task); the range on createdAt, the cursor's `$or` and the other
 * labels (`$and`, task-labels.ts) are checked on what the equalities return.
 * On MongoDB the same filter is a bounded scan of list_by_status_type (or the index for the
 * fields given), in sort order.
 */
export function listFilter(p: ListParams): Filter<TaskDoc> {
  const filter: Filter<TaskDoc> = {};
  if (p.status) filter.status = p.status;
  if (p.type) filter.type = p.type;
  Object.assign(filter, labelFilter(listLabels(p)));
  if (p.createdAfter || p.createdBefore) {
    filter.createdAt = {
      ...(p.createdAfter && { $gt: new Date(p.createdAfter) }),
      ...(p.createdBefore && { $lt: new Date(p.createdBefore) }),
    };
  }
  if (p.cursor) {
    const cur = decodeCursor(p.cursor);
    filter.$or = [{ createdAt: { $lt: cur.createdAt } }, { createdAt: cur.createdAt, _id: { $lt: cur.id } }];
  }
  return filter;
}

/** The labels a list asks for (tags, then metadata by key). */
export function listLabels(p: Pick<ListParams, 'tags' | 'metadata'>): string[] {
  return labelsOf(p.tags, p.metadata);
}

/**
 * Stats by scanning every task: what tasks.stats did before the counts were kept (docs/stats.md),
 * now only until the first recount of a new or upgraded database has written the base.
 */
export async function scanStats(collections: Collections): Promise<Stats> {
  const groups = await collections.tasks
    .aggregate<{ _id: { status: TaskStatus; type: string }; n: number }>([
      { $group: { _id: { status: '$status', type: '$type' }, n: { $sum: 1 } } },
    ])
    .toArray();
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  const byType: Stats['byType'] = {};
  for (const g of groups) {
    byStatus[g._id.status] += g.n;
    const t = (byType[g._id.type] ??= {});
    t[g._id.status] = (t[g._id.status] ?? 0) + g.n;
  }
  const since = new Date(Date.now() - 60_000);
  const finishedSince = (status: TaskStatus) =>
    collections.tasks.countDocuments({ status, finishedAt: { $gte: since } });
  const [succeededLastMinute, failedLastMinute, served] = await Promise.all([
    finishedSince('succeeded'),
    finishedSince('failed'),
    servedTypes(collections),
  ]);
  const unservedTypes = Object.entries(byType)
    .filter(([type, counts]) => (counts.queued ?? 0) > 0 && !served.has(type))
    .map(([type, counts]) => ({ type, queued: counts.queued ?? 0 }));
  return {
    byStatus,
    byType,
    succeededLastMinute,
    failedLastMinute,
    unservedTypes,
  };
}

/** The sweeps' reads carry summaries: the dispatcher needs ids, versions and due times, never payloads. */
const SUMMARY = { projection: { payloadJson: 0, resultJson: 0, history: 0 } } as const;

export function listExpiredLeases(collections: Collections, limit: number): Promise<SummaryDoc[]> {
  return collections.tasks
    .find({ status: 'running', leaseExpiresAt: { $lt: new Date() } }, SUMMARY)
    .sort({ leaseExpiresAt: 1 })
    .limit(limit)
    .toArray();
}

/**
 * Queued tasks of one type that have been due, and unchanged, for longer than `olderThanMs`,
 * oldest first, not held: their message may be lost. Filtered on `status` and `type` by equality (what
 * FerretDB pushes down to SQL); the rest is checked on the queued tasks of that one type.
 */
export function listStale(
  collections: Collections,
  type: string,
  olderThanMs: number,
  limit: number,
): Promise<SummaryDoc[]> {
  const before = new Date(Date.now() - olderThanMs);
  return collections.tasks
    .find(
      // A held task has no message by design (flow-control.ts): it is published when released.
      {
        status: 'queued',
        type,
        runAt: { $lte: before },
        updatedAt: { $lte: before },
        heldBy: { $nin: HOLD_REASONS },
      },
      SUMMARY,
    )
    .sort({ runAt: 1 })
    .limit(limit)
    .toArray();
}
