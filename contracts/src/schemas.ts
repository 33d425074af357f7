/** JSON Schemas of the JSON-RPC params. Every object schema refuses unknown properties. */
import { FAILURE_POLICIES, FLOW_LIMITS } from './flow.js';
import { OVERLAP_POLICIES } from './schedule.js';
import {
  HISTORY_PAGE_LIMITS,
  PRIORITY_RANGE,
  TASK_DETAIL_FIELDS,
  TASK_KINDS,
  TASK_LABEL_LIMITS,
  TASK_STATUSES,
} from './task.js';
import { RETENTION_BOUNDS, TYPE_LIMIT_BOUNDS } from './type-settings.js';
import { BULK_ACTIONS, BULK_PAGE_MAX } from './bulk-actions.js';
import { WEBHOOK_LIMITS } from './webhook.js';

const id = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' } as const;
/**
 * No lone surrogates: MongoDB stores strings as UTF-8, where every lone surrogate becomes U+FFFD,
 * so two different keys or names would be stored as the same one.
 */
const wellFormed = '^[^\\uD800-\\uDFFF]*$';
const actor = { type: 'string', minLength: 1, maxLength: 100, pattern: wellFormed } as const;
const taskTypeName = { type: 'string', pattern: '^[a-z][a-z0-9_.-]{0,99}$' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const leaseMs = { type: 'integer', minimum: 1_000, maximum: 3_600_000 } as const;
const jsonObject = { type: 'object' } as const;
const nodeKey = { type: 'string', pattern: FLOW_LIMITS.keyPattern } as const;
const idempotencyKey = { type: 'string', minLength: 1, maxLength: 200, pattern: wellFormed } as const;
/** `<taskId>:<version>` (a task id may itself hold colons). */
const deliveryId = {
  type: 'string',
  minLength: 3,
  maxLength: 120,
  pattern: '^[A-Za-z0-9_.:-]+:[0-9]+$',
} as const;
const cursor = { type: 'string', minLength: 1, maxLength: 300, pattern: '^[A-Za-z0-9_-]+$' } as const;

const tag = { type: 'string', pattern: TASK_LABEL_LIMITS.tagPattern } as const;
const tags = { type: 'array', uniqueItems: true, maxItems: TASK_LABEL_LIMITS.maxTags, items: tag } as const;
const metadataValue = {
  type: 'string',
  maxLength: TASK_LABEL_LIMITS.maxMetadataValueLength,
  pattern: wellFormed,
} as const;
const metadata = {
  type: 'object',
  maxProperties: TASK_LABEL_LIMITS.maxMetadataEntries,
  propertyNames: { pattern: TASK_LABEL_LIMITS.metadataKeyPattern },
  additionalProperties: metadataValue,
} as const;
const statusFilter = { enum: TASK_STATUSES } as const;

/**
 * How far ahead a task may be scheduled (runAt or delayMs): 366 days, so a yearly job fits.
 * A JSON Schema cannot say "from now" for runAt, so the store and the gateway check it themselves.
 */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 86_400_000;

const createFields = {
  type: taskTypeName,
  kind: { enum: TASK_KINDS },
  payload: {},
  priority: {
    type: 'integer',
    minimum: PRIORITY_RANGE.min,
    maximum: PRIORITY_RANGE.max,
    description: '0–9, 9 most urgent (default 0): among waiting tasks of a type, higher starts first.',
  },
  maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
  timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
  runAt: dateTime,
  /** Relative to when the store creates the task; kept as given, so an idempotent repeat matches. */
  delayMs: { type: 'integer', minimum: 0, maximum: MAX_SCHEDULE_AHEAD_MS },
  /** Not started by then, the task ends failed (EXPIRED); must lie ahead of now and of runAt. */
  expiresAt: dateTime,
  /** Labels to find the task by (docs/tags-and-bulk-actions.md). */
  tags,
  metadata,
  /** Where to POST the task at every terminal status (docs/webhooks.md). */
  webhook: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: {
        type: 'string',
        maxLength: WEBHOOK_LIMITS.maxUrlLength,
        pattern: WEBHOOK_LIMITS.urlPattern,
        description: 'http or https, at most 2048 characters, without user:password@.',
      },
    },
  },
} as const;

/** Per-type limits (docs/flow-control.md): a number sets one, null lifts it, absent keeps it. */
export const TYPE_LIMIT_FIELDS = {
  concurrency: {
    oneOf: [{ type: 'integer', minimum: 1, maximum: TYPE_LIMIT_BOUNDS.maxConcurrency }, { type: 'null' }],
  },
  ratePerSecond: {
    oneOf: [
      {
        type: 'number',
        minimum: TYPE_LIMIT_BOUNDS.minRatePerSecond,
        maximum: TYPE_LIMIT_BOUNDS.maxRatePerSecond,
      },
      { type: 'null' },
    ],
  },
} as const;

