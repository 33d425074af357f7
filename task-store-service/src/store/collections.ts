import type { RetentionDefaults } from '@tasks/contracts';
import type { Collection, Db, Document, IndexDescription } from 'mongodb';
import type {
  DeadLetterDoc,
  ExecutorDoc,
  FenceDoc,
  FlowDoc,
  FlowWakeupDoc,
  HistoryBlockDoc,
  HoldDoc,
  IdempotencyDoc,
  OutboxDoc,
  RateSlotDoc,
  RetentionCursorDoc,
  SlotDoc,
  ScheduleDoc,
  ScheduleRunDoc,
  TaskCountsDoc,
  TaskDoc,
  TaskTypeDoc,
  TypeSettingsDoc,
  WebhookClaimDoc,
  WebhookDeliveryDoc,
} from './documents.js';
import { BulkInserts } from './bulk-inserts.js';
import { BucketTree, type BucketNodeDoc } from './bucket-tree.js';
import { CountWriter } from './count-writer.js';
import { RecentTasks, type RecentTasksOptions } from './recent-tasks.js';
import { TypeSettingsCache } from './type-settings.js';
import { DEFAULT_WEBHOOK_POLICY, type WebhookPolicy } from './webhook-policy.js';

/**
 * The store's collections, the task versions this process wrote last (a read-saving guess), and
 * the inserts that concurrent calls share (one insertMany per turn of the event loop), this
 * process's share of the task counts (docs/stats.md), and the bucket tree list pages walk (with
 * the buckets this process knows exist). Not every member is a collection: `settings`,
 * `recent`, `buckets`, `inserts` and `countWriter` are in-process helpers in front of them, and
 * `retention` and `webhookPolicy` are the store's policies, passed along with them.
 */
export interface Collections {
  tasks: Collection<TaskDoc>;
  fences: Collection<FenceDoc>;
  outbox: Collection<OutboxDoc>;
  idempotency: Collection<IdempotencyDoc>;
  taskTypes: Collection<TaskTypeDoc>;
  deadLetters: Collection<DeadLetterDoc>;
  executors: Collection<ExecutorDoc>;
  taskCounts: Collection<TaskCountsDoc>;
  taskBuckets: Collection<BucketNodeDoc>;
  flows: Collection<FlowDoc>;
  flowWakeups: Collection<FlowWakeupDoc>;
  /** Idempotency keys of flows (`taskId` holds the flow's id): apart from tasks' keys. */
  flowIdempotency: Collection<IdempotencyDoc>;
  typeSettings: Collection<TypeSettingsDoc>;
  holds: Collection<HoldDoc>;
  slots: Collection<SlotDoc>;
  rateSlots: Collection<RateSlotDoc>;
  /** Each type's settings as this process last read them (docs/flow-control.md). */
  settings: TypeSettingsCache;
  schedules: Collection<ScheduleDoc>;
  scheduleRuns: Collection<ScheduleRunDoc>;
  /** Task history moved out of the task documents, in blocks (task-history.ts, docs/history.md). */
  history: Collection<HistoryBlockDoc>;
  /** Completion webhooks (docs/webhooks.md): one document per terminal version of a task with one. */
  webhookDeliveries: Collection<WebhookDeliveryDoc>;
  webhookClaims: Collection<WebhookClaimDoc>;
  webhookPolicy: Readonly<WebhookPolicy>;
  recent: RecentTasks;
  /** Where the retention sweeper goes on (docs/retention.md). */
  retentionCursors: Collection<RetentionCursorDoc>;
  /** The store's retention defaults (docs/retention.md): creations read the key window from it. */
  retention: Readonly<RetentionDefaults>;
  buckets: BucketTree;
  inserts: {
    tasks: BulkInserts<TaskDoc>;
    fences: BulkInserts<FenceDoc>;
    outbox: BulkInserts<OutboxDoc>;
    history: BulkInserts<HistoryBlockDoc>;
  };
  countWriter: CountWriter;
}

