/**
 * JSON Schemas of the REST requests and responses. The routes validate with these and the
 * OpenAPI document is built from them, so the two cannot drift apart.
 */
import { PARAM_SCHEMAS, TASK_DETAIL_FIELDS, TASK_KINDS, TASK_STATUSES } from '@tasks/contracts';

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
  },
  not: PARAM_SCHEMAS['tasks.create'].not,
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

/** Query strings arrive as strings; a repeated parameter arrives as an array and is refused. */
export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
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

export const eventsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { status: { enum: TASK_STATUSES }, type: listParams.type },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

export const taskSchema = {
  type: 'object',
  required: ['id', 'type', 'kind', 'status', 'attempts', 'maxAttempts', 'createdAt', 'updatedAt', 'version'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    kind: { enum: TASK_KINDS },
    payload: {},
    status: { enum: TASK_STATUSES },
    priority: { type: 'integer' },
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
      items: {
        type: 'object',
        properties: {
          status: { enum: TASK_STATUSES },
          at: { type: 'string' },
          by: { type: 'string' },
          attempt: { type: 'integer' },
          error: { type: 'object' },
        },
      },
    },
    version: { type: 'integer' },
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