/** A type's retention (docs/retention.md): whole seconds within RETENTION_BOUNDS, or null for the store's default. */
export const RETENTION_FIELD = {
  oneOf: [
    { type: 'integer', minimum: RETENTION_BOUNDS.minSeconds, maximum: RETENTION_BOUNDS.maxSeconds },
    { type: 'null' },
  ],
} as const;

/** runAt or delayMs, not both. (`properties` restates them for Ajv's strict mode.) */
const notBothTimes = { required: ['delayMs', 'runAt'], properties: { delayMs: true, runAt: true } } as const;

const createOne = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    ...createFields,
    idempotencyKey,
  },
  not: notBothTimes,
} as const;

/** A flow: its nodes are tasks to create, each with a key and the keys it depends on. */
const createFlow = {
  type: 'object',
  additionalProperties: false,
  required: ['nodes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: wellFormed },
    failurePolicy: { enum: FAILURE_POLICIES },
    idempotencyKey,
    nodes: {
      type: 'array',
      minItems: 1,
      maxItems: FLOW_LIMITS.maxNodes,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'type'],
        properties: {
          ...createFields,
          key: nodeKey,
          dependsOn: { type: 'array', uniqueItems: true, maxItems: FLOW_LIMITS.maxNodes, items: nodeKey },
        },
        not: notBothTimes,
      },
    },
  },
} as const;

/**
 * A schedule's task: the options of tasks.create but the times and the key, which each tick sets
 * (a new task option belongs here too when it makes sense per tick).
 */
const scheduleTaskFields = {
  type: createFields.type,
  kind: createFields.kind,
  payload: createFields.payload,
  priority: createFields.priority,
  maxAttempts: createFields.maxAttempts,
  timeoutMs: createFields.timeoutMs,
} as const;

const scheduleFields = {
  name: { type: 'string', minLength: 1, maxLength: 200, pattern: wellFormed },
  /** Five fields, or six with seconds first; the store parses it (croner) and names it when it cannot. */
  cron: { type: 'string', minLength: 1, maxLength: 200 },
  /** An IANA time zone name; checked by the store. */
  timezone: { type: 'string', minLength: 1, maxLength: 100 },
  task: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: scheduleTaskFields,
  },
  overlap: { enum: OVERLAP_POLICIES },
  paused: { type: 'boolean' },
} as const;

const taskError = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', minLength: 1, maxLength: 100 },
    message: { type: 'string', maxLength: 10_000 },
    retryable: { type: 'boolean' },
  },
} as const;

const taskTypeDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'kind', 'payloadSchema', 'timeoutMs', 'maxAttempts'],
  properties: {
    type: taskTypeName,
    kind: { enum: TASK_KINDS },
    description: { type: 'string', maxLength: 1000 },
    payloadSchema: jsonObject,
    resultSchema: jsonObject,
    timeoutMs: createFields.timeoutMs,
    maxAttempts: createFields.maxAttempts,
  },
} as const;

/** tasks.bulkAction's params (POST /v1/tasks/actions takes action, filter and dryRun of them). */
export const BULK_ACTION_FIELDS = {
  action: { enum: BULK_ACTIONS },
  filter: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      status: statusFilter,
      type: taskTypeName,
      tag: { oneOf: [tag, { ...tags, minItems: 1 }] },
      createdBefore: dateTime,
      createdAfter: dateTime,
    },
  },
  dryRun: { type: 'boolean' },
  cursor: { type: 'string', minLength: 1, maxLength: 320, pattern: '^[0-9]+(-[A-Za-z0-9_-]+)?$' },
  limit: { type: 'integer', minimum: 1, maximum: BULK_PAGE_MAX },
  by: actor,
} as const;

function params(properties: Record<string, unknown>, required: string[] = []) {
  return { type: 'object', additionalProperties: false, required, properties } as const;
}

