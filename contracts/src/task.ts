/** The task model as it travels on the wire (dates are ISO-8601 strings). */
import type { HoldReason, TypeSettings } from './type-settings.js';

/** `waiting`: a flow node whose dependencies have not all ended yet (docs/flows.md). */
export const TASK_STATUSES = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

export const TASK_KINDS = ['cpu', 'io'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export interface TaskError {
  code: string;
  message: string;
  /** false means the handler asked for no further attempts. */
  retryable?: boolean;
}

export interface HistoryEntry {
  status: TaskStatus;
  at: string;
  /** Who made the change: a worker id, or the caller named in cancel/retry ("api", "tasksctl", ...). */
  by: string;
  attempt: number;
  error?: TaskError;
}

/** What a task carries (and shows on reads) when it was created with a webhook (docs/webhooks.md). */
export interface TaskWebhook {
  url: string;
}

export interface Task {
  id: string;
  type: string;
  kind: TaskKind;
  payload: unknown;
  status: TaskStatus;
  priority: number;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  runAt: string;
  idempotencyKey: string | null;
  result: unknown;
  error: TaskError | null;
  progress: number | null;
  progressMessage: string | null;
  leaseOwner: string | null;
  /** Fencing token of the current (or last) claim; only its holder may heartbeat, complete or fail. */
  leaseId: string | null;
  leaseExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * The latest changes, oldest first: every change while there are at most HISTORY_LIMIT, else
   * the latest HISTORY_LIMIT/2+1 to HISTORY_LIMIT (older ones move out in blocks). The whole
   * history, every change for as long as the task is kept, is paged by `tasks.history`
   * (`GET /v1/tasks/{id}/history`); docs/history.md.
   */
  history: HistoryEntry[];
  /** How many earlier changes precede `history[0]` (read them with `tasks.history`); absent when none. */
  historyOffset?: number;
  version: number;
  /** Not started by then, the task ends failed with error EXPIRED instead (null: no deadline). */
  expiresAt?: string | null;
  /** Set while a due task waits because its type is paused or at its concurrency limit. */
  heldBy?: HoldReason;
  /** Set on the nodes of a flow only: the flow and this node's key in it. */
  flowId?: string;
  flowKey?: string;
  /**
   * Set on a flow node once it is queued: how each dependency ended, by node key (docs/flows.md).
   * The handler receives the same object as `ctx.dependencies`.
   */
  dependencyResults?: DependencyResults;
  /** Set on the tasks a schedule created: the schedule (docs/schedules.md). */
  scheduleId?: string;
  /** Labels given at creation (docs/tags-and-bulk-actions.md); [] and {} when none. */
  tags?: string[];
  metadata?: Record<string, string>;
  /** Set when created with one: its terminal statuses are POSTed there (docs/webhooks.md). */
  webhook?: TaskWebhook;
  /**
   * The trace of the request that created it, when that request was traced (docs/observability.md):
   * its W3C traceparent (a later publish continues that trace) and the trace id alone, to show.
   */
  traceparent?: string;
  traceId?: string;
}

/** How one dependency of a flow node ended. `result` is null unless it succeeded. */
export interface DependencyResult {
  taskId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  result: unknown;
  error: TaskError | null;
}

export type DependencyResults = Record<string, DependencyResult>;

/** Most history entries a task document (and `Task.history`) carries; the rest is paged by `tasks.history`. */
export const HISTORY_LIMIT = 50;
/** `tasks.history` page sizes (`limit`). */
export const HISTORY_PAGE_LIMITS = { default: 50, max: 500 } as const;

/**
 * Tags and metadata a task may carry (docs/tags-and-bulk-actions.md). Metadata keys have no `.`
 * (a query names them as `metadata.<key>`) and no `=` (the stored label is `m:<key>=<value>`).
 */
export const TASK_LABEL_LIMITS = {
  maxTags: 10,
  tagPattern: '^[A-Za-z0-9_.:/@+-]{1,64}$',
  maxMetadataEntries: 16,
  metadataKeyPattern: '^[A-Za-z0-9_-]{1,64}$',
  maxMetadataValueLength: 256,
} as const;

/**
 * The parts of a task a list leaves out unless asked (`fields`): they can be large (a payload or
 * result of up to a MiB, fifty history entries), and a page of summaries stays small.
 */
export const TASK_DETAIL_FIELDS = ['payload', 'result', 'history'] as const;
export type TaskDetailField = (typeof TASK_DETAIL_FIELDS)[number];

/** A task as list pages and the dispatcher's reads carry it: everything but the detail fields, unless asked. */
export type TaskSummary = Omit<Task, TaskDetailField | 'dependencyResults'> &
  Partial<Pick<Task, TaskDetailField>>;

export interface TaskTypeDefinition {
  type: string;
  kind: TaskKind;
  description?: string;
  payloadSchema: Record<string, unknown>;
  resultSchema?: Record<string, unknown>;
  timeoutMs: number;
  maxAttempts: number;
}

export interface TaskType extends TaskTypeDefinition {
  registeredBy: string;
  updatedAt: string;
  /** The operator's settings (docs/flow-control.md). */
  paused: boolean;
  concurrency: TypeSettings['concurrency'];
  ratePerSecond: TypeSettings['ratePerSecond'];
  /** The type's own retention (docs/retention.md); null: the store's default. */
  retentionSeconds: TypeSettings['retentionSeconds'];
}

/**
 * Task priorities: integers from 0 (the default) to 9 (the most urgent). Among waiting tasks, a
 * higher priority starts first (docs/priorities.md).
 */
export const PRIORITY_RANGE = { min: 0, max: 9 } as const;

/** Defaults applied when neither the request nor the task type gives a value. */
export const TASK_DEFAULTS = {
  priority: 0,
  maxAttempts: 3,
  timeoutMs: 60_000,
} as const;

/** Retry backoff after a retryable failure: min(cap, base * factor^(attempt-1)), with full jitter on top half. */
export const RETRY_BACKOFF = {
  baseMs: 1_000,
  factor: 2,
  capMs: 5 * 60_000,
} as const;

/** A status change, published after the store recorded it. */
export interface StatusEvent {
  taskId: string;
  type: string;
  status: TaskStatus;
  version: number;
  attempts: number;
  at: string;
  progress?: number | null;
  error?: TaskError | null;
  /** Set for the nodes of a flow: the flow's page follows its nodes' events by it. */
  flowId?: string;
}
