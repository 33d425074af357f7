/**
 * A task document exactly as the store writes it (task-store-service/src/store/documents.ts,
 * TaskDoc, and task-creation.ts buildTask), for scenarios that write to the store's collection
 * directly with the driver. list-scaling checks through the gateway that the store reads them back.
 */
import { randomUUID } from 'node:crypto';

export type Status = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface BenchTaskDoc {
  _id: string;
  type: string;
  kind: 'cpu' | 'io';
  payloadJson: string;
  status: Status;
  priority: number;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  runAt: Date;
  idempotencyKey: string | null;
  resultJson: string | null;
  error: { code: string; message: string } | null;
  progress: number | null;
  progressMessage: string | null;
  leaseOwner: string | null;
  leaseId: string | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  history: {
    status: Status;
    at: Date;
    by: string;
    attempt: number;
    error?: { code: string; message: string };
  }[];
  version: number;
}

/** A queued task, as tasks.create writes it. */
export function queuedDoc(type: string, createdAt: Date, payload: unknown = {}): BenchTaskDoc {
  return {
    _id: randomUUID(),
    type,
    kind: 'io',
    payloadJson: JSON.stringify(payload),
    status: 'queued',
    priority: 0,
    attempts: 0,
    maxAttempts: 3,
    timeoutMs: 10_000,
    runAt: createdAt,
    idempotencyKey: null,
    resultJson: null,
    error: null,
    progress: null,
    progressMessage: null,
    leaseOwner: null,
    leaseId: null,
    leaseExpiresAt: null,
    createdAt,
    updatedAt: createdAt,
    startedAt: null,
    finishedAt: null,
    history: [{ status: 'queued', at: createdAt, by: 'create', attempt: 0 }],
    version: 1,
  };
}

/** A task that ran once and ended with `status` 40 ms after it was created (claim, then the outcome). */
export function endedDoc(
  type: string,
  createdAt: Date,
  status: 'succeeded' | 'failed' | 'cancelled',
): BenchTaskDoc {
  const d = queuedDoc(type, createdAt, { n: createdAt.getTime() % 1000 });
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
    updatedAt: finished,
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

/** The store's task indexes (task-store-service/src/store/collections.ts), so writes maintain the same. */
export const STORE_TASK_INDEXES = [
  { key: { createdAt: -1, _id: -1 }, name: 'list_all' },
  { key: { status: 1, createdAt: -1, _id: -1 }, name: 'list_by_status' },
  { key: { type: 1, createdAt: -1, _id: -1 }, name: 'list_by_type' },
  { key: { status: 1, type: 1, createdAt: -1, _id: -1 }, name: 'list_by_status_type' },
  { key: { status: 1, leaseExpiresAt: 1 }, name: 'expired_leases' },
  { key: { status: 1, finishedAt: -1 }, name: 'recent_outcomes' },
] as const;