export const PARAM_SCHEMAS = {
  'tasks.create': createOne,
  'tasks.createMany': params(
    {
      tasks: {
        type: 'array',
        minItems: 1,
        maxItems: 1000,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['type'],
          properties: createFields,
          not: notBothTimes,
        },
      },
    },
    ['tasks'],
  ),
  'tasks.get': params({ id }, ['id']),
  'tasks.list': params({
    status: statusFilter,
    type: taskTypeName,
    createdAfter: dateTime,
    createdBefore: dateTime,
    limit: { type: 'integer', minimum: 1, maximum: 500 },
    cursor,
    fields: { type: 'array', uniqueItems: true, items: { enum: TASK_DETAIL_FIELDS } },
    // Every tag and every metadata entry must match (docs/tags-and-bulk-actions.md).
    tags: { ...tags, minItems: 1 },
    metadata: { ...metadata, minProperties: 1 },
  }),
  'tasks.bulkAction': params(BULK_ACTION_FIELDS, ['action', 'filter']),
  'tasks.history': params(
    { id, limit: { type: 'integer', minimum: 1, maximum: HISTORY_PAGE_LIMITS.max }, cursor },
    ['id'],
  ),
  'tasks.claim': params({ id, workerId: actor, leaseMs, leaseId: id, type: taskTypeName }, [
    'id',
    'workerId',
    'leaseMs',
  ]),
  'tasks.heartbeat': params(
    {
      id,
      leaseId: id,
      leaseMs,
      progress: { type: 'number', minimum: 0, maximum: 100 },
      progressMessage: { type: 'string', maxLength: 500 },
    },
    ['id', 'leaseId', 'leaseMs'],
  ),
  'tasks.complete': params({ id, leaseId: id, result: {} }, ['id', 'leaseId']),
  'tasks.fail': params({ id, leaseId: id, error: taskError }, ['id', 'leaseId', 'error']),
  'tasks.release': params({ id, leaseId: id, reason: { type: 'string', maxLength: 500 } }, ['id', 'leaseId']),
  'tasks.cancel': params({ id, by: actor, reason: { type: 'string', maxLength: 500 } }, ['id']),
  'tasks.retry': params({ id, by: actor }, ['id']),
  'tasks.markPublished': params(
    {
      tasks: {
        type: 'array',
        minItems: 1,
        maxItems: 1000,
        items: params({ id, version: { type: 'integer', minimum: 1 } }, ['id', 'version']),
      },
    },
    ['tasks'],
  ),
  'tasks.listUnpublished': params({
    olderThanMs: { type: 'integer', minimum: 0, maximum: 86_400_000 },
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
  }),
  'tasks.listExpiredLeases': params({ limit: { type: 'integer', minimum: 1, maximum: 1000 } }),
  'tasks.requeueExpired': params({
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
    by: actor,
  }),
  'tasks.listStale': params(
    {
      type: taskTypeName,
      olderThanMs: { type: 'integer', minimum: 0, maximum: 86_400_000 },
      limit: { type: 'integer', minimum: 1, maximum: 1000 },
    },
    ['type'],
  ),
  'tasks.expireOverdue': params({ limit: { type: 'integer', minimum: 1, maximum: 1000 }, by: actor }),
  'tasks.changes': params(
    {
      since: dateTime,
      seen: { type: 'array', items: { type: 'string', maxLength: 220 }, maxItems: 100 },
      limit: { type: 'integer', minimum: 1, maximum: 10_000 },
      type: taskTypeName,
      status: { enum: TASK_STATUSES },
    },
    ['since'],
  ),
  'tasks.stats': params({}),
  'tasks.recount': params({}),
  'deadLetters.record': params(
    {
      taskId: id,
      // What a dead message says is not trusted to be well-formed: kept as text, bounded.
      type: { type: 'string', maxLength: 100 },
      kind: { type: 'string', maxLength: 20 },
      version: { type: 'integer', minimum: 1 },
      reason: { type: 'string', minLength: 1, maxLength: 1_000 },
      queue: { type: 'string', maxLength: 300 },
      deliveries: { type: 'integer', minimum: 0 },
    },
    ['reason'],
  ),
  'deadLetters.list': params({ limit: { type: 'integer', minimum: 1, maximum: 500 } }),
  'taskTypes.register': params(
    { workerId: actor, types: { type: 'array', minItems: 1, maxItems: 200, items: taskTypeDefinition } },
    ['workerId', 'types'],
  ),
  'taskTypes.list': params({}),
  'taskTypes.getSettings': params({ type: taskTypeName }, ['type']),
  'taskTypes.updateSettings': params(
    {
      type: taskTypeName,
      paused: { type: 'boolean' },
      ...TYPE_LIMIT_FIELDS,
      retentionSeconds: RETENTION_FIELD,
      by: actor,
    },
    ['type'],
  ),
  'executors.heartbeat': params(
    {
      workerId: actor,
      types: { type: 'array', maxItems: 200, items: taskTypeName },
      stopping: { type: 'boolean' },
    },
    ['workerId', 'types'],
  ),
  'flows.create': createFlow,
  'flows.get': params({ id }, ['id']),
  'flows.list': params({ limit: { type: 'integer', minimum: 1, maximum: 200 }, cursor }),
  'flows.cancel': params({ id, by: actor }, ['id']),
  'schedules.create': {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'cron', 'task'],
    properties: scheduleFields,
  },
  'schedules.get': params({ id }, ['id']),
  'schedules.list': params({}),
  'schedules.update': { ...params({ id, ...scheduleFields }, ['id']), minProperties: 2 },
  'schedules.delete': params({ id }, ['id']),
  'webhooks.claimDue': params(
    { owner: actor, limit: { type: 'integer', minimum: 1, maximum: 100 }, leaseMs },
    ['owner'],
  ),
  'webhooks.recordAttempt': params(
    {
      id: deliveryId,
      leaseId: id,
      statusCode: { type: 'integer', minimum: 100, maximum: 599 },
      error: { type: 'string', maxLength: 10_000 },
      ms: { type: 'integer', minimum: 0, maximum: 3_600_000 },
    },
    ['id', 'leaseId'],
  ),
  'webhooks.list': params({ taskId: id }, ['taskId']),
  'webhooks.redeliver': params({ id: deliveryId }, ['id']),
} as const;
