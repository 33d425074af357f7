/**
 * JSON Schemas of the REST requests and responses. The routes validate with these and the
 * OpenAPI document is built from them, so the two cannot drift apart.
 */
import {
  BULK_ACTION_FIELDS,
  FAILURE_POLICIES,
  FLOW_STATUSES,
  HISTORY_LIMIT,
  OVERLAP_POLICIES,
  PARAM_SCHEMAS,
  RETENTION_FIELD,
  TASK_DETAIL_FIELDS,
  WEBHOOK_DELIVERY_STATES,
  TASK_KINDS,
  TASK_STATUSES,
  TYPE_LIMIT_FIELDS,
} from '@tasks/contracts';

const create = PARAM_SCHEMAS['tasks.create'].properties;

export const createTaskBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: create.type,
    payload: { description: 'Validated against the task type’s payload schema.' },
    priority: create.priority,
    maxAttempts: create.maxAttempts,
    timeoutMs: create.timeoutMs,
    delayMs: {
      ...create.delayMs,
      description: 'Run no sooner than this many ms from now (at most 366 days: 31622400000).',
    },
    runAt: {
      ...create.runAt,
      description: 'Run no sooner than this time (exclusive with delayMs); at most 366 days from now.',
    },
    expiresAt: {
      ...create.expiresAt,
      description:
        'Not started by this time, the task ends failed with error EXPIRED and never runs late. Must lie in the future and after the time the task is due.',
    },
    tags: {
      ...create.tags,
      description:
        'Up to 10 distinct tags, each 1-64 characters of letters, digits and `_ . : / @ + -`. List by them with `?tag=` (docs/tags-and-bulk-actions.md).',
      examples: [['billing', 'eu-west']],
    },
    metadata: {
      ...create.metadata,
      description:
        'Up to 16 string entries: keys 1-64 characters of letters, digits, `_` and `-`; values at most 256 characters. List by them with `?metadata.<key>=<value>`.',
      examples: [{ customer: 'c-42' }],
    },
    webhook: {
      ...create.webhook,
      description:
        'At every terminal status (succeeded, failed, cancelled) the task is POSTed to `url`, signed (Webhook-Id, Webhook-Timestamp, Webhook-Signature: docs/webhooks.md). http or https, at most 2048 characters, no user:password@.',
    },
  },
  not: PARAM_SCHEMAS['tasks.create'].not,
} as const;

/** PUT /v1/task-types/{type}/limits: a number sets a limit, null lifts it, an absent field keeps it. */
export const typeLimitsBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    concurrency: {
      ...TYPE_LIMIT_FIELDS.concurrency,
      description:
        'At most this many tasks of the type running at once, across every executor; null: no limit.',
    },
    ratePerSecond: {
      ...TYPE_LIMIT_FIELDS.ratePerSecond,
      description:
        'At most this many starts per second, across every executor, after a burst of ceil(ratePerSecond) (rateBurst); null: no limit.',
    },
  },
} as const;

/** PATCH /v1/task-types/{type}: pause or resume, and the type's retention (docs/retention.md). */
export const typePatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    paused: {
      type: 'boolean',
      description:
        'true: no task of the type starts (running ones finish, queued ones wait); false: they start again.',
    },
    retentionSeconds: {
      ...RETENTION_FIELD,
      description:
        'How long a finished task of the type is kept, in whole seconds (1 to 315360000, 10 years); null: the store’s default (TASK_RETENTION_SECONDS).',
    },
  },
} as const;

