/**
 * Tasks finished before `finishedHour` existed get it (docs/retention.md, "Limits"), once per type:
 * the sweeper runs this before it makes the type's first cursor, so an upgraded database has its
 * old finished tasks removed too. Each task is written under the fence of its current version, as
 * the bucket backfill does (bucket-backfill.ts): the version stays, the fence goes right after.
 */
import { TERMINAL_STATUSES } from '@tasks/contracts';
import { isDuplicateKey } from '../app-error.js';
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import { hourOf } from './list-buckets.js';
import { fenceTimes } from './fence-sweep.js';

const WRITES_IN_FLIGHT = 8;

/**
 * Sets finishedHour on the type's finished tasks that have none; answers how many it wrote, or
 * null when some were being changed (the caller tries again on a later pass).
 */
export async function backfillFinishedHours(collections: Collections, type: string): Promise<number | null> {
  // Not index-served beyond `type` on FerretDB (evaluated over the type's tasks), but once per type.
  const docs = await collections.tasks
    .find(
      { type, finishedHour: { $exists: false } },
      { projection: { _id: 1, status: 1, finishedAt: 1, version: 1 } },
    )
    .toArray();
  const due = docs.filter((d) => TERMINAL_STATUSES.includes(d.status) && d.finishedAt !== null);
  const done = await mapBounded(due, WRITES_IN_FLIGHT, async (t) => {
    const fenceId = `${t._id}:${t.version}`;
    const set = { finishedHour: hourOf(t.finishedAt!.getTime()) };
    try {
      await collections.fences.insertOne({
        _id: fenceId,
        taskId: t._id,
        version: t.version,
        set,
        ...fenceTimes(),
      });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    try {
      await collections.tasks.updateOne({ _id: t._id, version: t.version }, { $set: set });
    } finally {
      await collections.fences.deleteOne({ _id: fenceId });
    }
    collections.recent.forget(t._id);
    return true;
  });
  return done.every(Boolean) ? done.length : null;
}
