/** How tasks are stored in MongoDB, and how a stored task becomes the wire `Task`. */
import type {
  FailurePolicy,
  HoldReason,
  HistoryEntry,
  OverlapPolicy,
  Task,
  TaskDetailField,
  TaskError,
  TaskKind,
  TaskStatus,
  TaskSummary,
  TaskWebhook,
  WebhookDeliveryState,
} from '@tasks/contracts';

/** What ended a lease: a replay of the call that ended it is answered as done, anything else is LEASE_LOST. */
export type LeaseEnd = 'complete' | 'fail' | 'release' | 'expiry' | 'cancel';

export interface HistoryDoc {
  status: TaskStatus;
  at: Date;
  by: string;
  attempt: number;
  error?: TaskError;
}

/**
 * Payload and result are kept as JSON text: user data may hold keys that MongoDB (or FerretDB)
 * will not store as field names (`$ref`, `a.b`), and nothing ever queries inside them.
 */
export interface TaskDoc {
  _id: string;
  type: string;
  kind: TaskKind;
  payloadJson: string;
  status: TaskStatus;
  priority: number;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  runAt: Date;
  idempotencyKey: string | null;
  resultJson: string | null;
  error: TaskError | null;
  progress: number | null;
  progressMessage: string | null;
  leaseOwner: string | null;
  leaseId: string | null;
  /** How the lease `leaseId` ended (null while it is held; absent on tasks written before it existed). */
  leaseEndedBy?: LeaseEnd | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  /**
   * createdAt floored to BUCKET_MS, never changed: the key list pages read by (list-buckets.ts).
   * Absent only on tasks written before it existed, until the start-up backfill gives them one.
   */
  bucket?: number;
  /** createdAt floored to the hour, never changed: the coarser key a sparse filter's page reads by. Absent like `bucket`. */
  hour?: number;
  /**
   * The list slot within its bucket (list-slots.ts), never changed: `s:<chain>:<seq>`, or `loose`
   * for a task created outside a chain. Absent on tasks written before list slots existed.
   */
  listSlot?: string;
  updatedAt: Date;
  /**
   * updatedAt floored to BUCKET_MS, rewritten with every change: the key a resuming event stream
   * reads what changed by (task-changes.ts). Absent on tasks not written since it exists.
   */
  changedBucket?: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  /**
   * finishedAt floored to the hour while the task is finished (null otherwise; absent on tasks
   * finished before it existed): the key the retention sweeper reads by (docs/retention.md).
   */
  finishedHour?: number | null;
  /** The latest changes, oldest first, at most HISTORY_LIMIT (older ones: task_history, task-history.ts). */
  history: HistoryDoc[];
  /**
   * How many earlier entries live in task_history, below `history[0]` (a multiple of
   * HISTORY_BLOCK); absent while there are none (docs/history.md).
   */
  historyOffset?: number;
  version: number;
  /** Not started by then, it ends failed (EXPIRED). Absent on tasks without a deadline. */
  expiresAt?: Date | null;
  /** true when expiresAt is set: the deadline sweep's equality filter (absent otherwise). */
  hasExpiry?: true;
  /** Why a due task waits (docs/flow-control.md); null or absent when it does not. */
  heldBy?: HoldReason | null;
  /** The concurrency slot its current (or last) lease holds, if its type had a limit. */
  slot?: string | null;
  /** The start time a rate limit gave it; cleared when it starts or is held. */
  rateSlotAt?: Date | null;
  /** Flow nodes only (docs/flows.md); absent on every other task. Top level: queried by equality. */
  flowId?: string;
  flow?: FlowNodeFields;
  /** Tasks a schedule created (docs/schedules.md); absent on every other task. */
  scheduleId?: string;
  /** As given at creation; absent when none were (docs/tags-and-bulk-actions.md). */
  tags?: string[];
  metadata?: Record<string, string>;
  /** tags and metadata as flat labels (task-labels.ts), never changed: what list filters name by equality. */
  labels?: string[];
  /** The labels scoped to the hour of createdAt (task-labels.ts hourLabel): what list pages read by. */
  hourLabels?: string[];
  /** Where its terminal statuses are POSTed (docs/webhooks.md); absent on tasks without one. */
  webhook?: TaskWebhook;
  /** The W3C traceparent the creating call came with (docs/observability.md); absent when it had none. */
  traceparent?: string;
}

/**
 * What a flow node was last told about one dependency: its status at `version`, and how it ended
 * when it has (`pending`: it has not, or was retried). A tell about an older version is ignored.
 * Results are not copied (a node's document stays small, whatever its dependencies returned):
 * `resultBytes` counts them, and they are read from the dependencies when the node is read.
 */
