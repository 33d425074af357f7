/**
 * A store with history in it, fast: finished tasks written straight into the store's database
 * with the driver (insertMany, 1,000 a call, 2 in flight: about 3,000–4,000 tasks/s on FerretDB
 * here, where tasks.createMany plus running each task would take minutes for 30,000). The
 * documents are the store's own shape (task-doc.ts, typed by the store's TaskDoc), so that list
 * pages, gets and stats pay what they would pay for real history.
 *
 * writeHistory is the one place that writes tasks behind the store's back. When the store keeps
 * more per task than the task document (a list-page bucket field or bucket documents, stats
 * counters, ...), write that here too, or the benchmarks measure a store that does not exist.
 * The kept counts (docs/stats.md) learn of the history as a store learns of another that stopped
 * cleanly: writeHistory ends by leaving a stopped writer's document holding what it wrote, which a
 * running store folds into its base within a few seconds, without scanning the tasks.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { round } from './measure.js';
import type { BucketNodeDoc, CountWriterDoc, TaskCountsDoc } from '@tasks/task-store-service';
import { endedDoc, recordBuckets, type BenchTaskDoc } from './task-doc.js';

const BATCH = 1_000;
const IN_FLIGHT = 2;

export interface HistoryType {
  type: string;
  kind: BenchTaskDoc['kind'];
}

/** Built-in types of both kinds (executor-service/src/tasks/builtin), as a real history has them. */
export const BUILTIN_TYPES: HistoryType[] = [
  { type: 'noop', kind: 'io' },
  { type: 'sleep', kind: 'io' },
  { type: 'primes.count', kind: 'cpu' },
  { type: 'hash', kind: 'cpu' },
];

/**
 * Finished task i of a history of `count` spread evenly over `spanMs` before `endMs`, oldest
 * first: 80 % succeeded, 15 % failed, 5 % cancelled; the types rotate. No queued or running
 * task: those would be due, and the dispatcher would publish them again into the measurement.
 */
export function finishedTaskDoc(
  i: number,
  count: number,
  options: { types: HistoryType[]; endMs: number; spanMs: number },
): BenchTaskDoc {
  const { type, kind } = options.types[i % options.types.length]!;
  const createdAt = new Date(options.endMs - options.spanMs + Math.floor((i * options.spanMs) / count));
  const k = Math.floor(i / options.types.length) % 20;
  return endedDoc(type, createdAt, k < 16 ? 'succeeded' : k < 19 ? 'failed' : 'cancelled', kind);
}

export interface HistoryWritten {
  added: number;
  seconds: number;
  tasksPerSec: number;
}

/**
 * Writes documents `docAt(from)` … `docAt(to - 1)` into the store's database `db`. The store
 * must have created its collections and indexes first (it does at start-up).
 */
export async function writeHistory(
  db: Db,
  from: number,
  to: number,
  docAt: (i: number) => BenchTaskDoc,
): Promise<HistoryWritten> {
  const tasks = db.collection<BenchTaskDoc>('tasks');
  const bucketNodes = db.collection<BucketNodeDoc>('task_buckets');
  const t0 = performance.now();
  const counts = new Map<string, CountWriterDoc['counts'][number]>();
  let next = from;
  const worker = async () => {
    while (next < to) {
      const start = next;
      const n = Math.min(BATCH, to - start);
      next += n;
      const docs = Array.from({ length: n }, (_, k) => docAt(start + k));
      // The list pages' bucket tree first, as the store writes it (docs/list-pages.md).
      await recordBuckets(bucketNodes, docs);
      await tasks.insertMany(docs, { ordered: false });
      for (const d of docs) {
        const key = `${d.type}\u0000${d.status}`;
        const row = counts.get(key) ?? { type: d.type, status: d.status, n: 0 };
        row.n++;
        counts.set(key, row);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (counts.size > 0) {
    const now = new Date();
    await db.collection<TaskCountsDoc>('task_counts').insertOne({
      _id: `writer:bench-history-${randomUUID()}`,
      role: 'writer',
      version: 1,
      flushedAt: now,
      settledThrough: now,
      stopped: true,
      counts: [...counts.values()],
      recent: [],
      outcomes: [],
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    added: Math.max(0, to - from),
    seconds: round(seconds),
    tasksPerSec: Math.round(Math.max(0, to - from) / Math.max(seconds, 1e-3)),
  };
}
