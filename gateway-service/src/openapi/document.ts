/**
 * The OpenAPI 3.1 description of the REST API. Request and task schemas are the very objects the
 * routes validate with (schemas.ts); problem statuses and titles come from the error table. Only
 * what no schema states yet (stats, SSE framing, a few headers) is written out here.
 */
import { createRequire } from 'node:module';
import { ERRORS, PARAM_SCHEMAS, TASK_STATUSES, type ErrorType } from '@tasks/contracts';
import { problemType } from '../middleware/problem-details.js';
import {
  historyEntrySchema,
  historyQuery,
  batchBody,
  createFlowBody,
  createScheduleBody,
  createTaskBody,
  eventsQuery,
  flowListQuery,
  flowPatchBody,
  bulkActionBody,
  bulkActionResult,
  flowSchema,
  flowSummarySchema,
  listQuery,
  patchBody,
  problemSchema,
  schedulePatchBody,
  scheduleSchema,
  taskSchema,
  taskSummarySchema,
  typeLimitsBody,
  typePatchBody,
  typeSettingsSchema,
  redeliverBody,
  webhookDeliverySchema,
} from '../schemas.js';

type Json = Record<string, unknown>;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const headerRef = (name: string): Json => ({ $ref: `#/components/headers/${name}` });

// ---- Schemas derived from the validated ones ---------------------------------------------------

const t = taskSchema.properties;

/** The status event as TaskPublisher.emit builds it from a task. */
const statusEvent = {
  type: 'object',
  required: ['taskId', 'type', 'status', 'version', 'attempts', 'at'],
  properties: {
    taskId: t.id,
    type: t.type,
    status: t.status,
    version: t.version,
    attempts: t.attempts,
    at: t.updatedAt,
    progress: t.progress,
    error: t.error,
  },
};

interface ObjectSchema {
  required: readonly string[];
  properties: Record<string, unknown>;
}

// contracts types PARAM_SCHEMAS' properties loosely; this one is the task type definition schema.
const typeDefinition = (PARAM_SCHEMAS['taskTypes.register'].properties.types as { items: ObjectSchema })
  .items;
const taskType = {
  ...typeDefinition,
  required: [...typeDefinition.required, 'registeredBy', 'updatedAt'],
  properties: {
    ...typeDefinition.properties,
    registeredBy: { type: 'string', description: 'The executor that registered the type.' },
    updatedAt: { type: 'string', format: 'date-time' },
    paused: typeSettingsSchema.properties.paused,
    concurrency: typeSettingsSchema.properties.concurrency,
    ratePerSecond: typeSettingsSchema.properties.ratePerSecond,
    retentionSeconds: typeSettingsSchema.properties.retentionSeconds,
  },
};

/** The store's retention defaults (docs/retention.md), beside the list of types. */
const retentionDefaults = {
  type: 'object',
  description: 'The store’s retention defaults: what applies to a type without its own retentionSeconds.',
  required: ['defaultSeconds', 'idempotencyKeyTtlSeconds'],
  properties: {
    defaultSeconds: {
      type: 'integer',
      description: 'Finished tasks are removed this long after they ended (TASK_RETENTION_SECONDS).',
    },
    idempotencyKeyTtlSeconds: {
      type: 'integer',
      description:
        'An Idempotency-Key older than this is forgotten: the same key then creates a new task (IDEMPOTENCY_KEY_TTL_SECONDS).',
    },
  },
} as const;

/** GET /v1/task-types/{type}: the definition, then the settings over it (their updatedAt wins). */
const taskTypeDetail = {
  type: 'object',
  required: typeSettingsSchema.required,
  properties: { ...taskType.properties, ...typeSettingsSchema.properties },
};

const count = { type: 'integer', minimum: 0 } as const;
const stats = {
  type: 'object',
  required: ['byStatus', 'byType', 'succeededLastMinute', 'failedLastMinute', 'unservedTypes'],
  properties: {
    byStatus: {
      type: 'object',
      required: TASK_STATUSES,
      properties: Object.fromEntries(TASK_STATUSES.map((s) => [s, count])),
    },
    byType: {
      type: 'object',
      description: 'Per task type, the statuses that have at least one task.',
      additionalProperties: { type: 'object', additionalProperties: count },
    },
    succeededLastMinute: count,
    failedLastMinute: count,
    unservedTypes: {
      type: 'array',
      description:
        'Task types with queued tasks that no running executor serves: they wait until one starts.',
      items: {
        type: 'object',
        required: ['type', 'queued'],
        properties: { type: { type: 'string' }, queued: count },
      },
    },
  },
};

const itemsOf = (name: string, extra: Json = {}): Json => ({
  type: 'object',
  required: ['items', ...Object.keys(extra)],
  properties: { items: { type: 'array', items: ref(name) }, ...extra },
});