export interface DependencyState {
  key: string;
  taskId: string;
  version: number;
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  resultBytes: number;
  error: TaskError | null;
}

/** What a flow node carries besides being a task. */
export interface FlowNodeFields {
  key: string;
  policy: FailurePolicy;
  /** The nodes it waits for. */
  dependsOn: { key: string; taskId: string }[];
  /** The nodes that wait for it: told whenever it ends, or is retried. */
  dependents: string[];
  /** What it has been told about its dependencies (one entry per key at most). */
  told: DependencyState[];
  /** `told` as it was when the node was queued: what its handler receives (null until then). */
  queuedWith: DependencyState[] | null;
}

/** A flow: its nodes by key (the tasks hold their own state). */
export interface FlowDoc {
  _id: string;
  name: string | null;
  failurePolicy: FailurePolicy;
  /** `creating` until every node task is written; a flow never read as existing before that. */
  state: 'creating' | 'created';
  nodes: { key: string; taskId: string; type: string; dependsOn: string[] }[];
  createdAt: Date;
  cancelledAt: Date | null;
  idempotencyKey: string | null;
  bodyHash: string | null;
}

/**
 * Work a crash could leave half done (docs/flows.md): `dependents` — tell the dependents of task
 * `ref` how it ended; `retell` — tell node `ref`, waiting again, how its dependencies stand;
 * `flow` — finish creating flow `ref`; `cancel` — finish cancelling flow `ref`. Written before,
 * deleted after.
 */
export interface FlowWakeupDoc {
  _id: string;
  kind: 'dependents' | 'flow' | 'retell' | 'cancel';
  ref: string;
  at: Date;
}

/**
 * A schedule as it was created or last edited (docs/schedules.md). Only schedules.create and
 * schedules.update write it; what the keepers write is in ScheduleRunDoc, so that a keeper's
 * write, which FerretDB 1.x does not make atomic with its filter, never undoes an edit.
 */
export interface ScheduleDoc {
  _id: string;
  name: string;
  cron: string;
  timezone: string;
  /** The task spec as JSON text, like a task's payload (keys MongoDB will not store as field names). */
  taskJson: string;
  overlap: OverlapPolicy;
  paused: boolean;
  /** Ticks at or before this never fire: the creation, a new cron or timezone, or a resume. */
  since: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * What the schedule keepers know of one schedule's ticks (`_id`: the schedule's). Written by any
 * store, conditionally on `version`; a write lost to a race only makes a keeper try a tick whose
 * task exists already, which its idempotency key turns into nothing.
 */
export interface ScheduleRunDoc {
  _id: string;
  /** The last tick handled (fired, skipped or refused). */
  lastTick: Date;
  lastRunAt: Date | null;
  lastTaskId: string | null;
  skipped: number;
  lastSkippedAt: Date | null;
  /** Why the last tick that created no task did not (its type gone, its payload refused). */
  lastError: TaskError | null;
  version: number;
  updatedAt: Date;
}

/** A task as list pages read it: the large parts only when asked (summaryProjection). */
export type SummaryDoc = Omit<TaskDoc, 'payloadJson' | 'resultJson' | 'history'> &
  Partial<Pick<TaskDoc, 'payloadJson' | 'resultJson' | 'history'>>;

/**
 * Entries 25k … 25k+24 of one task's history (`_id`: `<taskId>:<k>`), moved out of the task
 * document (task-history.ts, docs/history.md).
 */
export interface HistoryBlockDoc {
  _id: string;
  taskId: string;
  /** k: the block's position (its first entry is entry k × HISTORY_BLOCK). */
  block: number;
  entries: HistoryDoc[];
  at: Date;
}

/** Fences are kept this long after they are taken (fence-sweep.ts); RecentTasks entries must live less. */
export const FENCE_RETENTION_MS = 10 * 60_000;

/** A claim on one version of one task: whoever inserts it may write the next version (see docs/consistency.md). */
export interface FenceDoc {
  _id: string;
  taskId: string;
  version: number;
  set: Partial<TaskDoc>;
  at: Date;
  /** `at`'s minute since the epoch, by which the sweep removes fences (fence-sweep.ts); absent on old fences. */
  sweepMinute?: number;
  /** Taken by the retention sweeper to remove this version (docs/retention.md). */
  removal?: true;
}

