/**
 * The JSON-RPC methods of the task store: names, param and result types, the errors each
 * can return, and whether a caller may repeat a call whose answer it never received.
 * Params are always passed by name (a JSON object).
 */
import type { StatusEvent } from './task.js';
import type { BulkAction, BulkFilter } from './bulk-actions.js';
import type { ErrorType } from './errors.js';
import type { FailurePolicy, Flow, FlowSummary } from './flow.js';
import type { RetentionDefaults, TypeSettings } from './type-settings.js';
import type { OverlapPolicy, Schedule, ScheduleTaskSpec } from './schedule.js';
import type {
  HistoryEntry,
  Task,
  TaskDetailField,
  TaskError,
  TaskKind,
  TaskStatus,
  TaskSummary,
  TaskType,
  TaskTypeDefinition,
  TaskWebhook,
} from './task.js';
import type { WebhookDelivery, WebhookSend } from './webhook.js';

export interface CreateTaskParams {
  type: string;
  kind?: TaskKind;
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  runAt?: string;
  /** Run no sooner than this many ms after creation (exclusive with runAt). */
  delayMs?: number;
  /** Not started by then, the task ends failed with error EXPIRED (docs/flow-control.md). */
  expiresAt?: string;
  /** Labels to find the task by (docs/tags-and-bulk-actions.md): TASK_LABEL_LIMITS. */
  tags?: string[];
  metadata?: Record<string, string>;
  idempotencyKey?: string;
  /** POST the task there at every terminal status (docs/webhooks.md). */
  webhook?: TaskWebhook;
}

export interface FlowNodeSpec extends Omit<CreateTaskParams, 'idempotencyKey'> {
  key: string;
  dependsOn?: string[];
}

export interface CreateFlowParams {
  name?: string;
  nodes: FlowNodeSpec[];
  failurePolicy?: FailurePolicy;
  /** A repeat with the same key and body answers the first flow (created: false). */
  idempotencyKey?: string;
}

export interface CreateScheduleParams {
  name: string;
  cron: string;
  timezone?: string;
  task: ScheduleTaskSpec;
  overlap?: OverlapPolicy;
  paused?: boolean;
}

/** The fields to change, at least one. */
export type UpdateScheduleParams = { id: string } & Partial<CreateScheduleParams>;

export interface ListParams {
  status?: TaskStatus;
  type?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  cursor?: string;
  /** Detail fields to include in each item (summaries without them by default). */
  fields?: TaskDetailField[];
  /** Tasks carrying every one of these tags, and every one of these metadata entries. */
  tags?: string[];
  metadata?: Record<string, string>;
}

/** One page of a bulk action (docs/tags-and-bulk-actions.md); the caller loops while nextCursor is set. */
export interface BulkActionParams {
  action: BulkAction;
  filter: BulkFilter;
  /** Count what the action would change; change nothing. */
  dryRun?: boolean;
  cursor?: string;
  /** Tasks read in this call, at most BULK_PAGE_MAX (default BULK_PAGE_DEFAULT). */
  limit?: number;
  by?: string;
}