/** A type's settings as the routes under /v1/task-types/{type} answer them. */
export const typeSettingsSchema = {
  type: 'object',
  required: ['type', 'paused', 'concurrency', 'ratePerSecond', 'rateBurst', 'retentionSeconds', 'retention'],
  properties: {
    type: { type: 'string' },
    paused: { type: 'boolean' },
    concurrency: { type: ['integer', 'null'] },
    ratePerSecond: { type: ['number', 'null'] },
    rateBurst: { type: ['integer', 'null'], description: 'Starts allowed at once after the type was idle.' },
    retentionSeconds: {
      type: ['integer', 'null'],
      description: 'The type’s own retention; null: the store’s default applies.',
    },
    retention: {
      type: 'object',
      description: 'The retention that applies to the type’s finished tasks, and where it comes from.',
      required: ['seconds', 'source'],
      properties: { seconds: { type: 'integer' }, source: { enum: ['type', 'default'] } },
    },
    updatedAt: { type: ['string', 'null'] },
    updatedBy: { type: ['string', 'null'] },
  },
} as const;

const flowParams = PARAM_SCHEMAS['flows.create'].properties;

/** POST /v1/flows: the store's flows.create params, with REST's task fields (no `kind`) per node. */
export const createFlowBody = {
  type: 'object',
  additionalProperties: false,
  required: ['nodes'],
  properties: {
    name: flowParams.name,
    failurePolicy: {
      ...flowParams.failurePolicy,
      description:
        '"fail-fast" (default): a failed or cancelled dependency cancels its dependents (DEPENDENCY_FAILED). "continue": dependents run once every dependency has ended, and see the failures.',
    },
    nodes: {
      ...flowParams.nodes,
      items: {
        ...flowParams.nodes.items,
        properties: {
          key: {
            ...flowParams.nodes.items.properties.key,
            description: 'The node’s name in the flow: letters, digits, _ and -, at most 40.',
          },
          dependsOn: {
            ...flowParams.nodes.items.properties.dependsOn,
            description: 'Keys of the nodes that must end (under fail-fast: succeed) before this one runs.',
          },
          ...createTaskBody.properties,
        },
        not: createTaskBody.not,
      },
    },
  },
} as const;

export const flowPatchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: {
    status: {
      enum: ['cancelled'],
      description: 'Cancels every node not yet ended; running ones are stopped.',
    },
  },
} as const;

export const flowListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: 'Integer 1..200 (default 20).' },
    cursor: PARAM_SCHEMAS['flows.list'].properties.cursor,
  },
} as const;

export const batchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['tasks'],
  properties: { tasks: { type: 'array', minItems: 1, maxItems: 1000, items: createTaskBody } },
} as const;

export const patchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: {
    status: {
      enum: ['cancelled', 'queued'],
      description: '"cancelled" cancels; "queued" retries a failed or cancelled task.',
    },
    reason: { type: 'string', maxLength: 500 },
  },
} as const;

const listParams = PARAM_SCHEMAS['tasks.list'].properties;

const tagParam = create.tags.items;

/**
 * Query strings arrive as strings; a repeated parameter arrives as an array and is refused, but
 * for `tag` (every one given must be on the task). `metadata.<key>=<value>`: one per key.
 */
export const listQuery = {
  type: 'object',
  additionalProperties: false,
  patternProperties: {
    [`^metadata\\.${create.metadata.propertyNames.pattern.slice(1)}`]: create.metadata.additionalProperties,
  },
  properties: {
    tag: {
      oneOf: [tagParam, { ...create.tags, minItems: 1 }],
      description:
        'Only tasks carrying this tag; repeat it (`tag=a&tag=b`, at most 10) for tasks carrying every one. `metadata.<key>=<value>` (one per key, at most 16) filters by metadata the same way.',
    },
    status: { enum: TASK_STATUSES },
    type: listParams.type,
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: 'Integer 1..500 (default 50).' },
    cursor: listParams.cursor,
    createdAfter: listParams.createdAfter,
    createdBefore: listParams.createdBefore,
    fields: {
      type: 'string',
      pattern: `^(${TASK_DETAIL_FIELDS.join('|')})(,(${TASK_DETAIL_FIELDS.join('|')}))*$`,
      description:
        'Comma-separated detail fields to include in each item: payload, result, history. Without it, items are summaries (no payload, result or history).',
    },
  },
} as const;