/** A queued version of a task whose publication to the broker is not yet confirmed. */
export interface OutboxDoc {
  _id: string;
  taskId: string;
  version: number;
  at: Date;
}

/**
 * One webhook delivery (docs/webhooks.md): `_id` = `<taskId>:<version>`, the Webhook-Id. Written
 * before the task version it reports; `confirmed` once a claim has seen that version written.
 */
export interface WebhookDeliveryDoc {
  _id: string;
  taskId: string;
  version: number;
  url: string;
  status: TaskStatus;
  /** The version's updatedAt: with the status, how a claim recognises that version. */
  taskUpdatedAt: Date;
  /** The task at that version as JSON: the body of every attempt. */
  bodyJson: string;
  state: WebhookDeliveryState;
  confirmed: boolean;
  attempts: number;
  /** Due then (pending); while leased, the lease's end. */
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  log: { at: Date; statusCode: number | null; error: string | null; ms: number }[];
  leaseId: string | null;
  leaseOwner: string | null;
  /** Claims so far: claim n is taken by inserting the claim fence `<id>#<n>` (WebhookClaimDoc). */
  claims?: number;
  /** The lease the last recorded attempt ended: a repeat of that call is answered unchanged. */
  lastLeaseId: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The right to make claim n of a webhook delivery (`_id`: `<delivery id>#<n>`), like a task fence. */
export interface WebhookClaimDoc {
  _id: string;
  at: Date;
}

/** A recorded dead letter: `<taskId>:<version>` for a work message, so a repeat records it once. */
export interface DeadLetterDoc {
  _id: string;
  at: Date;
  taskId: string | null;
  type: string | null;
  kind: string | null;
  version: number | null;
  reason: string;
  queue: string | null;
  deliveries: number | null;
  outcome: 'failed' | 'moved-on' | 'no-task';
}

/** A live executor and the types it serves, as its last heartbeat said. */
export interface ExecutorDoc {
  _id: string;
  types: string[];
  lastSeen: Date;
}

export interface IdempotencyDoc {
  _id: string;
  taskId: string;
  bodyHash: string;
  at: Date;
  /** `at` floored to the hour: the key the retention sweeper reads by (absent on keys from before it). */
  hour?: number;
}

/**
 * Where the retention sweeper goes on (docs/retention.md), in `retention_cursors`: `tasks:<type>`
 * or `keys:<collection>`; every hour before `hour` has been swept.
 */
export interface RetentionCursorDoc {
  _id: string;
  hour: number;
  at: Date;
}

/** An operator's settings of one task type (_id: the type), docs/flow-control.md. */
export interface TypeSettingsDoc {
  _id: string;
  paused: boolean;
  concurrency: number | null;
  ratePerSecond: number | null;
  /** How long its finished tasks are kept (docs/retention.md); null or absent: the store's default. */
  retentionSeconds?: number | null;
  updatedAt: Date;
  updatedBy: string;
}

/** A due task that waits (_id: the task's id) until its type is resumed or a slot is free. */
export interface HoldDoc {
  _id: string;
  type: string;
  reason: HoldReason;
  priority: number;
  createdAt: Date;
  at: Date;
}

/**
 * One of a type's concurrency slots, `<type>#<n>` for n below the limit, held by one lease:
 * inserting it is the right to start (a unique key: atomic on MongoDB and FerretDB alike).
 */
export interface SlotDoc {
  _id: string;
  type: string;
  taskId: string;
  leaseId: string;
  at: Date;
}

/** One start time of a rate-limited type, `<type>@<interval ms>:<n>` (starts at n × interval). */
export interface RateSlotDoc {
  _id: string;
  /** `<type>@<rate>`, and the start time's index: the latest taken is found by key. */
  key: string;
  n: number;
  taskId: string;
  at: Date;
}

export interface TaskTypeDoc {
  _id: string;
  kind: TaskKind;
  description: string | null;
  payloadSchemaJson: string;
  resultSchemaJson: string | null;
  timeoutMs: number;
  maxAttempts: number;
  registeredBy: string;
  updatedAt: Date;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function historyToWire(h: HistoryDoc): HistoryEntry {
  return {
    status: h.status,
    at: h.at.toISOString(),
    by: h.by,
    attempt: h.attempt,
    ...(h.error && { error: h.error }),
  };
}

/** The wire form of a (possibly projected) task: the detail fields named in `fields`, when read. */
export function toSummary(doc: SummaryDoc, fields: readonly TaskDetailField[] = []): TaskSummary {
  const summary: TaskSummary = {
    id: doc._id,
    type: doc.type,
    kind: doc.kind,
    status: doc.status,
    priority: doc.priority,
    attempts: doc.attempts,
    maxAttempts: doc.maxAttempts,
    timeoutMs: doc.timeoutMs,
    runAt: doc.runAt.toISOString(),
    idempotencyKey: doc.idempotencyKey,
    error: doc.error,
    progress: doc.progress,
    progressMessage: doc.progressMessage,
    leaseOwner: doc.leaseOwner,
    leaseId: doc.leaseId,
    leaseExpiresAt: iso(doc.leaseExpiresAt),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    startedAt: iso(doc.startedAt),
    finishedAt: iso(doc.finishedAt),
    version: doc.version,
    expiresAt: iso(doc.expiresAt ?? null),
  };
  if (doc.heldBy) summary.heldBy = doc.heldBy;
  if (fields.includes('payload') && doc.payloadJson !== undefined)
    summary.payload = JSON.parse(doc.payloadJson) as unknown;
  if (fields.includes('result') && doc.resultJson !== undefined)
    summary.result = doc.resultJson === null ? null : (JSON.parse(doc.resultJson) as unknown);
  if (fields.includes('history') && doc.history !== undefined) {
    summary.history = doc.history.map(historyToWire);
    if (doc.historyOffset) summary.historyOffset = doc.historyOffset;
  }
  if (doc.flowId !== undefined && doc.flow) {
    summary.flowId = doc.flowId;
    summary.flowKey = doc.flow.key;
  }
  if (doc.scheduleId !== undefined) summary.scheduleId = doc.scheduleId;
  summary.tags = doc.tags ?? [];
  summary.metadata = doc.metadata ?? {};
  if (doc.webhook !== undefined) summary.webhook = { url: doc.webhook.url };
  if (doc.traceparent !== undefined) {
    summary.traceparent = doc.traceparent;
    summary.traceId = doc.traceparent.slice(3, 35);
  }
  return summary;
}

export function toWire(doc: TaskDoc): Task {
  return {
    ...toSummary(doc),
    payload: JSON.parse(doc.payloadJson) as unknown,
    result: doc.resultJson === null ? null : (JSON.parse(doc.resultJson) as unknown),
    history: doc.history.map(historyToWire),
    ...(doc.historyOffset ? { historyOffset: doc.historyOffset } : {}),
  };
}

/** One count of tasks: how many of `type` are in `status` (or, in a delta, how many more). */
export interface CountRow {
  type: string;
  status: TaskStatus;
  n: number;
}

/** Deltas whose transition time fell in one second (`s`, seconds since the epoch). */
export interface DeltaBucket {
  s: number;
  counts: CountRow[];
}

/** Tasks that became succeeded or failed in one second. */
export interface OutcomeBucket {
  s: number;
  succeeded: number;
  failed: number;
}

/**
 * One store process's counts (docs/stats.md): every delta it applied since it started, written
 * only by that process, conditionally on `version`. `settledThrough`: every transition this
 * writer timed before it is included.
 */
export interface CountWriterDoc {
  _id: string;
  role: 'writer';
  version: number;
  flushedAt: Date;
  settledThrough: Date;
  stopped: boolean;
  counts: CountRow[];
  recent: DeltaBucket[];
  outcomes: OutcomeBucket[];
}

/** The counts at the last recount, and how much of each writer's counts they already hold. */
export interface CountBaseDoc {
  _id: 'base';
  role: 'base';
  version: number;
  recountedAt: Date;
  /** Transitions timed before this are in `counts` (for the writers in `folded`, as folded). */
  through: Date;
  counts: CountRow[];
  folded: { writer: string; counts: CountRow[] }[];
  /** Writers whose documents are wholly in `counts` (dead or stopped): ignored until deleted. */
  retired: string[];
  outcomes: OutcomeBucket[];
}

/** The right to write base version `version + 1`, taken by inserting it (like a task fence). */
export interface CountFenceDoc {
  _id: string;
  role: 'fence';
  version: number;
  at: Date;
  /** The writer document of the process holding it: when that writer is dead, so is the fence. */
  holder: string;
  /** Held by the retention sweeper while it removes tasks (docs/retention.md); absent: a recount. */
  purpose?: 'removal';
}

/** Someone saw the counts may be wrong (a lost flush, a rolled-forward fence): recount. */
export interface RecountRequestDoc {
  _id: string;
  role: 'request';
  at: Date;
  reason: string;
}

export type TaskCountsDoc = CountWriterDoc | CountBaseDoc | CountFenceDoc | RecountRequestDoc;
