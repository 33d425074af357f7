import type { Collection, Db } from 'mongodb';
import type { FenceDoc, IdempotencyDoc, OutboxDoc, TaskDoc, TaskTypeDoc } from './documents.js';

export interface Collections {
  tasks: Collection<TaskDoc>;
  fences: Collection<FenceDoc>;
  outbox: Collection<OutboxDoc>;
  idempotency: Collection<IdempotencyDoc>;
  taskTypes: Collection<TaskTypeDoc>;
}

export function collections(db: Db): Collections {
  return {
    tasks: db.collection<TaskDoc>('tasks'),
    fences: db.collection<FenceDoc>('task_fences'),
    outbox: db.collection<OutboxDoc>('task_outbox'),
    idempotency: db.collection<IdempotencyDoc>('task_idempotency'),
    taskTypes: db.collection<TaskTypeDoc>('task_types'),
  };
}

/**
 * Indexes behind every query the store makes: list pages (newest first, optionally by status
 * and/or type), lease sweeps, recent outcomes, and the outbox/fence sweeps. Creating an index
 * that exists is a no-op, so every replica runs this at start-up.
 */
export async function ensureIndexes(c: Collections): Promise<void> {
  await c.tasks.createIndexes([
    { key: { createdAt: -1, _id: -1 }, name: 'list_all' },
    { key: { status: 1, createdAt: -1, _id: -1 }, name: 'list_by_status' },
    { key: { type: 1, createdAt: -1, _id: -1 }, name: 'list_by_type' },
    { key: { status: 1, type: 1, createdAt: -1, _id: -1 }, name: 'list_by_status_type' },
    { key: { status: 1, leaseExpiresAt: 1 }, name: 'expired_leases' },
    { key: { status: 1, finishedAt: -1 }, name: 'recent_outcomes' },
  ]);
  await c.outbox.createIndex({ at: 1 }, { name: 'by_age' });
  await c.fences.createIndex({ at: 1 }, { name: 'by_age' });
}
