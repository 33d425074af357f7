/**
 * Start-up backfill (docs/list-pages.md, "Upgrading"): tasks written before list buckets existed
 * get their `bucket` and `hour` and the bucket tree its nodes, and tasks without a list slot in a
 * bucket that has slots get the loose one, so that an upgraded database lists every task.
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
import { LOOSE_SLOT } from './list-slots.js';
import { fenceTimes } from './fence-sweep.js';

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
    for await (const batch of unlisted(collections)) {
      await collections.buckets.record(batch.map((t) => t.createdAt.getTime()));
      const done = await mapBounded(batch, WRITES_IN_FLIGHT, (t) => setBucket(collections, t));
      written += done.filter(Boolean).length;
      skipped += done.filter((d) => !d).length;
      if (Date.now() - lastLine >= PROGRESS_EVERY_MS) {
        log.info({ written }, 'list buckets: backfilling tasks written before them');
        lastLine = Date.now();
      }
    }
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

type Unlisted = { _id: string; createdAt: Date; version: number };

/**
 * The tasks a list page would miss, in batches: those written before buckets existed, and those
 * without `listSlot` in a bucket that has slots (written by a replica still on the version
 * before slots, during a rolling upgrade): a bucket with slots is read slot by slot.
 */
async function* unlisted(collections: Collections): AsyncGenerator<Unlisted[]> {
  const projection = { _id: 1, createdAt: 1, version: 1, listSlot: 1 };
  // Not an index-served query on FerretDB (a read of every task), but once per database.
  const cursor = collections.tasks.find({ hour: { $exists: false } }, { projection, batchSize: BATCH });
  try {
    for (;;) {
      const batch: Unlisted[] = [];
      while (batch.length < BATCH && (await cursor.hasNext())) batch.push((await cursor.next())!);
      if (batch.length === 0) break;
      yield batch;
    }
  } finally {
    await cursor.close();
  }
  const slotted = await collections.taskBuckets
    .find({ level: 'slot' }, { projection: { parent: 1 } })
    .toArray();
  for (const parent of new Set(slotted.map((n) => n.parent))) {
    const bucket = Number(parent.slice(2));
    const tasks = await collections.tasks.find({ bucket }, { projection }).toArray();
    const missing = tasks.filter((t) => t.listSlot === undefined);
    for (let i = 0; i < missing.length; i += BATCH) yield missing.slice(i, i + BATCH);
  }
}

/** Sets one task's bucket, hour and (loose) list slot under the fence of its version; false when another writer holds it. */
async function setBucket(
  collections: Collections,
  t: { _id: string; createdAt: Date; version: number },
): Promise<boolean> {
  const fenceId = `${t._id}:${t.version}`;
  const keys = {
    bucket: bucketOf(t.createdAt.getTime()),
    hour: hourOf(t.createdAt.getTime()),
    listSlot: LOOSE_SLOT,
  };
  try {
    await collections.fences.insertOne({
      _id: fenceId,
      taskId: t._id,
      version: t.version,
      set: keys,
      ...fenceTimes(),
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
