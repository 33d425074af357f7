/**
 * Tasks finished before `finishedHour` existed get it (docs/retention.md, "Limits"), once per
 * database: the sweeper runs this before it sweeps any type, and a marker in `retention_cursors`
 * says it is done, so later passes and start-ups cost one read. A database the store found empty
 * at start-up is marked at once (markNewDatabase): every task in it is written with finishedHour.
 * Each task is written under the fence of its current version, as the bucket backfill does
 * (bucket-backfill.ts): the version stays, the fence goes right after.
 */
import { TERMINAL_STATUSES } from '@tasks/contracts';
import { isDuplicateKey } from '../app-error.js';
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import type { TaskDoc } from './documents.js';
import { hourOf } from './list-buckets.js';
import { fenceTimes } from './fence-sweep.js';

/** The marker's `_id` in retention_cursors; its `hour` is when the backfill was done. */
export const FINISHED_HOUR_MARKER = 'backfill:finishedHour';
const BATCH = 500;
const WRITES_IN_FLIGHT = 8;

/** Whether the marker is there: every finished task has finishedHour. */
export async function finishedHoursDone(collections: Collections): Promise<boolean> {
  return (await collections.retentionCursors.findOne({ _id: FINISHED_HOUR_MARKER })) !== null;
}

/** Marks the database done when it holds no task yet (one read of at most one task). */
export async function markNewDatabase(collections: Collections): Promise<void> {
  if (await finishedHoursDone(collections)) return;
  if ((await collections.tasks.findOne({}, { projection: { _id: 1 } })) !== null) return;
  await mark(collections);
}

/**
 * Sets finishedHour on every finished task that has none, then writes the marker; answers how many
 * it wrote, or null when some were being changed (the caller tries again on a later pass).
 */
export async function backfillFinishedHours(collections: Collections): Promise<number | null> {
  // Not index-served on FerretDB (a read of every task), but once per database.
  const cursor = collections.tasks.find(
    { finishedHour: { $exists: false } },
    { projection: { _id: 1, status: 1, finishedAt: 1, version: 1 }, batchSize: BATCH },
  );
  let written = 0;
  let skipped = 0;
  try {
    let batch: Pick<TaskDoc, '_id' | 'status' | 'finishedAt' | 'version'>[] = [];
    const flush = async () => {
      const due = batch.filter((d) => TERMINAL_STATUSES.includes(d.status) && d.finishedAt !== null);
      batch = [];
      const done = await mapBounded(due, WRITES_IN_FLIGHT, (t) =>
        setFinishedHour(collections, t._id, t.version, hourOf(t.finishedAt!.getTime())),
      );
      written += done.filter(Boolean).length;
      skipped += done.filter((d) => !d).length;
    };
    for await (const d of cursor) {
      batch.push(d);
      if (batch.length === BATCH) await flush();
    }
    await flush();
  } finally {
    await cursor.close();
  }
  if (skipped > 0) return null;
  await mark(collections);
  return written;
}

async function mark(collections: Collections): Promise<void> {
  await collections.retentionCursors.replaceOne(
    { _id: FINISHED_HOUR_MARKER },
    { hour: hourOf(Date.now()), at: new Date() },
    { upsert: true },
  );
}

/** Sets one task's finishedHour under the fence of its version; false when another writer holds it. */
async function setFinishedHour(
  collections: Collections,
  id: string,
  version: number,
  finishedHour: number,
): Promise<boolean> {
  const fenceId = `${id}:${version}`;
  const set = { finishedHour };
  try {
    await collections.fences.insertOne({ _id: fenceId, taskId: id, version, set, ...fenceTimes() });
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
  try {
    await collections.tasks.updateOne({ _id: id, version }, { $set: set });
  } finally {
    await collections.fences.deleteOne({ _id: fenceId });
  }
  collections.recent.forget(id);
  return true;
}