// ---- Problems ----------------------------------------------------------------------------------

/** Problems whose response carries Retry-After (see problem-details.ts). */
const RETRY_AFTER = new Set<ErrorType>(['RATE_LIMITED', 'BUSY', 'DEPENDENCY_UNAVAILABLE']);

/** Example extras for the problems that carry more than type/title/detail. */
const EXAMPLE_EXTRAS: Partial<Record<ErrorType, Json>> = {
  VALIDATION_FAILED: { fields: [{ path: '/priority', message: 'must be <= 9' }] },
  UNKNOWN_TASK_TYPE: { knownTypes: ['hash', 'primes.count', 'sleep'] },
  PAYLOAD_INVALID: { fields: [{ path: '/payload/limit', message: 'must be integer' }] },
  IDEMPOTENCY_CONFLICT: { taskId: '7c0c7a51-34b5-4d7e-9a57-2b7d3f3c1f0e' },
  INVALID_TRANSITION: { currentStatus: 'succeeded' },
};

function problemExample(code: ErrorType): Json {
  const { http: status, title } = ERRORS[code];
  return {
    summary: title,
    value: { type: problemType(code), code, title, status, instance: 'req-1', ...EXAMPLE_EXTRAS[code] },
  };
}

/** One response per HTTP status, listing every problem type that can answer with it. */
function problemResponses(codes: Iterable<ErrorType>): Record<string, Json> {
  const byStatus = new Map<number, ErrorType[]>();
  for (const code of new Set(codes)) {
    const status = ERRORS[code].http;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((c) => `\`${problemType(c)}\`: ${ERRORS[c].title}`).join('; '),
        headers: {
          ...(list.some((c) => RETRY_AFTER.has(c)) && { 'Retry-After': headerRef('RetryAfter') }),
          ...(list.includes('UNAUTHORIZED') && { 'WWW-Authenticate': headerRef('WwwAuthenticate') }),
        },
        content: {
          'application/problem+json': {
            schema: ref('Problem'),
            examples: Object.fromEntries(list.map((c) => [c, problemExample(c)])),
          },
        },
      },
    ]),
  );
}

// ---- Responses and operations ------------------------------------------------------------------

const json = (description: string, schema: Json, headers: Json = {}): Json => ({
  description,
  headers,
  content: { 'application/json': { schema } },
});

const text = (description: string, mediaType: string): Json => ({
  description,
  content: { [mediaType]: { schema: { type: 'string' } } },
});

function eventStream(description: string, example: string): Json {
  return {
    description,
    headers: { 'Cache-Control': { schema: { const: 'no-cache' } } },
    content: { 'text/event-stream': { schema: { type: 'string' }, example } },
  };
}

interface Operation {
  /** The route's name in its router. */
  id: string;
  tag: 'tasks' | 'flows' | 'schedules' | 'events' | 'task-types' | 'meta' | 'docs';
  summary: string;
  description?: string;
  parameters?: Json[];
  /** components.schemas name of the JSON request body. */
  body?: string;
  responses: Record<string, Json>;
  errors?: ErrorType[];
}

