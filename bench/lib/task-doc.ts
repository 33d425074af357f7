/**
 * A task document as the store writes it (task-creation.ts queuedTaskDoc; the type is the store's
 * TaskDoc), for scenarios that write to the store's collection directly with the driver
 * (history.ts writes them). list-scaling checks through the gateway that the store reads them back.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import {
  bucketOf,
  hourOf,
  nodesOf,
  queuedTaskDoc,
  type BucketNodeDoc,
  type TaskDoc,
} from '@tasks/task-store-service';

/** The store's own document type: a change to its shape fails to compile here. */
export type BenchTaskDoc = TaskDoc;

/** A queued task, as tasks.create writes it. */
export function queuedDoc(
  type: string,
  createdAt: Date,
  payload: unknown = {},
  kind: BenchTaskDoc['kind'] = 'io',
): BenchTaskDoc {
  return queuedTaskDoc(
    {
      _id: randomUUID(),
      type,
      kind,
      payloadJson: JSON.stringify(payload),
      priority: 0,
      maxAttempts: 3,
      timeoutMs: 10_000,
      runAt: createdAt,
      idempotencyKey: null,
    },
    createdAt,
  );
}

/** A task that ran once and ended with `status` 40 ms after it was created (claim, then the outcome). */
export function endedDoc(
  type: string,
  createdAt: Date,
  status: 'succeeded' | 'failed' | 'cancelled',
  kind: BenchTaskDoc['kind'] = 'io',
): BenchTaskDoc {
  const d = queuedDoc(type, createdAt, { n: createdAt.getTime() % 1000 }, kind);
  const started = new Date(createdAt.getTime() + 20);
  const finished = new Date(createdAt.getTime() + 40);
  const error = status === 'failed' ? { code: 'BENCH_FAILURE', message: 'failed for the benchmark' } : null;
  return {
    ...d,
    status,
    attempts: status === 'cancelled' ? 0 : 1,
    resultJson: status === 'succeeded' ? '{}' : null,
    error,
    startedAt: status === 'cancelled' ? null : started,
    finishedAt: finished,
    // The retention sweeper's key: without it the store would backfill every history task
    // (finished-hour-backfill.ts) in the middle of the measurement.
    finishedHour: hourOf(finished.getTime()),
    updatedAt: finished,
    changedBucket: bucketOf(finished.getTime()),
    history: [
      ...d.history,
      ...(status === 'cancelled'
        ? []
        : [{ status: 'running' as const, at: started, by: 'bench-executor', attempt: 1 }]),
      {
        status,
        at: finished,
        by: status === 'cancelled' ? 'api' : 'bench-executor',
        attempt: 1,
        ...(error && { error }),
      },
    ],
    version: status === 'cancelled' ? 2 : 3,
  };
}

/**
 * What the store does before it writes tasks (bucket-tree.ts): the list-bucket tree nodes these
 * tasks need, so that list pages find them. Nodes that exist already are left as they are.
 */
export async function recordBuckets(
  nodes: Collection<BucketNodeDoc>,
  docs: readonly TaskDoc[],
): Promise<void> {
  const wanted = nodesOf(docs.map((d) => d.createdAt.getTime()));
  await nodes.insertMany(wanted, { ordered: false }).catch((err: unknown) => {
    // Duplicates only: the nodes another batch already wrote.
    if ((err as { code?: unknown }).code !== 11000) throw err;
  });
}