/** TASK_RETENTION_SECONDS and IDEMPOTENCY_KEY_TTL_SECONDS when unset (docs/retention.md). */
export const DEFAULT_RETENTION: Readonly<RetentionDefaults> = Object.freeze({
  defaultSeconds: 604_800,
  idempotencyKeyTtlSeconds: 86_400,
});

/**
 * The store's collections on `db`, with the in-process helpers in front of them (recent tasks,
 * bucket tree, bulk inserts) and its policies. Opening them reads and writes nothing.
 */
export function openCollections(
  db: Db,
  recent: RecentTasksOptions = {},
  retention: Readonly<RetentionDefaults> = DEFAULT_RETENTION,
  webhookPolicy: Readonly<WebhookPolicy> = DEFAULT_WEBHOOK_POLICY,
): Collections {
  const tasks = db.collection<TaskDoc>('tasks');
  const fences = db.collection<FenceDoc>('task_fences');
  const outbox = db.collection<OutboxDoc>('task_outbox');
  const taskBuckets = db.collection<BucketNodeDoc>('task_buckets');
  const typeSettings = db.collection<TypeSettingsDoc>('task_type_settings');
  const history = db.collection<HistoryBlockDoc>('task_history');
  return {
    typeSettings,
    settings: new TypeSettingsCache(typeSettings, retention.defaultSeconds),
    retention,
    retentionCursors: db.collection<RetentionCursorDoc>('retention_cursors'),
    holds: db.collection<HoldDoc>('task_holds'),
    slots: db.collection<SlotDoc>('task_type_slots'),
    rateSlots: db.collection<RateSlotDoc>('task_rate_slots'),
    recent: new RecentTasks(recent),
    buckets: new BucketTree(taskBuckets),
    taskBuckets,
    countWriter: new CountWriter(),
    inserts: {
      tasks: new BulkInserts(tasks),
      fences: new BulkInserts(fences),
      outbox: new BulkInserts(outbox),
      history: new BulkInserts(history),
    },
    history,
    tasks,
    fences,
    outbox,
    idempotency: db.collection<IdempotencyDoc>('task_idempotency'),
    taskTypes: db.collection<TaskTypeDoc>('task_types'),
    deadLetters: db.collection<DeadLetterDoc>('task_dead_letters'),
    executors: db.collection<ExecutorDoc>('task_executors'),
    taskCounts: db.collection<TaskCountsDoc>('task_counts'),
    flows: db.collection<FlowDoc>('flows'),
    flowWakeups: db.collection<FlowWakeupDoc>('flow_wakeups'),
    flowIdempotency: db.collection<IdempotencyDoc>('flow_idempotency'),
    schedules: db.collection<ScheduleDoc>('schedules'),
    scheduleRuns: db.collection<ScheduleRunDoc>('schedule_runs'),
    webhookDeliveries: db.collection<WebhookDeliveryDoc>('webhook_deliveries'),
    webhookClaims: db.collection<WebhookClaimDoc>('webhook_claims'),
    webhookPolicy,
  };
}

/**
 * Per collection, every field a query of the store filters on by equality (read from store/*.ts;
 * keep it in step with them). FerretDB 1.24 pushes exactly these filters down to PostgreSQL, and
 * dev-mongo's prepareDatabase gives each an index there (docs/mongodb-provisioning.md). The store
 * itself speaks only MongoDB and never reads this.
 */
