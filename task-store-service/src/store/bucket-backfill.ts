/**
 * Start-up backfill (docs/list-pages.md, "Upgrading"): tasks written before list buckets existed
 * get their `bucket` and `hour` and the bucket tree its nodes, so that an upgraded database lists every task.
 * It runs before the store serves requests and once per database: a marker in task_buckets says
 * it is done, so later start-ups cost one read.
 *
 * Each task is written under the fence of its current version (docs/consistency.md), as every
 * change of a task is: FerretDB writes a whole document, so an unfenced write could undo a
 * concurrent transition made by another replica. The fence's `set` has no version — the task's
 * version does not change (its outbox entry and work message stay valid) — and the fence is
 * deleted right after the write, so a writer that meets it waits a few milliseconds.
 */
import type { Logger } from 'pino';
import { isDuplicateKey } from '../app-error.js';
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import { bucketOf, hourOf } from './list-buckets.js';

const MARKER = 'backfill-done';
const BATCH = 500;
const WRITES_IN_FLIGHT = 8;
/** Passes over tasks that were being changed (their fence taken) during the previous one. */
const MAX_PASSES = 20;
const PROGRESS_EVERY_MS = 5_000;

/** Gives every task without list keys its bucket and hour; returns how many it wrote. */
export async function backfillBuckets(collections: Collections, log: Logger): Promise<number> {
  if (await collections.taskBuckets.findOne({ _id: MARKER })) return 0;
  let written = 0;
  let lastLine = Date.now();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let skipped = 0;
    // Not an index-served query on FerretDB (a read of every task), but once per database.
    const cursor = collections.tasks.find(
      { hour: { $exists: false } },
      { projection: { _id: 1, createdAt: 1, version: 1 }, batchSize: BATCH },
    );
    for (;;) {
      const batch: { _id: string; createdAt: Date; version: number }[] = [];
      while (batch.length < BATCH && (await cursor.hasNext())) batch.push((await cursor.next())!);
      if (batch.length === 0) break;
      await collections.buckets.record(batch.map((t) => t.createdAt.getTime()));
      const done = await mapBounded(batch, WRITES_IN_FLIGHT, (t) => setBucket(collections, t));
      written += done.filter(Boolean).length;
      skipped += done.filter((d) => !d).length;
      if (Date.now() - lastLine >= PROGRESS_EVERY_MS) {
        log.info({ written }, 'list buckets: backfilling tasks written before them');
        lastLine = Date.now();
      }
    }
    await cursor.close();
    if (skipped === 0) {
      await collections.taskBuckets
        .insertOne({ _id: MARKER, parent: MARKER, level: 'month', start: Date.now() })
        .catch((err: unknown) => {
          if (!isDuplicateKey(err)) throw err;
        });
      if (written > 0) log.info({ written }, 'list buckets: backfill done');
      return written;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log.warn({ written }, 'list buckets: tasks kept changing during the backfill; the next start-up goes on');
  return written;
}

/** Sets one task's bucket and hour under the fence of its version; false when another writer holds it. */
async function setBucket(
  collections: Collections,
  t: { _id: string; createdAt: Date; version: number },
): Promise<boolean> {
  const fenceId = `${t._id}:${t.version}`;
  const keys = { bucket: bucketOf(t.createdAt.getTime()), hour: hourOf(t.createdAt.getTime()) };
  try {
    await collections.fences.insertOne({
      _id: fenceId,
      taskId: t._id,
      version: t.version,
      set: keys,
      at: new Date(),
    });
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
  try {
    await collections.tasks.updateOne({ _id: t._id, version: t.version }, { $set: keys });
  } finally {
    await collections.fences.deleteOne({ _id: fenceId });
  }
  collections.recent.forget(t._id);
  return true;
}