/** POST /v1/tasks/actions (docs/tags-and-bulk-actions.md). */
const bulkParams = BULK_ACTION_FIELDS;
export const bulkActionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'filter'],
  properties: {
    action: {
      ...bulkParams.action,
      description:
        '"cancel": every matching waiting, queued or running task; "retry": every matching failed or cancelled one.',
    },
    filter: {
      ...bulkParams.filter,
      description:
        'At least one field; every field given must match. `tag` is one tag or an array of tags (all must be on the task). To act on every task, say so with a bound such as `createdBefore` = now.',
    },
    dryRun: {
      ...bulkParams.dryRun,
      description: 'Count what would change; change nothing (`changed` is 0).',
    },
  },
} as const;

export const bulkActionResult = {
  type: 'object',
  required: ['action', 'dryRun', 'matched', 'changed'],
  properties: {
    action: bulkParams.action,
    dryRun: { type: 'boolean' },
    matched: {
      type: 'integer',
      description: 'Tasks that matched the filter in a status the action applies to.',
    },
    changed: {
      type: 'integer',
      description: 'Of those, the ones changed (0 on a dry run; one that moved on meanwhile is skipped).',
    },
    done: { type: 'boolean', description: 'Streamed form only: false on a progress line, true on the last.' },
  },
} as const;

/** GET /v1/tasks/{id}/history (docs/history.md). */
export const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: 'Integer 1..500 (default 50).' },
    cursor: PARAM_SCHEMAS['tasks.history'].properties.cursor,
  },
} as const;

export const eventsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { status: { enum: TASK_STATUSES }, type: listParams.type },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

/** One change of a task (the task's `history`, and the items of GET /v1/tasks/{id}/history). */
export const historyEntrySchema = {
  type: 'object',
  required: ['status', 'at', 'by', 'attempt'],
  properties: {
    status: { enum: TASK_STATUSES, description: 'The status the task entered.' },
    at: { type: 'string', format: 'date-time' },
    by: {
      type: 'string',
      description: 'Who made the change: a worker id, `api`, `create`, `flow`, `dead-letter`, …',
    },
    attempt: { type: 'integer', description: 'The attempt it belongs to (0 before the first claim).' },
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
    },
  },
} as const;

export const taskSchema = {
  type: 'object',
  required: ['id', 'type', 'kind', 'status', 'attempts', 'maxAttempts', 'createdAt', 'updatedAt', 'version'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    kind: { enum: TASK_KINDS },
    payload: {},
    status: { enum: TASK_STATUSES },
    priority: {
      type: 'integer',
      description:
        '0–9, 9 most urgent. Tasks created before the range was 0..9 keep what they were given and run in the nearest band.',
    },
    attempts: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    timeoutMs: { type: 'integer' },
    runAt: { type: 'string', format: 'date-time' },
    idempotencyKey: nullableString,
    result: {},
    error: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
    },
    progress: { type: ['number', 'null'] },
    progressMessage: nullableString,
    leaseOwner: nullableString,
    leaseExpiresAt: nullableString,
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    startedAt: nullableString,
    finishedAt: nullableString,
    history: {
      type: 'array',
      items: historyEntrySchema,
      description: `The latest changes, oldest first: all of them up to ${HISTORY_LIMIT}, else the latest ${HISTORY_LIMIT / 2 + 1} to ${HISTORY_LIMIT}; every change is paged by GET /v1/tasks/{id}/history.`,
    },
    historyOffset: {
      type: 'integer',
      description:
        'Present when earlier changes precede history[0]: how many (GET /v1/tasks/{id}/history pages through them).',
    },
    version: { type: 'integer' },
    expiresAt: { ...nullableString, description: 'Not started by then, the task ends failed (EXPIRED).' },
    heldBy: {
      enum: ['paused', 'concurrency'],
      description:
        'Present while the task is due but waits: its type is paused, or at its concurrency limit.',
    },
    flowId: { type: 'string', description: 'Flow nodes only: the flow (GET /v1/flows/{flowId}).' },
    flowKey: { type: 'string', description: 'Flow nodes only: the node’s key in its flow.' },
    tags: { type: 'array', items: { type: 'string' }, description: 'As given at creation ([] when none).' },
    metadata: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'As given at creation ({} when none).',
    },
    scheduleId: {
      type: 'string',
      description: 'Tasks a schedule created only: the schedule (GET /v1/schedules/{scheduleId}).',
    },
    webhook: {
      type: 'object',
      properties: { url: { type: 'string' } },
      description: 'Set when the task was created with one: where its terminal statuses are POSTed.',
    },
    traceId: {
      type: 'string',
      pattern: '^[0-9a-f]{32}$',
      description:
        'Set when tracing was on for the request that created the task: its OpenTelemetry trace id, which follows the task through the store, RabbitMQ and the executor (docs/observability.md).',
    },
    dependencyResults: {
      type: 'object',
      description:
        'Flow nodes only, once queued: how each dependency ended, by node key — {taskId, status (succeeded|failed|cancelled), result (null unless succeeded), error}. The handler receives the same as ctx.dependencies.',
    },
  },
} as const;