export const EQUALITY_FILTERED_FIELDS = {
  // getTask, applyChange, claims and outcomes by _id (+ version); list pages by bucket, list slot or hour
  // (and status/type), small filters and stale/lease sweeps by status/type, a flow's nodes by flowId
  // and the deadline sweep by status and hasExpiry; a tag or metadata filter by one label (an
  // array: `@>` matches an array holding the value, so the same GIN index serves it), a list page's
  // bucket or hour by one label scoped to its hour; resuming event streams by changedBucket
  // (with status/type); the retention sweeper by type and finishedHour
  tasks: [
    '_id',
    'status',
    'type',
    'bucket',
    'hour',
    'listSlot',
    'flowId',
    'hasExpiry',
    'labels',
    'hourLabels',
    'changedBucket',
    'finishedHour',
  ],
  // list pages walk the bucket tree by parent
  task_buckets: ['_id', 'parent'],
  // fences by _id; the sweep by the minute they were taken (fence-sweep.ts)
  task_fences: ['_id', 'sweepMinute'],
  // a page of one task's history reads its blocks by _id; retention removes them by taskId
  task_history: ['_id', 'taskId'],
  task_outbox: ['_id'],
  // keys by _id; the retention sweeper by hour (docs/retention.md)
  task_idempotency: ['_id', 'hour'],
  task_types: ['_id'],
  task_dead_letters: ['_id'],
  task_executors: ['_id'],
  // writer documents by _id (+ version), the base by _id; stats reads the whole (small) collection
  task_counts: ['_id'],
  // one flow by _id; the flow list by state (created), its createdAt range sorted in the wire server
  flows: ['_id', 'state'],
  flow_wakeups: ['_id'],
  flow_idempotency: ['_id', 'hour'],
  retention_cursors: ['_id'],
  // a type's settings by _id; its held tasks and its slots by type
  task_type_settings: ['_id'],
  task_holds: ['_id', 'type'],
  task_type_slots: ['_id', 'type'],
  task_rate_slots: ['_id', 'key'],
  // one schedule (and its run state) by _id; the keepers read both whole (a few documents)
  schedules: ['_id'],
  schedule_runs: ['_id'],
  // one delivery by _id, a task's by taskId, the due ones by state (pending; nextAttemptAt in the wire server)
  webhook_deliveries: ['_id', 'taskId', 'state'],
  webhook_claims: ['_id'],
} as const satisfies Record<string, readonly string[]>;

/** The task collection's indexes (benchmarks that write the collection directly create the same). */
export const TASK_INDEXES: IndexDescription[] = [
  { key: { createdAt: -1, _id: -1 }, name: 'list_all' },
  { key: { status: 1, createdAt: -1, _id: -1 }, name: 'list_by_status' },
  { key: { type: 1, createdAt: -1, _id: -1 }, name: 'list_by_type' },
  { key: { status: 1, type: 1, createdAt: -1, _id: -1 }, name: 'list_by_status_type' },
  // A crowded bucket's page reads one list slot (at most SLOT_SIZE tasks) at a time.
  { key: { listSlot: 1, createdAt: -1, _id: -1 }, name: 'list_by_slot' },
  { key: { status: 1, leaseExpiresAt: 1 }, name: 'expired_leases' },
  { key: { status: 1, finishedAt: -1 }, name: 'recent_outcomes' },
  { key: { flowId: 1 }, name: 'flow_nodes' },
  { key: { hasExpiry: 1, status: 1 }, name: 'deadlines' },
  { key: { changedBucket: 1 }, name: 'recent_changes' },
  // Multikey: one entry per label (docs/tags-and-bulk-actions.md); a rare filter's probe and query,
  // and list pages' buckets and hours by the label scoped to the hour.
  { key: { labels: 1, createdAt: -1, _id: -1 }, name: 'list_by_label' },
  { key: { hourLabels: 1, createdAt: -1, _id: -1 }, name: 'list_by_hour_label' },
  { key: { type: 1, finishedHour: 1 }, name: 'retention' },
];

/** What ensureIndexes found and did, for the start-up log. */
export interface IndexReport {
  /** FerretDB names itself in buildInfo (`ferretdbVersion`); anything else is taken for MongoDB. */
  server: 'mongodb' | 'ferretdb';
  created: string[];
  dropped: string[];
}