function operation(o: Operation, extraErrors: ErrorType[] = []): Json {
  const errors = [
    ...extraErrors,
    ...(o.body ? (['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const) : []),
    ...(o.errors ?? []),
  ];
  const responses = { ...o.responses, ...problemResponses(errors) };
  for (const r of Object.values(responses)) {
    r.headers = { 'X-Request-Id': headerRef('RequestId'), ...(r.headers as Json | undefined) };
  }
  return {
    operationId: o.id,
    tags: [o.tag],
    summary: o.summary,
    ...(o.description && { description: o.description }),
    ...(o.parameters && { parameters: o.parameters }),
    ...(o.body && {
      requestBody: { required: true, content: { 'application/json': { schema: ref(o.body) } } },
    }),
    responses,
  };
}

/** A /v1 operation: behind the API key (when API_KEYS is set) and the rate limit. */
const api = (o: Operation): Json => ({
  ...operation(o, ['UNAUTHORIZED', 'RATE_LIMITED', 'INTERNAL']),
  security: [{ apiKey: [] }, {}],
});

/** Operations outside /v1: no key, no rate limit. */
const open = (o: Operation): Json => operation(o);

function queryParameters(schema: { properties: Record<string, unknown> }): Json[] {
  return Object.entries(schema.properties).map(([name, s]) => {
    const description = (s as { description?: unknown } | undefined)?.description;
    return {
      name,
      in: 'query',
      required: false,
      schema: s,
      ...(typeof description === 'string' && { description }),
    };
  });
}

// ---- Server-Sent Events ------------------------------------------------------------------------

const SSE_COMMON =
  '`event: ping` (data `{}`) comes every 15 s to keep proxies from closing the connection. ' +
  'A client that reads too slowly gets `event: overflow` and the stream closes; reconnect for the current state.';

const FOLLOW_TASK = `Server-Sent Events for one task. Each message is

\`\`\`
id: <version>
event: status
data: <JSON>
\`\`\`

The first message carries the whole task as it is now (schema \`Task\`); each later one carries a
\`StatusEvent\` \`{taskId, type, status, version, attempts, at, progress, error}\` for the next version, in
order (after a missed event the task is read again and sent whole). The stream closes after a terminal
status (\`succeeded\`, \`failed\`, \`cancelled\`). A client reconnecting with \`Last-Event-ID: <version>\`
gets the task whole only if it changed since, and a stream whose task has ended by then closes at once.
${SSE_COMMON}`;

const ALL_EVENTS = `Server-Sent Events for every task, optionally filtered by type and status. The stream opens with
\`event: ready\` (data \`{}\`); then each status change is

\`\`\`
id: <updatedAt in ms>.<version>.<taskId>
event: status
data: <StatusEvent JSON>
\`\`\`

with \`StatusEvent\` = \`{taskId, type, status, version, attempts, at, progress, error}\`. The stream stays
open until the client leaves.

**Resuming:** a client reconnecting with \`Last-Event-ID\` (EventSource sends it by itself) first gets, read
from the store, the latest status of every task (matching the filters) changed since that event, oldest
first, then \`event: ready\` with data \`{replayed, complete}\`, then live events. The replay reaches back 10
minutes and holds at most 1,000 tasks; beyond that (or for an id that is not one of these) the stream
sends \`event: reset\` first: reload the current state. A task changed several times while the client was
away is replayed once, at its latest version; an event may arrive twice (dedupe by taskId and version).
${SSE_COMMON}`;

// ---- The document ------------------------------------------------------------------------------

const DESCRIPTION = `Create, list, cancel and retry background tasks, and watch their status live.

**Errors** are \`application/problem+json\` (RFC 9457): \`type\` is \`/problems/<code in kebab-case>\`
and stable, \`code\` is the same in the error table's spelling, \`instance\` is the request id.
An unknown path answers \`/problems/route-not-found\` (404), a known path with another method
\`/problems/method-not-allowed\` (405).

**Request ids**: send \`X-Request-Id\` (1-100 of \`A-Z a-z 0-9 _ . : -\`) to choose one; every response
echoes it (or a new UUID) in \`X-Request-Id\`.

**Authentication and rate limit** apply to \`/v1\` only: a bearer API key when the server runs with
\`API_KEYS\` (otherwise none is needed), and \`RATE_LIMIT_PER_MINUTE\` requests per key (or IP).`;

export function openApiDocument(): Record<string, unknown> {
  const id = { $ref: '#/components/parameters/TaskId' };
  const flowIdParam = { $ref: '#/components/parameters/FlowId' };
  const typeParam = { $ref: '#/components/parameters/TaskTypeName' };
  // A name no type could have is refused by the store's params schema (400).
  const typeErrors: ErrorType[] = ['TASK_TYPE_NOT_FOUND', 'VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE'];
  const scheduleIdParam = {
    name: 'id',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' },
    description: 'The schedule id.',
  };
  const task = (description: string, headers: Json = {}) => json(description, ref('Task'), headers);
  const location = { Location: headerRef('Location') };

  return {
    openapi: '3.1.0',
    info: { title: 'Tasks API', version, description: DESCRIPTION },
    tags: [
      { name: 'tasks', description: 'Create, read, cancel and retry tasks.' },
      { name: 'flows', description: 'Tasks that wait for other tasks: DAGs with results passed along.' },
      { name: 'schedules', description: 'Cron schedules that create a task at each tick.' },
      { name: 'events', description: 'Live status changes as Server-Sent Events.' },
      {
        name: 'task-types',
        description:
          'The registered task types, and what an operator sets per type at run time: pause and resume, concurrency and rate limits (docs/flow-control.md).',
      },
      { name: 'meta', description: 'Statistics, health and metrics.' },
      { name: 'docs', description: 'This description and its viewer.' },
    ],
    paths: {
      '/v1/tasks': {
        post: api({
          id: 'create-task',
          tag: 'tasks',
          summary: 'Create a task',
          description:
            'Queues one task. With `Idempotency-Key`, repeating the request with the same body returns the ' +
            'task the first request created (200) instead of creating another; the same key with another body is a 409. ' +
            'A key is remembered for `idempotencyKeyTtlSeconds` (`GET /v1/task-types`, 24 h by default); after that ' +
            'the same key creates a new task.',
          parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
          body: 'CreateTaskBody',
          responses: {
            201: task('Created.', location),
            200: task('Already created by an earlier request with this Idempotency-Key and body.', location),
          },
          errors: [
            'UNKNOWN_TASK_TYPE',
            'PAYLOAD_INVALID',
            'IDEMPOTENCY_CONFLICT',
            'BUSY',
            'DEPENDENCY_UNAVAILABLE',
          ],
        }),
        get: api({
          id: 'list-tasks',
          tag: 'tasks',
          summary: 'List tasks',
          description:
            'Newest first. Pass `nextCursor` back as `cursor` for the next page; unknown parameters are refused. Items are summaries: add `fields=payload,result,history` (any of them) to include those. A page costs the same however many tasks are stored (docs/list-pages.md).',
          parameters: queryParameters(listQuery),
          responses: {
            200: json(
              'A page of task summaries.',
              itemsOf('TaskSummary', {
                nextCursor: { type: ['string', 'null'], description: 'null on the last page.' },
              }),
            ),
          },
          errors: ['VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/tasks/batch': {
        post: api({
          id: 'create-tasks',
          tag: 'tasks',
          summary: 'Create up to 1,000 tasks',
          description: 'All tasks are validated before any is written: either all are created or none.',
          body: 'BatchBody',
          responses: { 201: json('Created, in the order given.', itemsOf('Task')) },
          errors: ['UNKNOWN_TASK_TYPE', 'PAYLOAD_INVALID', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/tasks/actions': {
        post: api({
          id: 'task-actions',
          tag: 'tasks',
          summary: 'Cancel or retry every task matching a filter',
          description:
            'Works through the matching tasks a page at a time, each changed as `PATCH /v1/tasks/{id}` would change it ' +
            '(retried tasks are published, cancelled running ones stopped); a task that has moved on meanwhile is skipped, ' +
            'so the same request again changes only what still matches. `dryRun: true` counts and changes nothing. ' +
            'An empty filter is refused. With `Accept: application/x-ndjson` the answer is a stream of lines, ' +
            '`{"matched", "changed", "done": false}` (running totals) after each page, then the totals with `"done": true` ' +
            '(and `error` when a page failed part way). docs/tags-and-bulk-actions.md.',
          body: 'BulkActionBody',
          responses: {
            200: {
              description:
                'The totals (or, for `Accept: application/x-ndjson`, progress lines then the totals).',
              content: {
                'application/json': { schema: ref('BulkActionResult') },
                'application/x-ndjson': {
                  schema: { type: 'string' },
                  example:
                    '{"matched":100,"changed":100,"done":false}\n{"matched":130,"changed":129,"done":false}\n' +
                    '{"action":"retry","dryRun":false,"matched":130,"changed":129,"done":true}\n',
                },
              },
            },
          },
          errors: ['BUSY', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/tasks/{id}': {
        get: api({
          id: 'get-task',
          tag: 'tasks',
          summary: 'Show a task',
          description:
            'A finished task is removed once its type’s retention has passed (`retention` in ' +
            '`GET /v1/task-types/{type}`); it then answers 404 `TASK_NOT_FOUND`, as an id that never existed.',
          parameters: [id],
          responses: { 200: task('The task.') },
          errors: ['TASK_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
        patch: api({
          id: 'update-task',
          tag: 'tasks',
          summary: 'Cancel or retry a task',
          description:
            '`{"status": "cancelled"}` cancels a waiting, queued or running task (a running one is told to stop). ' +
            '`{"status": "queued"}` retries a failed or cancelled task with a fresh attempt budget; a flow node ' +
            'with dependencies waits for them again (`waiting`, docs/flows.md), and one cancelled with ' +
            '`DEPENDENCY_FAILED` is a 409 (retry the dependency that failed). ' +
            'Any other current status is a 409 whose `currentStatus` names it.',
          parameters: [id],
          body: 'PatchBody',
          responses: { 200: task('The task after the change.') },
          errors: ['TASK_NOT_FOUND', 'INVALID_TRANSITION', 'BUSY', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/tasks/{id}/history': {
        get: api({
          id: 'task-history',
          tag: 'tasks',
          summary: 'Page through a task’s whole history',
          description:
            'Every change of the task for as long as it is kept, oldest first (docs/history.md); the task itself ' +
            'carries only the latest ones. Pass `nextCursor` back as `cursor` for the next page; it is null on the last.',
          parameters: [id, ...queryParameters(historyQuery)],
          responses: {
            200: json(
              'A page of the history.',
              itemsOf('HistoryEntry', {
                nextCursor: { type: ['string', 'null'], description: 'null on the last page.' },
              }),
            ),
          },
          errors: ['VALIDATION_FAILED', 'TASK_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/tasks/{id}/events': {
        get: api({
          id: 'follow-task',
          tag: 'events',
          summary: 'Follow one task',
          parameters: [id, { $ref: '#/components/parameters/LastEventId' }],
          responses: {
            200: eventStream(
              FOLLOW_TASK,
              'id: 2\nevent: status\ndata: {"id":"7c0c…","type":"sleep","status":"running","version":2,…}\n\n' +
                'id: 3\nevent: status\ndata: {"taskId":"7c0c…","type":"sleep","status":"succeeded","version":3,' +
                '"attempts":1,"at":"2026-01-01T00:00:01.000Z","progress":null,"error":null}\n\n',
            ),
          },
          errors: ['TASK_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/tasks/{id}/webhooks': {
        get: api({
          id: 'list-webhook-deliveries',
          tag: 'tasks',
          summary: 'A task’s webhook deliveries',
          description:
            'One delivery per terminal version of a task created with `webhook` (docs/webhooks.md), oldest first: ' +
            'its state (pending, delivered, failed), attempts, the last status code and error, the next retry and the newest attempts.',
          parameters: [id],
          responses: {
            200: json('The deliveries.', {
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: ref('WebhookDelivery') } },
            }),
          },
          errors: ['TASK_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/tasks/{id}/webhooks/{deliveryId}/redeliver': {
        post: api({
          id: 'redeliver-webhook',
          tag: 'tasks',
          summary: 'Send a webhook delivery again',
          description:
            'Pending again at once, attempts counted from 0 (the attempt log is kept); the same Webhook-Id and body. ' +
            'Works on delivered and failed deliveries alike. The body is `{}`.',
          parameters: [
            id,
            {
              name: 'deliveryId',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]+:[0-9]+$' },
              description: '`<taskId>:<version>`, as listed.',
            },
          ],
          body: 'RedeliverBody',
          responses: { 202: json('The delivery, pending.', ref('WebhookDelivery')) },
          errors: ['WEBHOOK_DELIVERY_NOT_FOUND', 'TASK_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/flows': {
        post: api({
          id: 'create-flow',
          tag: 'flows',
          summary: 'Create a flow',
          description:
            'A DAG of tasks (docs/flows.md): each node is a task with a `key` and the keys it `dependsOn`. ' +
            'The whole flow is validated (keys, cycles, at most 100 nodes, every payload against its type) and ' +
            'written all or nothing. Nodes without dependencies are queued at once; the others are `waiting` ' +
            'until their dependencies end, then receive their results (`dependencyResults`, `ctx.dependencies`). ' +
            'With `Idempotency-Key`, a repeat with the same body returns the first flow (200), for as long as ' +
            'the key is remembered (`idempotencyKeyTtlSeconds`).',
          parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
          body: 'CreateFlowBody',
          responses: {
            201: json('Created.', ref('Flow'), location),
            200: json(
              'Already created by an earlier request with this Idempotency-Key and body.',
              ref('Flow'),
              location,
            ),
          },
          errors: ['UNKNOWN_TASK_TYPE', 'PAYLOAD_INVALID', 'IDEMPOTENCY_CONFLICT', 'DEPENDENCY_UNAVAILABLE'],
        }),
        get: api({
          id: 'list-flows',
          tag: 'flows',
          summary: 'List flows',
          description:
            'Newest first, with node counts by status. Pass `nextCursor` back as `cursor` for the next page.',
          parameters: queryParameters(flowListQuery),
          responses: {
            200: json(
              'A page of flows.',
              itemsOf('FlowSummary', {
                nextCursor: { type: ['string', 'null'], description: 'null on the last page.' },
              }),
            ),
          },
          errors: ['VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/flows/{id}': {
        get: api({
          id: 'get-flow',
          tag: 'flows',
          summary: 'Show a flow',
          description:
            'The flow with each node’s status, result and error; the flow’s status is derived from them.',
          parameters: [flowIdParam],
          responses: { 200: json('The flow.', ref('Flow')) },
          errors: ['FLOW_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
        patch: api({
          id: 'update-flow',
          tag: 'flows',
          summary: 'Cancel a flow',
          description:
            '`{"status": "cancelled"}` cancels every node not yet ended; running ones are told to stop. Repeating it changes nothing. ' +
            'To resume a flow after a failure, retry the failed node (PATCH /v1/tasks/{id} with `{"status": "queued"}`).',
          parameters: [flowIdParam],
          body: 'FlowPatchBody',
          responses: { 200: json('The flow after the change.', ref('Flow')) },
          errors: ['FLOW_NOT_FOUND', 'INVALID_TRANSITION', 'BUSY', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/flows/{id}/events': {
        get: api({
          id: 'follow-flow',
          tag: 'events',
          summary: 'Follow one flow',
          parameters: [flowIdParam],
          responses: {
            200: eventStream(
              'Server-Sent Events for one flow: `event: flow` with the whole flow (as GET /v1/flows/{id}) first, ' +
                'then again after each change to one of its nodes; the stream closes once the flow is no longer running. ' +
                SSE_COMMON,
              'event: flow\ndata: {"id":"5b1e…","status":"running","nodes":[{"key":"a","status":"succeeded",…},…]}\n\n',
            ),
          },
          errors: ['FLOW_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/schedules': {
        post: api({
          id: 'create-schedule',
          tag: 'schedules',
          summary: 'Create a schedule',
          description:
            'At each tick of `cron` (read in `timezone`), the store creates the `task` once, however many stores ' +
            'and gateways run: an ordinary task with `scheduleId`, `runAt` the tick and the idempotency key ' +
            '`schedule:<id>:<tick>`. Ticks missed while every store was down fire late when within 60 s; of older ' +
            'ones only the latest fires (docs/schedules.md).',
          body: 'CreateScheduleBody',
          responses: { 201: json('Created.', ref('Schedule'), location) },
          errors: ['UNKNOWN_TASK_TYPE', 'PAYLOAD_INVALID', 'DEPENDENCY_UNAVAILABLE'],
        }),
        get: api({
          id: 'list-schedules',
          tag: 'schedules',
          summary: 'List schedules',
          description: 'Every schedule, by name.',
          responses: { 200: json('The schedules.', itemsOf('Schedule', {})) },
          errors: ['DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/schedules/{id}': {
        get: api({
          id: 'get-schedule',
          tag: 'schedules',
          summary: 'Show a schedule',
          parameters: [scheduleIdParam],
          responses: { 200: json('The schedule.', ref('Schedule')) },
          errors: ['SCHEDULE_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
        patch: api({
          id: 'update-schedule',
          tag: 'schedules',
          summary: 'Change, pause or resume a schedule',
          description:
            '`{"paused": true}` pauses, `{"paused": false}` resumes (ticks passed while paused never fire); any ' +
            'other field of the creation may change too, checked as at creation.',
          parameters: [scheduleIdParam],
          body: 'SchedulePatchBody',
          responses: { 200: json('The schedule after the change.', ref('Schedule')) },
          errors: [
            'SCHEDULE_NOT_FOUND',
            'UNKNOWN_TASK_TYPE',
            'PAYLOAD_INVALID',
            'BUSY',
            'DEPENDENCY_UNAVAILABLE',
          ],
        }),
        delete: api({
          id: 'delete-schedule',
          tag: 'schedules',
          summary: 'Delete a schedule',
          description: 'It fires no more; the tasks it created stay.',
          parameters: [scheduleIdParam],
          responses: { 204: { description: 'Deleted.' } },
          errors: ['SCHEDULE_NOT_FOUND', 'DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/events': {
        get: api({
          id: 'all-events',
          tag: 'events',
          summary: 'Follow all tasks',
          parameters: [...queryParameters(eventsQuery), { $ref: '#/components/parameters/LastEventId' }],
          responses: {
            200: eventStream(
              ALL_EVENTS,
              'event: ready\ndata: {}\n\n' +
                'id: 1767225601000.3.7c0c…\nevent: status\ndata: {"taskId":"7c0c…","type":"sleep","status":"succeeded","version":3,' +
                '"attempts":1,"at":"2026-01-01T00:00:01.000Z","progress":null,"error":null}\n\n',
            ),
          },
          errors: ['VALIDATION_FAILED'],
        }),
      },
      '/v1/task-types': {
        get: api({
          id: 'task-types',
          tag: 'task-types',
          summary: 'List task types',
          description:
            'The types executors have registered, with their payload schemas and their settings (paused, limits, ' +
            'retentionSeconds), and the store’s retention defaults (`retention`).',
          responses: {
            200: json('Every registered type.', itemsOf('TaskType', { retention: retentionDefaults })),
          },
          errors: ['DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/task-types/{type}': {
        get: api({
          id: 'task-type',
          tag: 'task-types',
          summary: 'Show a task type',
          description: 'Its definition and its settings, with the burst its rate limit allows.',
          parameters: [typeParam],
          responses: { 200: json('The type.', ref('TaskTypeDetail')) },
          errors: typeErrors,
        }),
        patch: api({
          id: 'update-task-type',
          tag: 'task-types',
          summary: 'Pause or resume a task type, or set its retention',
          description:
            '`{"paused": true}`: no task of the type starts; running ones finish, due ones wait in the store ' +
            '(`heldBy: "paused"`). `{"paused": false}`: the held tasks start again, within the type’s limits. ' +
            '`{"retentionSeconds": 86400}`: its finished tasks are removed a day after they ended (a removed ' +
            'task answers 404); `null` returns to the store’s default. Repeating any of these changes nothing.',
          parameters: [typeParam],
          body: 'TypePatchBody',
          responses: { 200: json('The settings after the change.', ref('TypeSettings')) },
          errors: typeErrors,
        }),
      },
      '/v1/task-types/{type}/limits': {
        get: api({
          id: 'task-type-limits',
          tag: 'task-types',
          summary: 'Show a task type’s settings',
          parameters: [typeParam],
          responses: { 200: json('The settings.', ref('TypeSettings')) },
          errors: typeErrors,
        }),
        put: api({
          id: 'set-task-type-limits',
          tag: 'task-types',
          summary: 'Set or lift a task type’s limits',
          description:
            'A number sets a limit, `null` lifts it, an absent field keeps it. The limits hold across every ' +
            'executor: a due task over the concurrency limit waits in the store (`heldBy: "concurrency"`); ' +
            'over the rate it is given a later start time.',
          parameters: [typeParam],
          body: 'TypeLimitsBody',
          responses: { 200: json('The settings after the change.', ref('TypeSettings')) },
          errors: typeErrors,
        }),
      },
      '/v1/stats': {
        get: api({
          id: 'stats',
          tag: 'meta',
          summary: 'Task counts',
          responses: {
            200: json('Counts by status and type, and outcomes in the last minute.', ref('Stats')),
          },
          errors: ['DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/v1/dead-letters': {
        get: api({
          id: 'dead-letters',
          tag: 'meta',
          summary: 'Dead-lettered messages',
          description:
            '`count`: messages waiting in the dead-letter queue (read passively; `null` when the broker ' +
            'does not answer). `recent`: the latest 50 dead-lettered messages this gateway saw since it ' +
            'started, newest first (a copy from its own queue bound to the dead-letter exchange).',
          responses: { 200: json('The count and the recent ones.', ref('DeadLetters')) },
        }),
      },
      '/v1/workers': {
        get: api({
          id: 'workers',
          tag: 'meta',
          summary: 'Workers seen recently',
          description:
            'Executors holding a lease now (with the tasks they run) or that claimed or finished a task ' +
            'in the last `windowMs`, from the tasks’ leases and history; most recently seen first.',
          responses: { 200: json('The workers.', ref('Workers')) },
          errors: ['DEPENDENCY_UNAVAILABLE'],
        }),
      },
      '/healthz': {
        get: open({
          id: 'healthz',
          tag: 'meta',
          summary: 'Liveness',
          responses: {
            200: json('The process is up.', { type: 'object', properties: { status: { const: 'ok' } } }),
          },
        }),
      },
      '/readyz': {
        get: open({
          id: 'readyz',
          tag: 'meta',
          summary: 'Readiness',
          description:
            'Ready when both the task store and the broker answer, and the gateway is not shutting down.',
          responses: {
            200: json('Ready.', ref('Readiness')),
            503: json('Not ready; the body names what is down.', ref('Readiness')),
          },
        }),
      },
      '/metrics': {
        get: open({
          id: 'metrics',
          tag: 'meta',
          summary: 'Prometheus metrics',
          responses: { 200: text('Prometheus text exposition format.', 'text/plain') },
        }),
      },
      '/openapi.json': {
        get: open({
          id: 'openapi',
          tag: 'docs',
          summary: 'This OpenAPI document',
          responses: { 200: json('OpenAPI 3.1.', { type: 'object' }) },
        }),
      },
      '/docs': {
        get: open({
          id: 'docs',
          tag: 'docs',
          summary: 'API documentation page',
          description: 'Swagger UI for this document; works offline (all assets are served by this server).',
          responses: { 200: text('HTML page.', 'text/html') },
        }),
      },
      '/': {
        get: open({
          id: 'dashboard',
          tag: 'docs',
          summary: 'Operator dashboard',
          description: 'A live dashboard in the browser over this API (no external assets).',
          responses: { 200: text('HTML page.', 'text/html') },
        }),
      },
      '/dashboard/{file}': {
        get: open({
          id: 'dashboard-asset',
          tag: 'docs',
          summary: 'A static asset of the dashboard',
          parameters: [
            { name: 'file', in: 'path', required: true, schema: { enum: ['main.js', 'main.css'] } },
            {
              name: 'v',
              in: 'query',
              required: false,
              description: 'The content hash; a matching one is cached for a year.',
              schema: { type: 'string' },
            },
          ],
          responses: { 200: { description: 'The file (JavaScript or CSS).' } },
          errors: ['ROUTE_NOT_FOUND'],
        }),
      },
      '/docs/assets/{file}': {
        get: open({
          id: 'docs-asset',
          tag: 'docs',
          summary: 'A static asset of the documentation page',
          parameters: [
            {
              name: 'file',
              in: 'path',
              required: true,
              schema: { enum: ['swagger-ui.css', 'swagger-ui-bundle.js'] },
            },
          ],
          responses: { 200: { description: 'The file (CSS or JavaScript).' } },
          errors: ['ROUTE_NOT_FOUND'],
        }),
      },
    },
    components: {
      schemas: {
        CreateTaskBody: createTaskBody,
        BatchBody: batchBody,
        PatchBody: patchBody,
        BulkActionBody: bulkActionBody,
        BulkActionResult: bulkActionResult,
        CreateFlowBody: createFlowBody,
        FlowPatchBody: flowPatchBody,
        Flow: flowSchema,
        FlowSummary: flowSummarySchema,
        CreateScheduleBody: createScheduleBody,
        SchedulePatchBody: schedulePatchBody,
        Schedule: scheduleSchema,
        Task: taskSchema,
        TaskSummary: taskSummarySchema,
        HistoryEntry: historyEntrySchema,
        WebhookDelivery: webhookDeliverySchema,
        RedeliverBody: redeliverBody,
        StatusEvent: statusEvent,
        TaskType: taskType,
        TaskTypeDetail: taskTypeDetail,
        TypeSettings: typeSettingsSchema,
        TypePatchBody: typePatchBody,
        TypeLimitsBody: typeLimitsBody,
        Stats: stats,
        Readiness: {
          type: 'object',
          required: ['store', 'broker'],
          properties: {
            store: { enum: ['up', 'down'] },
            broker: { enum: ['up', 'down'] },
            stopping: { const: true, description: 'Present while the gateway shuts down (always 503).' },
          },
        },
        DeadLetters: {
          type: 'object',
          required: ['count', 'recent'],
          properties: {
            count: { type: 'integer', minimum: 0, description: 'Dead letters recorded in the store.' },
            recent: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  at: { type: 'string', format: 'date-time' },
                  taskId: { type: ['string', 'null'] },
                  type: { type: ['string', 'null'] },
                  kind: { type: ['string', 'null'] },
                  version: {
                    type: ['integer', 'null'],
                    description: 'The task version the message was for.',
                  },
                  reason: {
                    type: 'string',
                    description: "The broker's (delivery_limit) or the executor's (body is not JSON) reason.",
                  },
                  queue: { type: ['string', 'null'] },
                  deliveries: { type: ['integer', 'null'] },
                  outcome: {
                    enum: ['failed', 'moved-on', 'no-task'],
                    description:
                      'failed: its queued task was failed DEAD_LETTERED; moved-on: the task had changed since; no-task: none named.',
                  },
                },
              },
            },
          },
        },
        Workers: {
          type: 'object',
          required: ['items', 'windowMs'],
          properties: {
            windowMs: { type: 'integer' },
            items: {
              type: 'array',
              items: {
                type: 'object',
                required: ['id', 'lastSeen', 'running'],
                properties: {
                  id: { type: 'string' },
                  lastSeen: { type: 'string', format: 'date-time' },
                  running: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        taskId: { type: 'string' },
                        type: { type: 'string' },
                        startedAt: { type: ['string', 'null'] },
                        progress: { type: ['number', 'null'] },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        Problem: problemSchema,
      },
      parameters: {
        TaskId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'A malformed id is answered like an unknown one (404).',
          schema: PARAM_SCHEMAS['tasks.get'].properties.id as object,
        },
        FlowId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'A malformed id is answered like an unknown one (404).',
          schema: PARAM_SCHEMAS['flows.get'].properties.id as object,
        },
        TaskTypeName: {
          name: 'type',
          in: 'path',
          required: true,
          description: 'A type executors registered (GET /v1/task-types).',
          schema: PARAM_SCHEMAS['taskTypes.getSettings'].properties.type as object,
        },
        LastEventId: {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description:
            'The id of the last event received: resume the stream after it (EventSource sends it on reconnect).',
          schema: { type: 'string', maxLength: 200 },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Makes the create safe to repeat: 1-200 visible ASCII characters.',
          schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' },
        },
      },
      headers: {
        RequestId: {
          description: 'The request id (also the `instance` of a problem).',
          schema: { type: 'string' },
        },
        Location: { description: 'The task’s URL, `/v1/tasks/{id}`.', schema: { type: 'string' } },
        RetryAfter: {
          description: 'Seconds to wait before trying again.',
          schema: { type: 'integer', minimum: 0 },
        },
        WwwAuthenticate: { description: '`Bearer realm="tasks"`', schema: { type: 'string' } },
      },
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key from the server’s API_KEYS, sent as `Authorization: Bearer <key>`. ' +
            'Optional when the server runs without API_KEYS (authentication off).',
        },
      },
    },
  };
}