/** A list item: a task without its detail fields, unless the request named them in `fields`. */
export const taskSummarySchema = {
  ...taskSchema,
  description:
    'A task as list pages carry it: payload, result and history are present only when named in the `fields` parameter.',
} as const;

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: {
      type: 'string',
      description: 'Stable URI reference naming the problem, e.g. /problems/payload-invalid',
    },
    code: { type: 'string', description: 'The same, as the error-table name (PAYLOAD_INVALID).' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request id (also in the x-request-id header).' },
    fields: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
    currentStatus: { type: 'string', description: 'On 409: the task’s current status.' },
    knownTypes: { type: 'array', items: { type: 'string' } },
    taskId: { type: 'string', description: 'On an idempotency conflict: the task the key belongs to.' },
  },
} as const;

const taskErrorSchema = taskSchema.properties.error;

export const flowSchema = {
  type: 'object',
  required: ['id', 'name', 'failurePolicy', 'status', 'createdAt', 'cancelledAt', 'nodes'],
  properties: {
    id: { type: 'string' },
    name: nullableString,
    failurePolicy: { enum: FAILURE_POLICIES },
    status: {
      enum: FLOW_STATUSES,
      description:
        'running while any node is waiting, queued or running; then cancelled (the flow was cancelled), succeeded (every node did) or failed.',
    },
    createdAt: { type: 'string', format: 'date-time' },
    cancelledAt: nullableString,
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'taskId', 'type', 'dependsOn', 'status', 'result', 'error'],
        properties: {
          key: { type: 'string' },
          taskId: { type: 'string' },
          type: { type: 'string' },
          dependsOn: { type: 'array', items: { type: 'string' } },
          status: { enum: TASK_STATUSES },
          result: { description: 'The task’s result once it succeeded, else null.' },
          error: taskErrorSchema,
        },
      },
    },
  },
} as const;

export const flowSummarySchema = {
  type: 'object',
  required: ['id', 'name', 'failurePolicy', 'status', 'createdAt', 'cancelledAt', 'nodeCount', 'byStatus'],
  properties: {
    ...Object.fromEntries(Object.entries(flowSchema.properties).filter(([k]) => k !== 'nodes')),
    nodeCount: { type: 'integer' },
    byStatus: { type: 'object', description: 'Nodes by task status.' },
  },
} as const;

const scheduleParams = PARAM_SCHEMAS['schedules.create'].properties;