export interface BulkActionResult {
  /** Tasks of this page that matched the filter and the action's statuses. */
  matched: number;
  /** Of those, the ones this call changed (0 on a dry run; a task that moved on meanwhile is skipped). */
  changed: number;
  nextCursor: string | null;
  /** The changed tasks as they are now, for the caller to publish (retried, queued) and announce. */
  tasks: TaskSummary[];
  /** Flow nodes whose status the changes moved. */
  dependents?: TaskSummary[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Stats {
  byStatus: Record<TaskStatus, number>;
  byType: Record<string, Partial<Record<TaskStatus, number>>>;
  succeededLastMinute: number;
  failedLastMinute: number;
  /** Types with queued tasks that no live executor serves: they wait until one starts. */
  unservedTypes: { type: string; queued: number }[];
}

/** A message that reached the dead-letter queue, as the store recorded it. */
export interface DeadLetter {
  /** When it was recorded. */
  at: string;
  taskId: string | null;
  type: string | null;
  kind: string | null;
  /** The task version the message was published for. */
  version: number | null;
  /** Why: the broker's (`delivery_limit`, `rejected`, ...) or the executor's (`body is not JSON`, ...). */
  reason: string;
  /** The queue it was dead-lettered from, when the broker says. */
  queue: string | null;
  /** Deliveries before it was given up, when known. */
  deliveries: number | null;
  /** What it did to its task: `failed` it, found it `moved-on` (another version or status), or `no-task`. */
  outcome: 'failed' | 'moved-on' | 'no-task';
}

export interface DeadLetterParams {
  taskId?: string;
  type?: string;
  kind?: string;
  version?: number;
  reason: string;
  queue?: string;
  deliveries?: number;
}

/**
 * What a change that may end a flow node returns: the task, and (when there are any) the flow
 * nodes whose status that changed (docs/flows.md): queued, cancelled because a dependency failed,
 * or waiting again. The caller publishes the queued ones at once (their outbox entries are
 * written, so a lost publish is only slower) and announces them all.
 */
export type TaskWithDependents = Task & { dependents?: TaskSummary[] };

export interface StoreMethods {
  'tasks.create': { params: CreateTaskParams; result: { task: Task; created: boolean } };
  'tasks.createMany': {
    params: { tasks: Omit<CreateTaskParams, 'idempotencyKey'>[] };
    result: { tasks: Task[] };
  };
  'tasks.get': { params: { id: string }; result: Task };
  'tasks.list': { params: ListParams; result: Page<TaskSummary> };
  /** A task's whole history, oldest first (docs/history.md). */
  'tasks.history': { params: { id: string; limit?: number; cursor?: string }; result: Page<HistoryEntry> };
  'tasks.claim': {
    /**
     * `leaseId`, chosen by the caller, makes the claim repeatable: a repeat answers the same lease.
     * `type` (the work message's) saves the store a read before it applies the type's settings.
     */
    params: { id: string; workerId: string; leaseMs: number; leaseId?: string; type?: string };
    result: Task;
  };
  'tasks.heartbeat': {
    params: { id: string; leaseId: string; leaseMs: number; progress?: number; progressMessage?: string };
    result: Task;
  };
  'tasks.complete': {
    params: { id: string; leaseId: string; result?: unknown };
    result: TaskWithDependents;
  };
  'tasks.fail': { params: { id: string; leaseId: string; error: TaskError }; result: TaskWithDependents };
  'tasks.release': {
    params: { id: string; leaseId: string; reason?: string };
    result: TaskWithDependents;
  };
  'tasks.cancel': { params: { id: string; by?: string; reason?: string }; result: TaskWithDependents };
  'tasks.retry': { params: { id: string; by?: string }; result: TaskWithDependents };
  'tasks.bulkAction': { params: BulkActionParams; result: BulkActionResult };
  'tasks.markPublished': { params: { tasks: { id: string; version: number }[] }; result: { marked: number } };
  'tasks.listUnpublished': {
    params: { olderThanMs?: number; limit?: number };
    result: { items: TaskSummary[] };
  };
  'tasks.listExpiredLeases': { params: { limit?: number }; result: { items: TaskSummary[] } };
  'tasks.requeueExpired': {
    params: { limit?: number; by?: string };
    /** `dependents`: flow nodes whose status the expiries changed (as TaskWithDependents). */
    result: { items: TaskSummary[]; dependents?: TaskSummary[] };
  };
  'tasks.listStale': {
    params: { type: string; olderThanMs?: number; limit?: number };
    result: { items: TaskSummary[] };
  };
  'tasks.expireOverdue': {
    params: { limit?: number; by?: string };
    /** The tasks it ended, and the flow nodes that changed with them. */
    result: { items: TaskSummary[]; dependents?: TaskSummary[] };
  };
  'tasks.changes': {
    params: { since: string; seen?: string[]; limit?: number; type?: string; status?: TaskStatus };
    /** complete: false when `since` is older than the replay window or more changed than `limit`. */
    result: { items: StatusEvent[]; complete: boolean };
  };
  'tasks.stats': { params: Record<string, never>; result: Stats };
  'tasks.recount': { params: Record<string, never>; result: { tasks: number; ms: number } };
  'deadLetters.record': { params: DeadLetterParams; result: { deadLetter: DeadLetter; task: Task | null } };
  'deadLetters.list': { params: { limit?: number }; result: { count: number; items: DeadLetter[] } };
  'taskTypes.register': {
    params: { workerId: string; types: TaskTypeDefinition[] };
    result: { registered: number };
  };
  'taskTypes.list': {
    params: Record<string, never>;
    /** `retention`: the store's defaults, for types without their own (docs/retention.md). */
    result: { items: TaskType[]; retention: RetentionDefaults };
  };
  'taskTypes.getSettings': { params: { type: string }; result: TypeSettings };
  'taskTypes.updateSettings': {
    params: {
      type: string;
      paused?: boolean;
      concurrency?: number | null;
      ratePerSecond?: number | null;
      retentionSeconds?: number | null;
      by?: string;
    };
    /** `released`: held tasks that may start now, for the caller to publish (more follow in the background). */
    result: { settings: TypeSettings; released: TaskSummary[] };
  };
  'executors.heartbeat': {
    params: { workerId: string; types: string[]; stopping?: boolean };
    result: { liveForMs: number };
  };
  'flows.create': {
    params: CreateFlowParams;
    result: { flow: Flow; created: boolean; queued: TaskSummary[] };
  };
  'flows.get': { params: { id: string }; result: Flow };
  'flows.list': { params: { limit?: number; cursor?: string }; result: Page<FlowSummary> };
  'flows.cancel': {
    params: { id: string; by?: string };
    result: { flow: Flow; cancelled: TaskSummary[] };
  };
  'schedules.create': { params: CreateScheduleParams; result: Schedule };
  'schedules.get': { params: { id: string }; result: Schedule };
  'schedules.list': { params: Record<string, never>; result: { items: Schedule[] } };
  'schedules.update': { params: UpdateScheduleParams; result: Schedule };
  'schedules.delete': { params: { id: string }; result: { deleted: boolean } };
  'webhooks.claimDue': {
    params: { owner: string; limit?: number; leaseMs?: number };
    result: { items: WebhookSend[] };
  };
  'webhooks.recordAttempt': {
    params: { id: string; leaseId: string; statusCode?: number; error?: string; ms?: number };
    result: WebhookDelivery;
  };
  'webhooks.list': { params: { taskId: string }; result: { items: WebhookDelivery[] } };
  'webhooks.redeliver': { params: { id: string }; result: WebhookDelivery };
}

export type MethodName = keyof StoreMethods;
export type ParamsOf<M extends MethodName> = StoreMethods[M]['params'];
export type ResultOf<M extends MethodName> = StoreMethods[M]['result'];

export interface MethodInfo {
  summary: string;
  /** Safe to send again when the first answer was lost. */
  idempotent: boolean;
  errors: readonly ErrorType[];
}

const common = ['VALIDATION_FAILED', 'UNAUTHORIZED', 'INTERNAL', 'DEPENDENCY_UNAVAILABLE'] as const;

export const METHODS: Readonly<Record<MethodName, MethodInfo>> = {
  'tasks.create': {
    summary:
      'Create a queued task. With idempotencyKey, a repeat with the same body returns the first task (created: false).',
    idempotent: false, // idempotent only with a key; the client decides per call
    errors: [...common, 'UNKNOWN_TASK_TYPE', 'TYPE_KIND_MISMATCH', 'PAYLOAD_INVALID', 'IDEMPOTENCY_CONFLICT'],
  },
  'tasks.createMany': {
    summary: 'Create up to 1,000 queued tasks in one bulk write; all are validated before any is written.',
    idempotent: false,
    errors: [...common, 'UNKNOWN_TASK_TYPE', 'TYPE_KIND_MISMATCH', 'PAYLOAD_INVALID'],
  },
  'tasks.get': { summary: 'One task by id.', idempotent: true, errors: [...common, 'TASK_NOT_FOUND'] },
  'tasks.list': {
    summary:
      'Newest first, filtered; keyset pagination on (createdAt, id) with an opaque cursor. Items are summaries: payload, result and history only when named in fields.',
    idempotent: true,
    errors: common,
  },
  'tasks.history': {
    summary:
      'Every change of a task for as long as it is kept, oldest first: `limit` 1..500 (50) entries from the opaque `cursor` → {items, nextCursor} (null at the end). The task itself carries only the latest entries.',
    idempotent: true,
    errors: [...common, 'TASK_NOT_FOUND'],
  },
  'tasks.claim': {
    summary:
      'queued → running (or re-claim of an expired lease): attempts + 1, a new lease and leaseId. With the caller’s own leaseId, a repeat whose first answer was lost returns the same lease instead of a conflict. The type’s settings apply first (docs/flow-control.md): paused or at its concurrency limit, the task is held (TASK_HELD: drop the message, the store publishes it again when it may start); over its rate, it gets a start time (TASK_NOT_DUE with runAt); past its expiresAt, it ends failed (TASK_EXPIRED, with `task` and `dependents` in the error data).',
    idempotent: false,
    errors: [
      ...common,
      'TASK_NOT_FOUND',
      'INVALID_TRANSITION',
      'TASK_NOT_DUE',
      'TASK_HELD',
      'TASK_EXPIRED',
      'BUSY',
    ],
  },
  'tasks.heartbeat': {
    summary: 'Extend the lease of the current holder; optional progress (0..100) and message.',
    idempotent: true,
    errors: [...common, 'TASK_NOT_FOUND', 'INVALID_TRANSITION', 'LEASE_LOST', 'BUSY'],
  },
  'tasks.complete': {
    summary:
      'running → succeeded, by the lease holder only. Repeating it after success returns the task. A flow node’s dependents are told in the same call (`dependents`: those whose status changed).',
    idempotent: true,
    errors: [...common, 'TASK_NOT_FOUND', 'INVALID_TRANSITION', 'LEASE_LOST', 'BUSY'],
  },
  'tasks.fail': {
    summary:
      'running → queued (retryable error, attempts left; runAt set by backoff) or failed, by the lease holder only. A flow node’s dependents are told in the same call (`dependents`).',
    idempotent: true,
    errors: [...common, 'TASK_NOT_FOUND', 'INVALID_TRANSITION', 'LEASE_LOST', 'BUSY'],
  },
  'tasks.release': {
    summary:
      'running → queued by the lease holder that stops without an outcome (shutdown); the interrupted attempt is not counted.',
    idempotent: true,
    errors: [...common, 'TASK_NOT_FOUND', 'INVALID_TRANSITION', 'LEASE_LOST', 'BUSY'],
  },
  'tasks.cancel': {
    summary:
      'waiting | queued | running → cancelled. A late result of the cancelled run is refused. A flow node’s dependents are told in the same call (`dependents`).',
    idempotent: false,
    errors: [...common, 'TASK_NOT_FOUND', 'INVALID_TRANSITION', 'BUSY'],
  },
  'tasks.retry': {
    summary:
      'failed | cancelled → queued, with attempts reset to 0 (a full new budget); history is kept. A flow node waits for its dependencies again (`waiting`, then queued once told they have ended); one cancelled with DEPENDENCY_FAILED is refused (retry the dependency).',
    idempotent: false,
    errors: [...common, 'TASK_NOT_FOUND', 'INVALID_TRANSITION', 'BUSY'],
  },
  'tasks.bulkAction': {
    summary:
      'Cancel or retry, one page at a time, the tasks matching a filter (status, type, tag, createdBefore, createdAfter; not empty) whose status the action applies to, each as tasks.cancel or tasks.retry would; a task that has moved on is skipped, so a repeat changes only what still matches. dryRun counts without changing. Returns matched, changed, nextCursor and the changed tasks (docs/tags-and-bulk-actions.md).',
    idempotent: true,
    errors: [...common, 'BUSY'],
  },
  'tasks.markPublished': {
    summary:
      'Record that the broker confirmed these queued tasks (by id and the version that was published).',
    idempotent: true,
    errors: common,
  },
  'tasks.listUnpublished': {
    summary: 'Queued tasks whose publication was not confirmed within olderThanMs (default 10,000).',
    idempotent: true,
    errors: common,
  },
  'tasks.listExpiredLeases': {
    summary: 'Running tasks whose lease has expired.',
    idempotent: true,
    errors: common,
  },
  'tasks.requeueExpired': {
    summary:
      'Expired leases: running → queued when attempts are left, else failed (LEASE_EXPIRED). Returns the changed tasks.',
    idempotent: true,
    errors: common,
  },
  'tasks.listStale': {
    summary:
      'Queued tasks of one type, due and unchanged for longer than olderThanMs (default 60,000): candidates for publishing again when their message may be lost.',
    idempotent: true,
    errors: common,
  },
  'deadLetters.record': {
    summary:
      'Record a dead-lettered message; a task still queued at the message’s version becomes failed (DEAD_LETTERED, with the reason). Repeating it changes nothing more.',
    idempotent: true,
    errors: common,
  },
  'deadLetters.list': {
    summary: 'How many dead letters are recorded, and the most recent ones (newest first).',
    idempotent: true,
    errors: common,
  },
  'tasks.expireOverdue': {
    summary:
      'queued | waiting tasks past their expiresAt → failed (EXPIRED). Returns the changed tasks and the flow nodes that changed with them, for the caller to announce.',
    idempotent: true,
    errors: common,
  },
  'tasks.changes': {
    summary:
      'The latest status event of every task changed at or after `since` (within the last 10 minutes), oldest change first: what a resuming event stream missed. `seen` (taskId:version) are skipped.',
    idempotent: true,
    errors: common,
  },
  'tasks.stats': {
    summary: 'Counts by status and by type, and outcomes in the last minute.',
    idempotent: true,
    errors: common,
  },
  'tasks.recount': {
    summary:
      'Count every task again and make that the base of the kept counts (docs/stats.md); stores do it by themselves after a crash. One full scan: executor token only. Answers how many tasks were counted and how long it took.',
    idempotent: true,
    errors: [...common, 'BUSY'],
  },
  'taskTypes.register': {
    summary: 'Insert or replace task type definitions (called by executors at start-up).',
    idempotent: true,
    errors: common,
  },
  'taskTypes.list': {
    summary:
      'All registered task types, with their settings (paused, limits, retentionSeconds), and the store’s retention defaults (`retention`: defaultSeconds, idempotencyKeyTtlSeconds).',
    idempotent: true,
    errors: common,
  },
  'taskTypes.getSettings': {
    summary:
      'A registered type’s settings: paused, concurrency, ratePerSecond, retentionSeconds, and the retention that applies (`retention`: seconds and source, type or default).',
    idempotent: true,
    errors: [...common, 'TASK_TYPE_NOT_FOUND'],
  },
  'taskTypes.updateSettings': {
    summary:
      'Change a registered type’s settings: a value sets it, null lifts a limit (or, for retentionSeconds, returns to the store’s default), an absent field keeps it. Held tasks that may start now are released: the first page is returned in `released` for the caller to publish; the store releases the rest in the background.',
    idempotent: true,
    errors: [...common, 'TASK_TYPE_NOT_FOUND'],
  },
  'executors.heartbeat': {
    summary:
      'An executor says it is alive and which types it serves (every few seconds; `stopping` when it leaves). tasks.stats lists queued types that no live executor serves.',
    idempotent: true,
    errors: common,
  },
  'flows.create': {
    summary:
      'Create a flow: a DAG of tasks (docs/flows.md), validated whole and written all or nothing. Nodes without dependencies are queued at once (returned in `queued`, for the caller to publish); the others wait. With idempotencyKey, a repeat with the same body returns the first flow (created: false).',
    idempotent: false,
    errors: [...common, 'UNKNOWN_TASK_TYPE', 'TYPE_KIND_MISMATCH', 'PAYLOAD_INVALID', 'IDEMPOTENCY_CONFLICT'],
  },
  'flows.get': {
    summary:
      'One flow with its nodes: status, result and error of each, and the flow status derived from them.',
    idempotent: true,
    errors: [...common, 'FLOW_NOT_FOUND'],
  },
  'flows.list': {
    summary: 'Flows, newest first, with node counts by status; cursor paging.',
    idempotent: true,
    errors: common,
  },
  'flows.cancel': {
    summary:
      'Cancel a running flow: every node not yet ended is cancelled, and returned in `cancelled` (the caller announces them, so that executors stop the running ones). Repeating it changes nothing more; a flow that succeeded or failed is a conflict.',
    idempotent: true,
    errors: [...common, 'FLOW_NOT_FOUND', 'INVALID_TRANSITION', 'BUSY'],
  },
  'schedules.create': {
    summary:
      'Create a schedule (docs/schedules.md): at each tick of its cron, every store’s schedule keeper creates its task, once (idempotency key `schedule:<id>:<tick>`). The cron, timezone, task type and payload are checked first.',
    idempotent: false,
    errors: [...common, 'UNKNOWN_TASK_TYPE', 'TYPE_KIND_MISMATCH', 'PAYLOAD_INVALID'],
  },
  'schedules.get': {
    summary: 'One schedule, with its next tick and the last one fired.',
    idempotent: true,
    errors: [...common, 'SCHEDULE_NOT_FOUND'],
  },
  'schedules.list': {
    summary: 'Every schedule, by name.',
    idempotent: true,
    errors: common,
  },
  'schedules.update': {
    summary:
      'Change a schedule’s fields (`paused` pauses or resumes it). A new cron or timezone, and a resume, count ticks from now: ticks passed while paused never fire.',
    idempotent: true,
    errors: [
      ...common,
      'SCHEDULE_NOT_FOUND',
      'UNKNOWN_TASK_TYPE',
      'TYPE_KIND_MISMATCH',
      'PAYLOAD_INVALID',
      'BUSY',
    ],
  },
  'schedules.delete': {
    summary: 'Delete a schedule; the tasks it created stay. A repeat answers `deleted: false`.',
    idempotent: true,
    errors: common,
  },
  'webhooks.claimDue': {
    summary:
      'Webhook deliveries due now (docs/webhooks.md), each leased to `owner` for leaseMs (default 30,000): the URL, the stored body and a leaseId for recordAttempt. Executor token only.',
    idempotent: false,
    errors: common,
  },
  'webhooks.recordAttempt': {
    summary:
      'The outcome of one POST under a lease: a 2xx statusCode marks it delivered; anything else schedules the next attempt (exponential backoff with jitter) or, after the last one, marks it failed. Executor token only.',
    idempotent: true,
    errors: [...common, 'WEBHOOK_DELIVERY_NOT_FOUND'],
  },
  'webhooks.list': {
    summary: 'A task’s webhook deliveries, oldest first (one per terminal version).',
    idempotent: true,
    errors: [...common, 'TASK_NOT_FOUND'],
  },
  'webhooks.redeliver': {
    summary:
      'Send a delivery again now: pending at once, attempts counted from 0 again (its log is kept). Same Webhook-Id and body.',
    idempotent: true,
    errors: [...common, 'WEBHOOK_DELIVERY_NOT_FOUND'],
  },
};