/**
 * The secondary indexes behind the store's queries (list pages newest first, optionally by
 * status and/or type, lease sweeps, recent outcomes, the outbox and fence sweeps, ...), made
 * where the server can use them. Every replica runs this at start-up.
 *
 * - **MongoDB:** the missing ones are created.
 * - **FerretDB:** none is kept, and any an earlier version made is dropped. FerretDB 1.24 pushes
 *   down only top-level equalities, as `_jsonb->'field' @> value`, and sorts in Go; the btree
 *   indexes it builds for createIndexes cannot serve `@>`, so no query reads them, while
 *   PostgreSQL updates every one of them on each write of a document (a task is written three to
 *   five times). (On SQLite it pushes down even less.) The indexes FerretDB's SQL does use are dev-mongo's GIN indexes on
 *   EQUALITY_FILTERED_FIELDS (docs/mongodb-provisioning.md). `_id`'s unique index is FerretDB's
 *   own and stays.
 *
 * The queries are the same on both servers; only the set of indexes differs.
 */
export async function ensureIndexes(collections: Collections, db: Db): Promise<IndexReport> {
  const info = await db.command({ buildInfo: 1 });
  const report: IndexReport = {
    server: typeof info.ferretdbVersion === 'string' ? 'ferretdb' : 'mongodb',
    created: [],
    dropped: [],
  };
  const c = collections;
  const apply = <T extends Document>(coll: Collection<T>, indexes: IndexDescription[]) =>
    applyIndexes(coll, indexes, report);
  await apply(c.tasks, TASK_INDEXES);
  await apply(c.outbox, [{ key: { at: 1 }, name: 'by_age' }]);
  await apply(c.fences, [
    { key: { at: 1 }, name: 'by_age' },
    { key: { sweepMinute: 1 }, name: 'by_minute' },
  ]);
  await apply(c.idempotency, [{ key: { hour: 1 }, name: 'by_hour' }]);
  await apply(c.flowIdempotency, [{ key: { hour: 1 }, name: 'by_hour' }]);
  await apply(c.deadLetters, [{ key: { at: -1 }, name: 'newest_first' }]);
  await apply(c.taskBuckets, [{ key: { parent: 1 }, name: 'by_parent' }]);
  await apply(c.flows, [{ key: { createdAt: -1, _id: -1 }, name: 'newest_first' }]);
  await apply(c.flowWakeups, [{ key: { at: 1 }, name: 'by_age' }]);
  await apply(c.history, [{ key: { taskId: 1 }, name: 'by_task' }]);
  await apply(c.holds, [{ key: { type: 1 }, name: 'by_type' }]);
  await apply(c.slots, [{ key: { type: 1 }, name: 'by_type' }]);
  await apply(c.webhookDeliveries, [
    { key: { taskId: 1 }, name: 'by_task' },
    { key: { state: 1, nextAttemptAt: 1 }, name: 'due' },
  ]);
  await apply(c.webhookClaims, [{ key: { at: 1 }, name: 'by_age' }]);
  await apply(c.rateSlots, [
    { key: { at: 1 }, name: 'by_age' },
    { key: { key: 1, n: -1 }, name: 'latest_by_key' },
  ]);
  return report;
}

/** Creates the missing `indexes` of `coll` on MongoDB; drops the present ones on FerretDB. */
async function applyIndexes<T extends Document>(
  coll: Collection<T>,
  indexes: IndexDescription[],
  report: IndexReport,
): Promise<void> {
  const existing = await indexNames(coll);
  if (report.server === 'mongodb') {
    const missing = indexes.filter((i) => !existing.has(i.name!));
    if (missing.length > 0) await coll.createIndexes(missing);
    report.created.push(...missing.map((i) => `${coll.collectionName}.${i.name!}`));
    return;
  }
  for (const { name } of indexes.filter((i) => existing.has(i.name!))) {
    // Another replica starting at the same time may have dropped it first (IndexNotFound).
    await coll.dropIndex(name!).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== 27) throw err;
    });
    report.dropped.push(`${coll.collectionName}.${name!}`);
  }
}

/** The names of a collection's indexes; none when it does not exist yet (NamespaceNotFound). */
async function indexNames<T extends Document>(coll: Collection<T>): Promise<Set<string>> {
  return coll
    .listIndexes()
    .toArray()
    .then(
      (list) => new Set(list.map((i) => String((i as { name?: unknown }).name))),
      (err: unknown) => {
        if ((err as { code?: unknown }).code === 26) return new Set<string>();
        throw err;
      },
    );
}