/** The editable fields of a schedule, as REST takes them (the task without `kind`, as in POST /v1/tasks). */
const scheduleFields = {
  name: scheduleParams.name,
  cron: {
    ...scheduleParams.cron,
    description:
      'Five fields (minute hour day-of-month month day-of-week), or six with seconds first; `@daily` and the like. A cron the store cannot parse, or that never ticks, is a 400 naming `/cron`.',
    examples: ['0 3 * * *', '*/10 * * * * *'],
  },
  timezone: {
    ...scheduleParams.timezone,
    description: 'The IANA time zone the cron is read in (default UTC).',
  },
  task: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    description:
      'The task each tick creates, as in POST /v1/tasks but without times (its runAt is the tick). Type and payload are checked now, as for a task.',
    properties: {
      type: createTaskBody.properties.type,
      payload: createTaskBody.properties.payload,
      priority: createTaskBody.properties.priority,
      maxAttempts: createTaskBody.properties.maxAttempts,
      timeoutMs: createTaskBody.properties.timeoutMs,
    },
  },
  overlap: {
    enum: OVERLAP_POLICIES,
    description:
      '"skip" (default): a tick whose previous task has not ended creates nothing (counted in `skipped`). "allow": every tick creates its task.',
  },
  paused: {
    type: 'boolean',
    description: 'A paused schedule fires nothing; ticks passed while paused never fire.',
  },
} as const;

export const createScheduleBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'cron', 'task'],
  properties: scheduleFields,
} as const;

export const schedulePatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: scheduleFields,
  description:
    'The fields to change. A new cron or timezone, and a resume (`{"paused": false}`), count ticks from now.',
} as const;

export const scheduleSchema = {
  type: 'object',
  required: [
    'id',
    'name',
    'cron',
    'timezone',
    'task',
    'overlap',
    'paused',
    'nextRunAt',
    'createdAt',
    'version',
  ],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    cron: { type: 'string' },
    timezone: { type: 'string' },
    task: { type: 'object', description: 'The task each tick creates (type, payload, options).' },
    overlap: { enum: OVERLAP_POLICIES },
    paused: { type: 'boolean' },
    nextRunAt: { ...nullableString, description: 'The next tick that fires; null while paused.' },
    lastRunAt: { ...nullableString, description: 'The last tick that created a task.' },
    lastTaskId: { ...nullableString, description: 'That task (GET /v1/tasks/{id}).' },
    skipped: { type: 'integer', description: 'Ticks skipped because the previous task had not ended.' },
    lastSkippedAt: nullableString,
    lastError: {
      ...taskErrorSchema,
      description: 'Why the last tick that created no task did not (its type gone, its payload refused).',
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    version: { type: 'integer' },
  },
} as const;

/** One webhook delivery (docs/webhooks.md): one terminal version of a task, POSTed until delivered or given up. */
export const webhookDeliverySchema = {
  type: 'object',
  required: ['id', 'taskId', 'url', 'status', 'state', 'attempts', 'maxAttempts', 'createdAt', 'attemptLog'],
  properties: {
    id: {
      type: 'string',
      description: '`<taskId>:<version>`: the Webhook-Id header, the same on every attempt.',
    },
    taskId: { type: 'string' },
    version: {
      type: 'integer',
      description: 'The task version it reports (the body is the task at that version).',
    },
    url: { type: 'string' },
    status: { enum: TASK_STATUSES, description: 'The task status it reports.' },
    state: {
      enum: WEBHOOK_DELIVERY_STATES,
      description: 'pending (not yet delivered; retried), delivered (a 2xx answer), failed (given up).',
    },
    attempts: { type: 'integer', description: 'Attempts since it was created or last redelivered.' },
    maxAttempts: { type: 'integer', description: 'Attempts before it is given up (failed).' },
    lastStatusCode: {
      type: ['integer', 'null'],
      description: 'The receiver’s last HTTP status; null: no answer.',
    },
    lastError: nullableString,
    nextAttemptAt: {
      ...nullableString,
      description: 'When it is tried next; null once delivered or failed.',
    },
    deliveredAt: nullableString,
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    attemptLog: {
      type: 'array',
      description: 'The newest attempts (at most 20), oldest first.',
      items: {
        type: 'object',
        properties: {
          at: { type: 'string', format: 'date-time' },
          statusCode: { type: ['integer', 'null'] },
          error: nullableString,
          ms: { type: 'integer' },
        },
      },
    },
  },
} as const;

/** POST …/webhooks/{deliveryId}/redeliver: no fields (`{}`), as every POST here takes JSON. */
export const redeliverBody = { type: 'object', additionalProperties: false, properties: {} } as const;
